/**
 * One invocation of a flow: replay its journal, run what comes next, and say how it ended. Pure logic
 * with I/O through `InvocationIO`: the runtime claims the flow before and persists the outcome after.
 */
import { formatIssues, InterruptSwallowedError, InvalidOutputError, serializeError, type SerializedError } from "../errors.js";
import type { Flow } from "../flow.js";
import { jsonCopy, storableCopy } from "../json-value.js";
import type { FlowRecord, HistoryEvent, StepProgress, StepRecord, Wait } from "../schemas.js";
import { InvocationContext, runInContext, type InvocationIO, type InvocationMode } from "./invocation-context.js";
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

export interface Invocation {
  readonly context: InvocationContext;
  readonly outcome: Promise<Outcome>;
}

export function invokeFlow(flow: Flow, record: FlowRecord, journal: readonly StepRecord[], io: InvocationIO, mode: InvocationMode = "run"): Invocation {
  const ctx = new InvocationContext(flow, record, journal, io, mode);
  return { context: ctx, outcome: runInContext(ctx, () => execute(ctx)) };
}

async function execute(ctx: InvocationContext): Promise<Outcome> {
  let returned: { value: unknown } | undefined;
  let thrown: unknown;
  try {
    returned = { value: await ctx.flow.fn(jsonCopy(ctx.record.input)) };
  } catch (e) {
    thrown = e;
  }
  await ctx.settleInflight();
  const base = (): OutcomeBase => ({
    steps: ctx.deferredSteps,
    events: ctx.events.splice(0),
    progress: ctx.progress,
    consumed: [...ctx.consumedInbox],
    replayed: ctx.replayed,
    executed: ctx.executed,
  });
  if (ctx.mode === "compensate") {
    const failures = await compensate(ctx);
    return { ...base(), kind: "compensated", failures };
  }
  if (ctx.stopReason || isStopSignal(thrown)) return { ...base(), kind: "stopped", reason: ctx.stopReason ?? String((thrown as Error).message) };
  if (ctx.waits.length && (returned || !isInterruptError(thrown))) {
    const swallowed = ctx.waits[0]!.step;
    if (returned || !thrown) return failed(ctx, base, new InterruptSwallowedError(swallowed));
  }
  if (isInterruptError(thrown)) return { ...base(), kind: "suspended", waits: dedupeWaits(ctx.waits.length ? ctx.waits : [thrown.wait]) };
  if (thrown !== undefined || !returned) return failed(ctx, base, thrown);
  const parsed = ctx.flow.outputSchema.safeParse(returned.value);
  if (!parsed.success) return failed(ctx, base, new InvalidOutputError(ctx.flow.name, formatIssues(parsed.error)));
  let output: unknown;
  try {
    output = storableCopy(`${ctx.flow.name} (output)`, parsed.data, ctx.io.maxValueBytes);
  } catch (e) {
    return failed(ctx, base, e);
  }
  return { ...base(), kind: "succeeded", output };
}

async function failed(ctx: InvocationContext, base: () => OutcomeBase, e: unknown): Promise<Outcome> {
  const error = serializeError(e);
  const failures = await compensate(ctx);
  const withUndo = failures ? { ...error, details: { ...error.details, compensationFailures: failures } } : error;
  ctx.event({ type: "flow.failed", detail: error.message });
  return { ...base(), kind: "failed", error: withUndo };
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
      await c.undo();
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
