/**
 * The step functions a flow calls to do work: run, runAction and the deterministic helpers (now, uuid,
 * random). Each is memoized by its key: a step found in the journal returns (or throws) what it stored
 * without running again. The steps that wait are in waiting-steps.ts.
 */
import { z } from "zod";
import {
  deserializeError,
  formatIssues,
  InvalidArgumentError,
  InvalidPayloadError,
  isFirestepError,
  InterruptSwallowedError,
  serializeError,
  StepFailedError,
  StepTimeoutError,
  type SerializedError,
} from "../errors.js";
import { isAction, type Action } from "../flow.js";
import { cloneData, storableCopyExact } from "../json-value.js";
import { setLongTimeout } from "../long-timeout.js";
import type { HistoryEvent, StepKind, StepRecord } from "../schemas.js";
import { currentContext, inStepScope, type InvocationContext, type NextCall, type StepScope } from "./invocation-context.js";
import { backoffSeconds, resolveRetryConfig, type ResolvedRetryConfig, type RetryConfig } from "./retry-policy.js";
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
  const policy = retryPolicy(opts.name, opts.retryConfig ?? ctx.flow.defaultRetryConfig);
  return startStep(ctx, "run", opts, (next) => executeStep(ctx, "run", next, opts, policy, fn));
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
  const policy = retryPolicy(opts.name, config?.retryConfig ?? ctx.flow.defaultRetryConfig);
  return startStep(ctx, "action", opts, (next) =>
    executeStep(ctx, "action", next, opts, policy, async () => {
      const parsedIn = act.inputSchema.safeParse(input);
      if (!parsedIn.success) throw new InvalidPayloadError(`Input of action "${act.name}"`, formatIssues(parsedIn.error));
      const out = await act.fn(parsedIn.data);
      const parsedOut = act.outputSchema.safeParse(out);
      if (!parsedOut.success) throw new InvalidPayloadError(`Output of action "${act.name}"`, formatIssues(parsedOut.error));
      return parsedOut.data as z.output<O>;
    }),
  );
}

/** The step's retry policy, checked when the step is called (a bad config fails before the step runs). */
function retryPolicy(step: string, config: RetryConfig | undefined): ResolvedRetryConfig | undefined {
  return config ? resolveRetryConfig(step, config) : undefined;
}

/** Finds the step's journal entry: a completed step replays (and registers its undo), one not yet run is executed. */
function startStep<T>(ctx: InvocationContext, kind: StepKind, opts: RunOptions<T>, execute: (next: NextCall) => Promise<T>): Promise<T> {
  return journalStep(
    ctx,
    opts.name,
    kind,
    (done, key) => {
      const value = replay<T>(done);
      if (opts.compensate) ctx.addCompensation(key, opts.name, () => opts.compensate!(journalValue<T>(done)));
      return value;
    },
    execute,
  );
}

/**
 * Looks a step up in the journal: a completed one settles at once through `replayDone` (a replay costs no
 * async function), any other runs `evaluate` (which may park). Errors, a replay-order error included,
 * reject the step's promise, as if thrown inside it.
 */
export function journalStep<T>(
  ctx: InvocationContext,
  name: string,
  kind: StepKind,
  replayDone: (done: StepRecord, key: string) => T,
  evaluate: (next: NextCall) => Promise<T>,
): Promise<T> {
  try {
    const next = ctx.nextCall(name, kind);
    if (next.done) return Promise.resolve(replayDone(next.done, next.key));
    return ctx.activity.handled(evaluate(next));
  } catch (e) {
    return ctx.activity.track(Promise.reject(e));
  }
}

/** What a step run for the first time needs on its way: its call, options, attempt and when it started. */
interface Execution<T> {
  ctx: InvocationContext;
  kind: StepKind;
  next: NextCall;
  opts: RunOptions<T>;
  policy: ResolvedRetryConfig | undefined;
  fn: (attempt: StepAttempt) => Promise<T> | T;
  attempt: number;
  startedAt: number;
  scope: StepScope;
  /** What the flow gets once the step is stored: what the function returned, or a copy where JSON changes it. */
  result: T | undefined;
  /** The size of the stored value as JSON, once the step completed. */
  bytes: number;
}

/**
 * Every run and action goes through here, so it is written for speed: no object spreads, and a step
 * function that returns a plain value is finished without an async function (each promise costs, as
 * AsyncLocalStorage hooks every one). Anything else, a failure included, goes on in `settleStep`.
 */
function executeStep<T>(
  ctx: InvocationContext,
  kind: StepKind,
  next: NextCall,
  opts: RunOptions<T>,
  policy: ResolvedRetryConfig | undefined,
  fn: (attempt: StepAttempt) => Promise<T> | T,
): Promise<T> {
  ctx.activity.begin();
  const prior = ctx.progress[next.key];
  const attempt = prior ? prior.attempts + 1 : 1;
  const startedAt = ctx.io.now();
  if (ctx.live) ctx.event({ at: startedAt, type: "step.started", step: next.key, attempt }, false);
  const x: Execution<T> = { ctx, kind, next, opts, policy, fn, attempt, startedAt, scope: { ctx, suspended: false }, result: undefined, bytes: 0 };
  let result: Promise<T> | T;
  try {
    result =
      opts.timeoutSeconds === undefined
        ? inStepScope(x.scope, fn, { attempt, signal: NEVER_ABORTED })
        : inStepScope(x.scope, (s: number) => withTimeout(ctx.io.setTimer ?? setLongTimeout, opts.name, s, (signal) => fn({ attempt, signal })), opts.timeoutSeconds);
  } catch (e) {
    result = Promise.reject(e);
  }
  if (isThenable(result)) return settleStep(x, result);
  let step: StepRecord;
  try {
    step = completeStep(x, result, undefined);
  } catch (e) {
    ctx.activity.end();
    return Promise.reject(e);
  }
  return ctx.persist(step, x.bytes).then(
    () => {
      ctx.activity.end();
      return storedValue(x, step);
    },
    (e: unknown) => {
      ctx.activity.end();
      throw e;
    },
  );
}

/** The rest of a step whose function returned a promise or threw: retries park the step, a fallback may stand in. */
async function settleStep<T>(x: Execution<T>, result: Promise<T>): Promise<T> {
  const { ctx, kind, next, opts, policy, fn, attempt, startedAt } = x;
  try {
    const { key, call } = next;
    const name = opts.name;
    const prior = ctx.progress[key];
    let value: T;
    let via: "fallback" | undefined;
    try {
      value = await result;
    } catch (e) {
      if (isInterruptError(e)) return ctx.park(call, e.wait, () => executeStep(ctx, kind, next, opts, policy, fn));
      if (isStopSignal(e)) throw e;
      const failure = serializeError(e);
      const retriable = !(isFirestepError(e) && e.code === "NON_RETRIABLE");
      if (policy && retriable && attempt < policy.maxAttempts) {
        const until = ctx.io.now() + backoffSeconds(policy, attempt) * 1000;
        ctx.progress[key] = { attempts: attempt, firstAt: prior?.firstAt ?? startedAt };
        ctx.event({ type: "step.retrying", step: key, attempt, durationMs: ctx.io.now() - startedAt, detail: failure.message });
        return ctx.park(call, { kind: "retry", step: key, until, attempt: attempt + 1 }, () => executeStep(ctx, kind, next, opts, policy, fn));
      }
      let finalError: SerializedError = failure;
      if (opts.fallback) {
        try {
          value = await inStepScope(x.scope, opts.fallback, deserializeError(failure));
          via = "fallback";
        } catch (fallbackError) {
          if (isInterruptError(fallbackError)) return ctx.park(call, fallbackError.wait, () => executeStep(ctx, kind, next, opts, policy, fn));
          if (isStopSignal(fallbackError)) throw fallbackError;
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
    const step = completeStep(x, value!, via);
    await ctx.persist(step, x.bytes);
    return storedValue(x, step);
  } finally {
    ctx.activity.end();
  }
}

/**
 * Records a step's value as its journal entry (not yet stored). The entry holds a copy, which the store
 * takes over; the flow gets the value itself when that reads back the same, so one copy does for both.
 */
function completeStep<T>(x: Execution<T>, value: T, via: "fallback" | undefined): StepRecord {
  const { ctx, next, opts, attempt, startedAt } = x;
  const { key, call } = next;
  const name = opts.name;
  if (x.scope.suspended) throw new InterruptSwallowedError(name);
  const { copy: stored, exact, bytes } = storableCopyExact(name, value, ctx.io.maxValueBytes);
  x.result = exact ? value : cloneData(stored);
  x.bytes = bytes;
  const endedAt = ctx.io.now();
  const fields: Omit<StepRecord, "seq"> = { call, key, name, kind: x.kind, ok: true, attempts: attempt, startedAt, endedAt };
  if (stored !== undefined) fields.value = stored;
  if (via) fields.via = via;
  if (opts.compensate) fields.undo = true;
  const step = ctx.newStep(fields);
  if (ctx.progress[key]) delete ctx.progress[key];
  const completed: Omit<HistoryEvent, "at"> & { at: number } = { at: endedAt, type: "step.completed", step: key, attempt, durationMs: endedAt - startedAt };
  if (via) completed.detail = "value from fallback";
  ctx.event(completed);
  return step;
}

/** What the flow gets from a step once its entry is stored; its undo, which gets its own copy, is registered then. */
function storedValue<T>(x: Execution<T>, step: StepRecord): T {
  if (x.opts.compensate) x.ctx.addCompensation(x.next.key, x.opts.name, () => x.opts.compensate!(journalValue<T>(step)));
  return x.result as T;
}

function isThenable<T>(v: Promise<T> | T): v is Promise<T> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/** A signal that never aborts, shared by every step without a timeout (one AbortController per step costs). */
const NEVER_ABORTED = new AbortController().signal;

/** `setTimer` is the runtime's clock, so a test runner's fake clock times a step out as it does a sleep. */
async function withTimeout<T>(
  setTimer: (ms: number, fn: () => void) => () => void,
  step: string,
  seconds: number,
  fn: (signal: AbortSignal) => Promise<T> | T,
): Promise<T> {
  const controller = new AbortController();
  let cancel = () => {};
  const timeout = new Promise<never>((_, reject) => {
    cancel = setTimer(seconds * 1000, () => {
      const e = new StepTimeoutError(step, seconds);
      controller.abort(e);
      reject(e);
    });
  });
  try {
    return await Promise.race([Promise.resolve().then(() => fn(controller.signal)), timeout]);
  } finally {
    cancel();
  }
}

export function replay<T>(step: StepRecord): T {
  if (step.ok) return journalValue<T>(step);
  throw stepError(step);
}

/** The flow's own copy of a stored step's value (journal entries are shared with the store, and frozen). */
export function journalValue<T>(step: StepRecord): T {
  return cloneData(step.value) as T;
}

/** A step that failed for good is thrown into the flow as the error it failed with (rebuilt), so a catch sees the same thing on replay. */
export function stepError(step: StepRecord): Error {
  const error = cloneData(step.error ?? { name: "Error", code: "USER_ERROR", message: "step failed" });
  const original = deserializeError(error);
  if (step.attempts > 1 && (step.kind === "run" || step.kind === "action")) return Object.assign(new StepFailedError(step.name, step.attempts, error), { cause: original });
  return original;
}

/** Memoizes a value computed by `fn` (e.g. an id or a timestamp) so replays see the same value. */
function valueStep<T>(what: string, name: string | undefined, fn: () => T): Promise<T> {
  const ctx = currentContext(what);
  return ctx.activity.track(
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
