/**
 * One invocation of a flow: replay its journal (or continue an execution kept from the last invocation),
 * run what comes next, and say how it ended. Pure logic with I/O through `InvocationIO`: the runtime
 * claims the flow before and persists the outcome after.
 */
import { formatIssues, InterruptSwallowedError, InvalidOutputError, serializeError, type SerializedError } from "../errors.js";
import type { Flow } from "../flow.js";
import { jsonCopy, storableCopy } from "../json-value.js";
import type { FlowRecord, HistoryEvent, StepProgress, StepRecord, Wait } from "../schemas.js";
import { InvocationContext, inStepScope, runInContext, type InvocationIO, type InvocationMode } from "./invocation-context.js";
import { isInterruptError, isStopSignal } from "./suspension.js";

interface OutcomeBase {
  /** Steps to store with the outcome (e.g. a sleep's wake time). */
  steps: StepRecord[];
  events: HistoryEvent[];
  progress: Record<string, StepProgress>;
  /** Inbox keys the flow consumed. */
  consumed: string[];
  replayed: number;
  executed: number;
}

export type Outcome =
  | (OutcomeBase & { kind: "succeeded"; output: unknown })
  | (OutcomeBase & { kind: "failed"; error: SerializedError })
  | (OutcomeBase & { kind: "suspended"; waits: Wait[] })
  /** The runner was told to stop (lease lost, flow paused or cancelled); nothing more is stored by it. */
  | (OutcomeBase & { kind: "stopped"; reason: string })
  /** A cancelled flow's compensations ran (those that failed are in `failures`). */
  | (OutcomeBase & { kind: "compensated"; failures: number });

/** How one invocation of a flow ended. */
export type OutcomeKind = Outcome["kind"];

export interface Invocation {
  readonly context: InvocationContext;
  readonly outcome: Promise<Outcome>;
}

type Settled = { returned: true; value: unknown } | { returned: false; thrown: unknown };

/** How each execution's flow function ended, once it has: an execution outlives its invocations. */
const settledOf = new WeakMap<InvocationContext, Promise<Settled>>();

/** Starts a fresh execution of `flow`: replays `journal`, then runs on until the flow ends or every step left is parked. */
export function invokeFlow(flow: Flow, record: FlowRecord, journal: readonly StepRecord[], io: InvocationIO, mode: InvocationMode = "run"): Invocation {
  const ctx = new InvocationContext(flow, record, journal, io, mode);
  const settled = runInContext(ctx, () => callFlow(ctx));
  settledOf.set(ctx, settled);
  return { context: ctx, outcome: runInContext(ctx, () => execute(ctx, settled)) };
}

/**
 * Continues an execution that suspended in this process (`context.continuable`), instead of replaying its
 * journal: the claimed `record` must be the one it suspended with, give or take an inbox, which the
 * caller checks by epoch and step count. Its parked steps are tried again.
 */
export function continueFlow(ctx: InvocationContext, record: FlowRecord, io: InvocationIO): Invocation {
  const settled = settledOf.get(ctx)!;
  return {
    context: ctx,
    outcome: runInContext(ctx, () => {
      ctx.resume(record, io);
      return execute(ctx, settled);
    }),
  };
}

async function callFlow(ctx: InvocationContext): Promise<Settled> {
  try {
    return { returned: true, value: await ctx.flow.fn(jsonCopy(ctx.record.input)) };
  } catch (thrown) {
    return { returned: false, thrown };
  }
}

const QUIET: unique symbol = Symbol("quiet");

async function execute(ctx: InvocationContext, settled: Promise<Settled>): Promise<Outcome> {
  const first = await Promise.race([settled, ctx.activity.untilQuiet().then((): typeof QUIET => QUIET)]);
  let outcome: Outcome;
  if (first === QUIET) {
    outcome = await quietOutcome(ctx);
  } else {
    ctx.activity.stopWaitingForQuiet();
    outcome = await settledOutcome(ctx, first);
    // The flow's function has returned: there is nothing left to continue.
    ctx.abandon();
  }
  ctx.detach();
  return outcome;
}

function base(ctx: InvocationContext): OutcomeBase {
  return {
    steps: ctx.deferredSteps.splice(0),
    events: ctx.events.splice(0),
    progress: ctx.progress,
    consumed: [...ctx.consumedInbox],
    replayed: ctx.replayed,
    executed: ctx.executed,
  };
}

/** Every step left is parked and nothing else runs: the flow waits (or was told to stop, or is being undone). */
async function quietOutcome(ctx: InvocationContext): Promise<Outcome> {
  if (ctx.mode === "compensate") return { ...base(ctx), kind: "compensated", failures: await compensate(ctx) };
  if (ctx.stopReason) return { ...base(ctx), kind: "stopped", reason: ctx.stopReason };
  return { ...base(ctx), kind: "suspended", waits: dedupeWaits(ctx.waits) };
}

async function settledOutcome(ctx: InvocationContext, s: Settled): Promise<Outcome> {
  await ctx.activity.settle();
  if (ctx.mode === "compensate") return { ...base(ctx), kind: "compensated", failures: await compensate(ctx) };
  const thrown = s.returned ? undefined : s.thrown;
  if (ctx.stopReason || isStopSignal(thrown)) return { ...base(ctx), kind: "stopped", reason: ctx.stopReason ?? String((thrown as Error).message) };
  // Only a flow that throws a suspension of its own gets here: steps park rather than throw.
  if (isInterruptError(thrown)) return { ...base(ctx), kind: "suspended", waits: dedupeWaits(ctx.waits.length ? ctx.waits : [thrown.wait]) };
  if (!s.returned) return failed(ctx, thrown);
  const parsed = ctx.flow.outputSchema.safeParse(s.value);
  if (!parsed.success) return failed(ctx, new InvalidOutputError(ctx.flow.name, formatIssues(parsed.error)));
  let output: unknown;
  try {
    output = storableCopy(`${ctx.flow.name} (output)`, parsed.data, ctx.io.maxValueBytes, `The output of flow "${ctx.flow.name}"`);
  } catch (e) {
    return failed(ctx, e);
  }
  return { ...base(ctx), kind: "succeeded", output };
}

async function failed(ctx: InvocationContext, e: unknown): Promise<Outcome> {
  const error = serializeError(e);
  const failures = await compensate(ctx);
  const withUndo = failures ? { ...error, details: { ...error.details, compensationFailures: failures } } : error;
  ctx.event({ type: "flow.failed", detail: error.message });
  return { ...base(ctx), kind: "failed", error: withUndo };
}

/**
 * Runs the compensations of the completed steps, newest first, each as a durable step of its own (one
 * already stored is not run again). A compensation that throws is recorded and the others still run.
 * Returns how many failed.
 */
async function compensate(ctx: InvocationContext): Promise<number> {
  if (ctx.compensations.length === 0) return 0;
  ctx.event({ type: "flow.compensating", detail: `${ctx.compensations.length} step(s) to undo` });
  let failures = 0;
  for (const c of [...ctx.compensations].reverse()) {
    const key = `${c.key}:compensate`;
    const done = ctx.journalEntry(key);
    if (done) {
      if (!done.ok) failures++;
      continue;
    }
    const startedAt = ctx.io.now();
    let step: StepRecord;
    try {
      const scope = { ctx, suspended: false };
      await inStepScope(scope, () => c.undo(), undefined);
      if (scope.suspended) throw new InterruptSwallowedError(`${c.name}:compensate`);
      step = ctx.newStep({ call: ctx.engineCall(), key, name: `${c.name}:compensate`, kind: "compensate", ok: true, attempts: 1, startedAt, endedAt: ctx.io.now() });
      ctx.event({ type: "step.compensated", step: c.key, durationMs: step.endedAt - startedAt });
    } catch (e) {
      failures++;
      const error = serializeError(e);
      step = ctx.newStep({ call: ctx.engineCall(), key, name: `${c.name}:compensate`, kind: "compensate", ok: false, error, attempts: 1, startedAt, endedAt: ctx.io.now() });
      ctx.event({ type: "step.failed", step: key, detail: `compensation failed: ${error.message}` });
    }
    await ctx.persist(step);
  }
  return failures;
}

function dedupeWaits(waits: Wait[]): Wait[] {
  const seen = new Set<string>();
  return waits.filter((w) => (seen.has(w.step) ? false : (seen.add(w.step), true)));
}

export function earliestWake(waits: Wait[]): number | undefined {
  let at: number | undefined;
  for (const w of waits) if (w.until !== undefined && (at === undefined || w.until < at)) at = w.until;
  return at;
}
