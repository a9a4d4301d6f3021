/**
 * Every stored shape, as a zod schema with its inferred type. Stores validate what they read back with
 * these, so a corrupt or incompatible record fails loudly instead of being guessed at.
 */
import { z } from "zod";
import { CorruptRecordError, formatIssues, SerializedErrorSchema } from "./errors.js";

export const FLOW_STATUSES = ["scheduled", "running", "waiting", "paused", "succeeded", "failed", "cancelled"] as const;
export const FlowStatusSchema = z.enum(FLOW_STATUSES);
export type FlowStatus = z.infer<typeof FlowStatusSchema>;

export const FINISHED_STATUSES: ReadonlySet<FlowStatus> = new Set(["succeeded", "failed", "cancelled"]);
export function isFinished(status: FlowStatus): boolean {
  return FINISHED_STATUSES.has(status);
}

/** What a suspended flow waits for. `until` is an absolute time in epoch milliseconds. */
export const WaitSchema = z.discriminatedUnion("kind", [
  /** `until` is set when the interrupt has a timeout. */
  z.object({ kind: z.literal("interrupt"), step: z.string(), name: z.string(), schema: z.unknown().optional(), until: z.number().optional() }),
  z.object({ kind: z.literal("signal"), step: z.string(), name: z.string(), until: z.number().optional() }),
  z.object({ kind: z.literal("sleep"), step: z.string(), until: z.number() }),
  z.object({ kind: z.literal("retry"), step: z.string(), until: z.number(), attempt: z.number().int() }),
  z.object({ kind: z.literal("poll"), step: z.string(), until: z.number(), attempt: z.number().int() }),
  z.object({ kind: z.literal("flows"), step: z.string(), flowIds: z.array(z.string()), until: z.number() }),
]);
export type Wait = z.infer<typeof WaitSchema>;
export type WaitKind = Wait["kind"];

/** Per-step counters that survive suspensions: attempts of a retried step, rounds of a poll. */
export const StepProgressSchema = z.object({ attempts: z.number().int(), firstAt: z.number() });
export type StepProgress = z.infer<typeof StepProgressSchema>;

export const LeaseSchema = z.object({ owner: z.string(), until: z.number() });
export type Lease = z.infer<typeof LeaseSchema>;

/**
 * A flow's record: everything but its journal. `rev` increases with every write (stores reject a write
 * whose expected rev is stale); `epoch` increases with every claim, fencing out runners that lost their lease.
 */
export const FlowRecordSchema = z.object({
  id: z.string().min(1),
  flowName: z.string().min(1),
  version: z.string().optional(),
  status: FlowStatusSchema,
  /** Absent when the flow takes no input (JSON and Firestore drop undefined). */
  input: z.unknown().optional(),
  /** Present (possibly with `value` absent, meaning undefined) when the flow succeeded. */
  output: z.object({ value: z.unknown().optional() }).optional(),
  error: SerializedErrorSchema.optional(),
  waits: z.array(WaitSchema),
  /** Earliest time the flow should run again; absent when only a person or nothing can wake it. */
  wakeAt: z.number().optional(),
  /** The status a paused flow returns to when continued. */
  pausedFrom: FlowStatusSchema.optional(),
  rev: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative(),
  lease: LeaseSchema.optional(),
  stepCount: z.number().int().nonnegative(),
  progress: z.record(z.string(), StepProgressSchema),
  /** Payloads delivered by resumeFlow, keyed by the interrupt's step key, taken by the flow on its next run. */
  inbox: z.record(z.string(), z.object({ value: z.unknown().optional(), at: z.number() })).optional(),
  /** Signals delivered so far (numbers the inbox keys of signals, in order). */
  signalSeq: z.number().int().nonnegative().optional(),
  /** The flow that started this one with startChild. */
  parentId: z.string().optional(),
  /** Absolute time after which the flow fails with DEADLINE_EXCEEDED. */
  deadlineAt: z.number().optional(),
  /** Set on a cancelled flow whose compensations have not run yet. */
  compensating: z.boolean().optional(),
  /**
   * Whether a stored step has an undo (a compensation). False from creation until one has; absent on a
   * record written before it was kept, when it is unknown. A cancel needs a delivery to run undos only if true or unknown.
   */
  undoable: z.boolean().optional(),
  /** Flows (by id) that wait for this one and are woken when it finishes. */
  waiters: z.array(z.string()).optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
});
export type FlowRecord = z.infer<typeof FlowRecordSchema>;

export const STEP_KINDS = ["run", "action", "interrupt", "sleep", "poll", "waitFor", "value", "child", "signal", "compensate"] as const;
export const StepKindSchema = z.enum(STEP_KINDS);
export type StepKind = z.infer<typeof StepKindSchema>;

/**
 * One journal entry: a step that finished (ok, with its value, or failed for good). `value` absent with
 * `ok: true` means the step returned undefined. `call` is the order in which the flow called the step
 * (replay checks it); `seq` the order in which it was stored.
 */
export const StepRecordSchema = z.object({
  seq: z.number().int().nonnegative(),
  call: z.number().int().nonnegative(),
  key: z.string(),
  name: z.string(),
  kind: StepKindSchema,
  ok: z.boolean(),
  value: z.unknown().optional(),
  error: SerializedErrorSchema.optional(),
  attempts: z.number().int().nonnegative(),
  startedAt: z.number(),
  endedAt: z.number(),
  /** "fallback" when the value came from the step's fallback after it failed for good. */
  via: z.literal("fallback").optional(),
  /** Set when the step was run with a compensation, which a cancel or a failure later runs. */
  undo: z.literal(true).optional(),
});
export type StepRecord = z.infer<typeof StepRecordSchema>;

export const HISTORY_EVENT_TYPES = [
  "flow.scheduled", "flow.started", "flow.suspended", "flow.woke", "flow.succeeded", "flow.failed",
  "flow.cancelled", "flow.paused", "flow.continued", "flow.resumed", "flow.retried",
  "step.started", "step.completed", "step.failed", "step.retrying", "step.interrupted", "step.slept", "step.polled",
  "flow.signalled", "flow.compensating", "step.compensated",
] as const;
export const HistoryEventSchema = z.object({
  at: z.number(),
  type: z.enum(HISTORY_EVENT_TYPES),
  step: z.string().optional(),
  attempt: z.number().int().optional(),
  durationMs: z.number().optional(),
  epoch: z.number().int().optional(),
  detail: z.string().optional(),
});
export type HistoryEvent = z.infer<typeof HistoryEventSchema>;
export type HistoryEventType = HistoryEvent["type"];

/** The body of a wake-up task: small, never step data. */
export const WakeTaskSchema = z.object({
  flowId: z.string().min(1).max(1500),
  flowName: z.string().min(1).max(1500),
  reason: z.enum(["start", "wake", "resume", "retry", "poll", "lease", "continue", "waiter"]),
  /** Epoch ms the task is meant for; an earlier delivery is deferred again. */
  at: z.number(),
});
export type WakeTask = z.infer<typeof WakeTaskSchema>;

/** Validates a stored shape, failing with an error that names the flow and what is wrong. */
export function parseStored<T>(schema: z.ZodType<T>, value: unknown, flowId: string, where: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new CorruptRecordError(flowId, where, formatIssues(r.error));
  return r.data;
}
