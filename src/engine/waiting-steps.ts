/**
 * The steps that wait: interrupt, sleep, sleepUntil, poll and waitFor. A completed one replays from the
 * journal; one that must wait parks (see InvocationContext.park) and is tried again when the flow wakes,
 * whether the execution was kept warm or replayed.
 */
import { z } from "zod";
import { formatIssues, InterruptSwallowedError, InterruptTimeoutError, InvalidArgumentError, PollTimeoutError, serializeError, showValue } from "../errors.js";
import type { Flow, FlowOutput } from "../flow.js";
import { schemaField } from "../json-schema.js";
import { jsonCopy } from "../json-value.js";
import { isFinished } from "../schemas.js";
import { currentContext, inStepScope, type InvocationContext, type NextCall, type StepScope } from "./invocation-context.js";
import { toOperation, type Operation } from "./operation.js";
import { pollDelaySeconds, PollConfigSchema, type PollConfig } from "./retry-policy.js";
import { journalStep, replay, stepError } from "./steps.js";
import { isInterruptError, isStopSignal } from "./suspension.js";
import { isWaitSeconds, MAX_WAIT_SECONDS, MAX_WAIT_TEXT } from "./wait-bound.js";

export interface InterruptOptions<T> {
  /** Give up waiting after this many seconds: resolve with `timeoutValue` if given, else fail with INTERRUPT_TIMEOUT. */
  timeoutSeconds?: number;
  timeoutValue?: T;
}

/**
 * Waits until `resumeFlow` delivers a payload that `schema` accepts; returns that payload. A payload the
 * schema rejects leaves the flow waiting here.
 */
export async function interrupt<S extends z.ZodType>(name: string, schema: S, options: InterruptOptions<z.output<S>> = {}): Promise<z.output<S>> {
  const ctx = currentContext("interrupt");
  if (options.timeoutSeconds !== undefined && !(isWaitSeconds(options.timeoutSeconds) && options.timeoutSeconds > 0)) {
    throw new InvalidArgumentError(`timeoutSeconds of interrupt "${name}" must be a number above 0 and at most ${MAX_WAIT_TEXT}; got ${showValue(options.timeoutSeconds)}.`);
  }
  return journalStep(ctx, name, "interrupt", (done, key) => {
    if (ctx.inbox[key]) ctx.consumedInbox.add(key);
    return replay<z.output<S>>(done);
  }, (next) => awaitInterrupt(ctx, next, name, schema, options));
}

async function awaitInterrupt<S extends z.ZodType>(ctx: InvocationContext, next: NextCall, name: string, schema: S, options: InterruptOptions<z.output<S>>): Promise<z.output<S>> {
  ctx.activity.begin();
  try {
    const { key, call } = next;
    const now = ctx.io.now();
    const firstAt = ctx.progress[key]?.firstAt ?? now;
    const delivered = ctx.inbox[key];
    if (delivered) {
      ctx.consumedInbox.add(key);
      const parsed = schema.safeParse(delivered.value);
      if (parsed.success) {
        const value = jsonCopy(parsed.data);
        const step = ctx.newStep({ call, key, name, kind: "interrupt", ok: true, ...(value === undefined ? {} : { value }), attempts: 1, startedAt: firstAt, endedAt: now });
        delete ctx.progress[key];
        ctx.event({ type: "step.completed", step: key, durationMs: step.endedAt - firstAt });
        await ctx.persist(step);
        return replay<z.output<S>>(step);
      }
      ctx.event({ type: "step.failed", step: key, detail: `resume payload rejected: ${formatIssues(parsed.error)}` });
    }
    const until = options.timeoutSeconds === undefined ? undefined : firstAt + options.timeoutSeconds * 1000;
    if (until !== undefined && now >= until) {
      const timedOut = "timeoutValue" in options;
      const step = timedOut
        ? ctx.newStep({ call, key, name, kind: "interrupt", ok: true, ...(options.timeoutValue === undefined ? {} : { value: jsonCopy(options.timeoutValue) }), attempts: 1, startedAt: firstAt, endedAt: now })
        : ctx.newStep({ call, key, name, kind: "interrupt", ok: false, error: serializeError(new InterruptTimeoutError(name, options.timeoutSeconds!)), attempts: 1, startedAt: firstAt, endedAt: now });
      delete ctx.progress[key];
      ctx.event({ type: timedOut ? "step.completed" : "step.failed", step: key, detail: "interrupt timed out" });
      await ctx.persist(step);
      return replay(step);
    }
    ctx.progress[key] = { attempts: 0, firstAt };
    ctx.event({ type: "step.interrupted", step: key });
    const wait = { kind: "interrupt" as const, step: key, name, ...schemaField(schema), ...(until !== undefined ? { until } : {}) };
    return ctx.park(call, wait, () => awaitInterrupt(ctx, next, name, schema, options));
  } finally {
    ctx.activity.end();
  }
}

/** Suspends the flow for `seconds` (durably: the wake time is stored, the flow is re-run after it). At most 100 years. */
export function sleep(name: string, seconds: number): Promise<void> {
  if (!isWaitSeconds(seconds)) {
    return Promise.reject(new InvalidArgumentError(`sleep("${name}") needs a number from 0 to ${MAX_WAIT_TEXT}; got ${showValue(seconds)}.`));
  }
  return sleepStep("sleep", name, (ctx) => ctx.io.now() + seconds * 1000);
}

/** Suspends the flow until `date`: at most 100 years from now (a date already past wakes it at once). */
export function sleepUntil(name: string, date: Date | number | string): Promise<void> {
  const at = new Date(date).getTime();
  if (!Number.isFinite(at)) return Promise.reject(new InvalidArgumentError(`sleepUntil("${name}") needs a valid date; got ${showValue(date)}.`));
  return sleepStep("sleepUntil", name, (ctx) => {
    if (at - ctx.io.now() > MAX_WAIT_SECONDS * 1000) {
      throw new InvalidArgumentError(`sleepUntil("${name}") needs a date at most ${MAX_WAIT_TEXT} from now; got ${new Date(at).toISOString()}.`);
    }
    return at;
  });
}

/** A sleep that is over settles at once (replays of past sleeps are the common case); any other parks the flow. */
function sleepStep(what: string, name: string, untilFn: (ctx: InvocationContext) => number): Promise<void> {
  let ctx: InvocationContext | undefined;
  try {
    ctx = currentContext(what);
    const { key, call, done } = ctx.nextCall(name, "sleep");
    let until: number;
    if (done) {
      until = (done.value as { until: number }).until;
    } else {
      const now = ctx.io.now();
      until = untilFn(ctx);
      const step = ctx.newStep({ call, key, name, kind: "sleep", ok: true, value: { until }, attempts: 1, startedAt: now, endedAt: now });
      ctx.deferredSteps.push(step);
      ctx.event({ type: "step.slept", step: key, detail: new Date(until).toISOString() });
      // A new sleep always suspends, even one already over: its wake time is stored with the suspension.
      return parkSleep(ctx, call, key, until);
    }
    return sleepOver(ctx, call, key, until);
  } catch (e) {
    const rejected = Promise.reject(e);
    return ctx ? ctx.activity.track(rejected) : rejected;
  }
}

function sleepOver(ctx: InvocationContext, call: number, key: string, until: number): Promise<void> {
  return ctx.io.now() >= until ? Promise.resolve() : parkSleep(ctx, call, key, until);
}

function parkSleep(ctx: InvocationContext, call: number, key: string, until: number): Promise<void> {
  return ctx.park(call, { kind: "sleep", step: key, until }, () => {
    try {
      return sleepOver(ctx, call, key, until);
    } catch (e) {
      return ctx.activity.track(Promise.reject(e));
    }
  });
}

/** Calls `fn` every period (durably: between rounds the flow waits) until it returns true. */
export async function poll(config: PollConfig, fn: () => Promise<boolean> | boolean): Promise<void> {
  const ctx = currentContext("poll");
  const parsed = PollConfigSchema.safeParse(config);
  if (!parsed.success) {
    const name = typeof (config as { name?: unknown } | undefined)?.name === "string" ? `poll("${config.name}")` : "poll()";
    throw new InvalidArgumentError(`${name} config is invalid: ${formatIssues(parsed.error)}.`);
  }
  const c = parsed.data;
  return journalStep(ctx, c.name, "poll", (done) => void replay(done), (next) => pollRound(ctx, next, c, fn));
}

async function pollRound(ctx: InvocationContext, next: NextCall, c: PollConfig, fn: () => Promise<boolean> | boolean): Promise<void> {
  ctx.activity.begin();
  try {
    const { key, call } = next;
    const prior = ctx.progress[key];
    const now = ctx.io.now();
    const firstAt = prior?.firstAt ?? now;
    const round = (prior?.attempts ?? 0) + 1;
    const deadline = c.timeoutSeconds === undefined ? Infinity : firstAt + c.timeoutSeconds * 1000;
    const scope: StepScope = { ctx, suspended: false };
    let ok: boolean;
    try {
      ok = (await inStepScope(scope, fn, undefined)) === true;
    } catch (e) {
      if (isInterruptError(e)) return ctx.park(call, e.wait, () => pollRound(ctx, next, c, fn));
      if (isStopSignal(e)) throw e;
      const step = ctx.newStep({ call, key, name: c.name, kind: "poll", ok: false, error: serializeError(e), attempts: round, startedAt: firstAt, endedAt: ctx.io.now() });
      delete ctx.progress[key];
      await ctx.persist(step);
      throw stepError(step);
    }
    if (scope.suspended) throw new InterruptSwallowedError(c.name);
    const after = ctx.io.now();
    if (ok || after >= deadline) {
      const step = ok
        ? ctx.newStep({ call, key, name: c.name, kind: "poll", ok: true, attempts: round, startedAt: firstAt, endedAt: after })
        : ctx.newStep({ call, key, name: c.name, kind: "poll", ok: false, error: serializeError(new PollTimeoutError(c.name, c.timeoutSeconds!)), attempts: round, startedAt: firstAt, endedAt: after });
      delete ctx.progress[key];
      ctx.event({ type: ok ? "step.completed" : "step.failed", step: key, attempt: round, durationMs: after - firstAt });
      await ctx.persist(step);
      return void replay(step);
    }
    ctx.progress[key] = { attempts: round, firstAt };
    const until = Math.min(after + pollDelaySeconds(c, round) * 1000, deadline);
    ctx.event({ type: "step.polled", step: key, attempt: round });
    return ctx.park(call, { kind: "poll", step: key, until, attempt: round + 1 }, () => pollRound(ctx, next, c, fn));
  } finally {
    ctx.activity.end();
  }
}

/** Waits until the flows with `ids` have finished; returns their operations in the same order. */
export async function waitFor<F extends Flow>(name: string, _flow: F | { flow: F }, ids: string[]): Promise<Array<Operation<FlowOutput<F>>>> {
  const ctx = currentContext("waitFor");
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string" || !id)) {
    throw new InvalidArgumentError(`waitFor("${name}") needs an array of flow ids.`);
  }
  if (ids.includes(ctx.record.id)) {
    throw new InvalidArgumentError(`waitFor("${name}") cannot wait for flow "${ctx.record.id}" itself: it would never finish. Wait only for other flows.`);
  }
  return journalStep(ctx, name, "waitFor", (done) => replay<Array<Operation<FlowOutput<F>>>>(done), (next) => awaitFlowsDone<F>(ctx, next, name, ids));
}

async function awaitFlowsDone<F extends Flow>(ctx: InvocationContext, next: NextCall, name: string, ids: string[]): Promise<Array<Operation<FlowOutput<F>>>> {
  ctx.activity.begin();
  try {
    const { key, call } = next;
    const records = await ctx.io.readFlows(ids);
    const missing = ids.filter((_, i) => !records[i]);
    if (missing.length) throw new InvalidArgumentError(`waitFor("${name}"): no flow with id ${missing.map((m) => `"${m}"`).join(", ")}.`);
    const open = records.filter((r) => !isFinished(r!.status)).map((r) => r!.id);
    const now = ctx.io.now();
    if (open.length === 0) {
      const value = jsonCopy(records.map((r) => toOperation<FlowOutput<F>>(r!)));
      const step = ctx.newStep({ call, key, name, kind: "waitFor", ok: true, value, attempts: 1, startedAt: ctx.progress[key]?.firstAt ?? now, endedAt: now });
      delete ctx.progress[key];
      ctx.event({ type: "step.completed", step: key });
      await ctx.persist(step);
      return replay<Array<Operation<FlowOutput<F>>>>(step);
    }
    const prior = ctx.progress[key];
    const round = (prior?.attempts ?? 0) + 1;
    ctx.progress[key] = { attempts: round, firstAt: prior?.firstAt ?? now };
    // Finishing flows wake their waiters through the queue; this period is only a safety net.
    const until = now + Math.min(60, 2 ** Math.min(round, 6)) * 1000;
    return ctx.park(call, { kind: "flows", step: key, flowIds: open, until }, () => awaitFlowsDone<F>(ctx, next, name, ids));
  } finally {
    ctx.activity.end();
  }
}
