/**
 * The step functions a flow calls: run, runAction, interrupt, sleep, sleepUntil, poll, waitFor and the
 * deterministic helpers. Each is memoized by its key: a step found in the journal returns (or throws)
 * what it stored without running again.
 */
import { z } from "zod";
import {
  deserializeError,
  formatIssues,
  InvalidArgumentError,
  InvalidPayloadError,
  isFirestepError,
  InterruptTimeoutError,
  PollTimeoutError,
  serializeError,
  StepFailedError,
  StepTimeoutError,
  type SerializedError,
} from "../errors.js";
import { isAction, type Action, type Flow, type FlowOutput } from "../flow.js";
import { cloneData, jsonCopy, storableCopy } from "../json-value.js";
import { isFinished, type HistoryEvent, type StepKind, type StepRecord } from "../schemas.js";
import { currentContext, type InvocationContext, type NextCall } from "./invocation-context.js";
import { toOperation, type Operation } from "./operation.js";
import { backoffSeconds, pollDelaySeconds, PollConfigSchema, resolveRetryConfig, type PollConfig, type RetryConfig } from "./retry-policy.js";
import { isInterruptError, isStopSignal } from "./suspension.js";

export interface RunOptions<T = unknown> {
  name: string;
  retryConfig?: RetryConfig;
  /** Each attempt fails with STEP_TIMEOUT after this many seconds (and may be retried); `signal` aborts. */
  timeoutSeconds?: number;
  /** Runs when the step has failed for good (after its retries); what it returns becomes the step's value. */
  fallback?: (error: Error) => Promise<T> | T;
  /** Undoes the step: run, newest first, when the flow later fails or is cancelled. */
  compensate?: (value: T) => Promise<unknown> | unknown;
}

/** What a step function is told about the attempt it runs in. */
export interface StepAttempt {
  /** 1 on the first try, 2 on the first retry, ... */
  attempt: number;
  /** Aborted when the attempt times out (timeoutSeconds). */
  signal: AbortSignal;
}

/** Runs `fn` once and memoizes its result; on replay returns the stored result without calling `fn`. */
export function run<T>(nameOrOptions: string | RunOptions<T>, fn: (attempt: StepAttempt) => Promise<T> | T): Promise<T> {
  const ctx = currentContext("run");
  const opts: RunOptions<T> = typeof nameOrOptions === "string" ? { name: nameOrOptions } : nameOrOptions;
  if (typeof fn !== "function") throw new InvalidArgumentError(`run("${opts?.name}") needs a function as its second argument.`);
  if (opts.timeoutSeconds !== undefined && !(opts.timeoutSeconds > 0)) {
    throw new InvalidArgumentError(`timeoutSeconds of step "${opts.name}" must be a positive number of seconds.`);
  }
  const retryConfig = opts.retryConfig ?? ctx.flow.defaultRetryConfig;
  return startStep(ctx, "run", opts, (next) => executeStep(ctx, "run", next, opts, retryConfig, fn));
}

/** Runs a Genkit-style action as a memoized step, validating its input and output with its schemas. */
export function runAction<I extends z.ZodType, O extends z.ZodType>(
  act: Action<I, O>,
  input: z.input<I>,
  config?: { name?: string; retryConfig?: RetryConfig },
): Promise<z.output<O>> {
  const ctx = currentContext("runAction");
  if (!isAction(act)) throw new InvalidArgumentError("runAction() needs an action made with action({ name, input, output }, fn).");
  const opts = { name: config?.name ?? act.name };
  const retryConfig = config?.retryConfig ?? ctx.flow.defaultRetryConfig;
  return startStep(ctx, "action", opts, (next) =>
    executeStep(ctx, "action", next, opts, retryConfig, async () => {
      const parsedIn = act.inputSchema.safeParse(input);
      if (!parsedIn.success) throw new InvalidPayloadError(`Input of action "${act.name}"`, formatIssues(parsedIn.error));
      const out = await act.fn(parsedIn.data);
      const parsedOut = act.outputSchema.safeParse(out);
      if (!parsedOut.success) throw new InvalidPayloadError(`Output of action "${act.name}"`, formatIssues(parsedOut.error));
      return parsedOut.data as z.output<O>;
    }),
  );
}

/**
 * Finds the step's journal entry: a completed step settles at once (a replay costs no async function), one
 * not yet run is executed. A replay-order error rejects the step's promise, as if thrown inside it.
 */
function startStep<T>(ctx: InvocationContext, kind: StepKind, opts: RunOptions<T>, execute: (next: NextCall) => Promise<T>): Promise<T> {
  let next: NextCall;
  try {
    next = ctx.nextCall(opts.name, kind);
  } catch (e) {
    return ctx.track(Promise.reject(e));
  }
  const done = next.done;
  if (!done) return ctx.track(execute(next));
  if (!done.ok) return ctx.track(Promise.reject(stepError(done)));
  if (opts.compensate) ctx.addCompensation(next.key, opts.name, () => opts.compensate!(journalValue<T>(done)));
  return Promise.resolve(journalValue<T>(done));
}

/**
 * Every run and action goes through here, so it is written for speed: no object spreads, and a step
 * function that returns a plain value is not awaited.
 */
async function executeStep<T>(
  ctx: InvocationContext,
  kind: StepKind,
  { key, call }: NextCall,
  opts: RunOptions<T>,
  retryConfig: RetryConfig | undefined,
  fn: (attempt: StepAttempt) => Promise<T> | T,
): Promise<T> {
  const name = opts.name;
  const policy = retryConfig ? resolveRetryConfig(name, retryConfig) : undefined;
  const prior = ctx.progress[key];
  const attempt = prior ? prior.attempts + 1 : 1;
  const startedAt = ctx.io.now();
  if (ctx.live) ctx.event({ at: startedAt, type: "step.started", step: key, attempt }, false);
  let value: T;
  let via: "fallback" | undefined;
  try {
    if (opts.timeoutSeconds === undefined) {
      const result = fn({ attempt, signal: NEVER_ABORTED });
      value = isThenable(result) ? await result : result;
    } else {
      value = await withTimeout(name, opts.timeoutSeconds, (signal) => fn({ attempt, signal }));
    }
  } catch (e) {
    if (isInterruptError(e) || isStopSignal(e)) throw e;
    const failure = serializeError(e);
    const retriable = !(isFirestepError(e) && e.code === "NON_RETRIABLE");
    if (policy && retriable && attempt < policy.maxAttempts) {
      const until = ctx.io.now() + backoffSeconds(policy, attempt) * 1000;
      ctx.progress[key] = { attempts: attempt, firstAt: prior?.firstAt ?? startedAt };
      ctx.event({ type: "step.retrying", step: key, attempt, durationMs: ctx.io.now() - startedAt, detail: failure.message });
      throw ctx.suspend({ kind: "retry", step: key, until, attempt: attempt + 1 });
    }
    let finalError: SerializedError = failure;
    if (opts.fallback) {
      try {
        value = await opts.fallback(deserializeError(failure));
        via = "fallback";
      } catch (fallbackError) {
        if (isInterruptError(fallbackError) || isStopSignal(fallbackError)) throw fallbackError;
        finalError = serializeError(fallbackError);
      }
    }
    if (via !== "fallback") {
      const step = ctx.newStep({ call, key, name, kind, ok: false, error: finalError, attempts: attempt, startedAt, endedAt: ctx.io.now() });
      if (prior) delete ctx.progress[key];
      ctx.event({ type: "step.failed", step: key, attempt, durationMs: step.endedAt - startedAt, detail: finalError.message });
      await ctx.persist(step);
      throw stepError(step);
    }
  }
  const stored = storableCopy(name, value!, ctx.io.maxValueBytes);
  const endedAt = ctx.io.now();
  const fields: Omit<StepRecord, "seq"> = { call, key, name, kind, ok: true, attempts: attempt, startedAt, endedAt };
  if (stored !== undefined) fields.value = stored;
  if (via) fields.via = via;
  const step = ctx.newStep(fields);
  if (prior) delete ctx.progress[key];
  const completed: Omit<HistoryEvent, "at"> & { at: number } = { at: endedAt, type: "step.completed", step: key, attempt, durationMs: endedAt - startedAt };
  if (via) completed.detail = "value from fallback";
  ctx.event(completed);
  await ctx.persist(step);
  if (opts.compensate) ctx.addCompensation(key, name, () => opts.compensate!(stored));
  return stored;
}

function isThenable<T>(v: Promise<T> | T): v is Promise<T> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/** A signal that never aborts, shared by every step without a timeout (one AbortController per step costs). */
const NEVER_ABORTED = new AbortController().signal;

async function withTimeout<T>(step: string, seconds: number, fn: (signal: AbortSignal) => Promise<T> | T): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new StepTimeoutError(step, seconds);
      controller.abort(e);
      reject(e);
    }, seconds * 1000);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => fn(controller.signal)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function replay<T>(step: StepRecord): T {
  if (step.ok) return journalValue<T>(step);
  throw stepError(step);
}

/** The flow's own copy of a stored step's value (journal entries are shared with the store, and frozen). */
export function journalValue<T>(step: StepRecord): T {
  return cloneData(step.value) as T;
}

/** A step that failed for good is thrown into the flow as the error it failed with (rebuilt), so a catch sees the same thing on replay. */
function stepError(step: StepRecord): Error {
  const error = cloneData(step.error ?? { name: "Error", code: "USER_ERROR", message: "step failed" });
  const original = deserializeError(error);
  if (step.attempts > 1 && (step.kind === "run" || step.kind === "action")) return Object.assign(new StepFailedError(step.name, step.attempts, error), { cause: original });
  return original;
}

export interface InterruptOptions<T> {
  /** Give up waiting after this many seconds: resolve with `timeoutValue` if given, else fail with INTERRUPT_TIMEOUT. */
  timeoutSeconds?: number;
  timeoutValue?: T;
}

/**
 * Suspends the flow until `resumeFlow` delivers a payload that `schema` accepts; returns that payload.
 * A payload the schema rejects leaves the flow blocked here.
 */
export async function interrupt<S extends z.ZodType>(name: string, schema: S, options: InterruptOptions<z.output<S>> = {}): Promise<z.output<S>> {
  const ctx = currentContext("interrupt");
  if (options.timeoutSeconds !== undefined && !(options.timeoutSeconds > 0)) {
    throw new InvalidArgumentError(`timeoutSeconds of interrupt "${name}" must be a positive number of seconds.`);
  }
  const { key, call, done } = ctx.nextCall(name, "interrupt");
  if (done) {
    if (ctx.inbox[key]) ctx.consumedInbox.add(key);
    return replay(done);
  }
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
      return value as z.output<S>;
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
  throw ctx.suspend({ kind: "interrupt", step: key, name, ...schemaField(schema), ...(until !== undefined ? { until } : {}) });
}

function schemaField(schema: z.ZodType): { schema?: unknown } {
  try {
    return { schema: z.toJSONSchema(schema, { unrepresentable: "any" }) };
  } catch {
    return {};
  }
}

/** Suspends the flow for `seconds` (durably: the wake time is stored, the flow is re-run after it). */
export function sleep(name: string, seconds: number): Promise<void> {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
    return Promise.reject(new InvalidArgumentError(`sleep("${name}") needs a number of seconds >= 0; got ${String(seconds)}.`));
  }
  return sleepStep("sleep", name, (ctx) => ctx.io.now() + seconds * 1000);
}

/** Suspends the flow until `date`. */
export function sleepUntil(name: string, date: Date | number | string): Promise<void> {
  const at = new Date(date).getTime();
  if (!Number.isFinite(at)) return Promise.reject(new InvalidArgumentError(`sleepUntil("${name}") needs a valid date; got ${String(date)}.`));
  return sleepStep("sleepUntil", name, () => at);
}

/** A sleep that is over settles at once (replays of past sleeps are the common case); any other suspends the flow. */
function sleepStep(what: string, name: string, untilFn: (ctx: InvocationContext) => number): Promise<void> {
  let ctx: InvocationContext | undefined;
  try {
    ctx = currentContext(what);
    const { key, call, done } = ctx.nextCall(name, "sleep");
    let until: number;
    if (done) {
      until = (done.value as { until: number }).until;
      if (ctx.io.now() >= until) return Promise.resolve();
    } else {
      const now = ctx.io.now();
      until = untilFn(ctx);
      const step = ctx.newStep({ call, key, name, kind: "sleep", ok: true, value: { until }, attempts: 1, startedAt: now, endedAt: now });
      ctx.deferredSteps.push(step);
      ctx.event({ type: "step.slept", step: key, detail: new Date(until).toISOString() });
    }
    throw ctx.suspend({ kind: "sleep", step: key, until });
  } catch (e) {
    const rejected = Promise.reject(e);
    return ctx ? ctx.track(rejected) : rejected;
  }
}

/** Calls `fn` every period (durably: between rounds the flow is suspended) until it returns true. */
export async function poll(config: PollConfig, fn: () => Promise<boolean> | boolean): Promise<void> {
  const ctx = currentContext("poll");
  const parsed = PollConfigSchema.safeParse(config);
  if (!parsed.success) throw new InvalidArgumentError(`poll() config is invalid: ${formatIssues(parsed.error)}.`);
  const c = parsed.data;
  return ctx.track(
    (async () => {
      const { key, call, done } = ctx.nextCall(c.name, "poll");
      if (done) return void replay(done);
      const prior = ctx.progress[key];
      const now = ctx.io.now();
      const firstAt = prior?.firstAt ?? now;
      const round = (prior?.attempts ?? 0) + 1;
      const deadline = c.timeoutSeconds === undefined ? Infinity : firstAt + c.timeoutSeconds * 1000;
      let ok: boolean;
      try {
        ok = (await fn()) === true;
      } catch (e) {
        if (isInterruptError(e) || isStopSignal(e)) throw e;
        const step = ctx.newStep({ call, key, name: c.name, kind: "poll", ok: false, error: serializeError(e), attempts: round, startedAt: firstAt, endedAt: ctx.io.now() });
        delete ctx.progress[key];
        await ctx.persist(step);
        throw stepError(step);
      }
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
      throw ctx.suspend({ kind: "poll", step: key, until, attempt: round + 1 });
    })(),
  );
}

/** Waits until the flows with `ids` have finished; returns their operations in the same order. */
export async function waitFor<F extends Flow>(name: string, _flow: F | { flow: F }, ids: string[]): Promise<Array<Operation<FlowOutput<F>>>> {
  const ctx = currentContext("waitFor");
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string" || !id)) {
    throw new InvalidArgumentError(`waitFor("${name}") needs an array of flow ids.`);
  }
  return ctx.track(
    (async () => {
      const { key, call, done } = ctx.nextCall(name, "waitFor");
      if (done) return replay<Array<Operation<FlowOutput<F>>>>(done);
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
        return value;
      }
      const prior = ctx.progress[key];
      const round = (prior?.attempts ?? 0) + 1;
      ctx.progress[key] = { attempts: round, firstAt: prior?.firstAt ?? now };
      // Finishing flows wake their waiters through the queue; this period is only a safety net.
      const until = now + Math.min(60, 2 ** Math.min(round, 6)) * 1000;
      throw ctx.suspend({ kind: "flows", step: key, flowIds: open, until });
    })(),
  );
}

/** Memoizes a value computed by `fn` (e.g. an id or a timestamp) so replays see the same value. */
function valueStep<T>(what: string, name: string | undefined, fn: () => T): Promise<T> {
  const ctx = currentContext(what);
  return ctx.track(
    (async () => {
      const { key, call, done } = ctx.nextCall(name ?? `$${what}`, "value");
      if (done) return replay<T>(done);
      const now = ctx.io.now();
      const value = fn();
      const step = ctx.newStep({ call, key, name: name ?? `$${what}`, kind: "value", ok: true, value, attempts: 1, startedAt: now, endedAt: now });
      await ctx.persist(step);
      return value;
    })(),
  );
}

/** The current time (epoch ms), fixed at first run so replays decide the same way. */
export function now(name?: string): Promise<number> {
  const ctx = currentContext("now");
  return valueStep("now", name, () => ctx.io.now());
}

/** A random UUID, fixed at first run. */
export function uuid(name?: string): Promise<string> {
  return valueStep("uuid", name, () => crypto.randomUUID());
}

/** A random number in [0, 1), fixed at first run. */
export function random(name?: string): Promise<number> {
  return valueStep("random", name, () => Math.random());
}
