/**
 * The flow state machine as pure functions over records: what a delivery should do, how a claim, an
 * outcome, a resume, a pause, a cancel or a retry changes a record. Each returns the next record (rev+1)
 * or throws a typed error; none does I/O.
 */
import { z } from "zod";
import {
  FlowCancelledError,
  formatIssues,
  InvalidFlowStateError,
  InvalidPayloadError,
  NotBlockedOnInterruptError,
  serializeError,
} from "../errors.js";
import { isFinished, type FlowRecord, type StepRecord, type WakeTask } from "../schemas.js";
import { earliestWake, type Outcome } from "./invoke.js";

export function newFlowRecord(args: { id: string; flowName: string; version?: string; input: unknown; now: number; startAt: number }): FlowRecord {
  return {
    id: args.id,
    flowName: args.flowName,
    ...(args.version ? { version: args.version } : {}),
    status: "scheduled",
    input: args.input,
    waits: [],
    wakeAt: args.startAt,
    rev: 0,
    epoch: 0,
    stepCount: 0,
    undoable: false,
    progress: {},
    createdAt: args.now,
    updatedAt: args.now,
  };
}

export type DeliveryDecision =
  | { action: "claim" }
  | { action: "ignore"; why: string }
  /** Another runner holds the lease: watch it, so the flow is taken over if that runner dies. */
  | { action: "watch-lease"; at: number; why: string }
  /** Delivered before the flow's wake time (the Cloud Tasks emulator does this; so do 30-day hops): deliver again at `at`. */
  | { action: "defer"; at: number; why: string };

/**
 * What a delivery of a wake-up task should do. A lease watch (a task for the end of a lease, `task.at`)
 * that finds the flow waiting does nothing more if the flow last changed while that lease held: the runner
 * stored its outcome and enqueued its own next wake-up. A later change may be this very task's run (it
 * took the flow over, stored a suspension, then failed to enqueue the wake-up and is being redelivered),
 * so then the watch counts as a wake-up, or the wake-up would be lost.
 */
export function decideDelivery(r: FlowRecord, now: number, task?: Pick<WakeTask, "reason" | "at">): DeliveryDecision {
  const watchOnly = task?.reason === "lease" && r.updatedAt < task.at;
  if (r.status === "cancelled" && r.compensating) {
    if (r.lease && r.lease.until > now) return { action: "watch-lease", at: r.lease.until, why: "another runner holds the lease" };
    return { action: "claim" };
  }
  if (isFinished(r.status)) return { action: "ignore", why: `flow is ${r.status}` };
  if (r.status === "paused") return { action: "ignore", why: "flow is paused" };
  if (r.status === "running") {
    if (r.lease && r.lease.until > now) return { action: "watch-lease", at: r.lease.until, why: "another runner holds the lease" };
    return { action: "claim" };
  }
  if (r.wakeAt === undefined) return { action: "ignore", why: "flow waits for an interrupt" };
  if (r.wakeAt > now) {
    if (watchOnly) return { action: "ignore", why: "the runner finished; its own wake-up is queued" };
    return { action: "defer", at: r.wakeAt, why: "woken early" };
  }
  return { action: "claim" };
}

export function claimRecord(r: FlowRecord, owner: string, now: number, leaseMs: number): FlowRecord {
  return {
    ...r,
    // A cancelled flow is claimed only to run its compensations, and stays cancelled meanwhile.
    status: r.status === "cancelled" ? "cancelled" : "running",
    rev: r.rev + 1,
    epoch: r.epoch + 1,
    lease: { owner, until: now + leaseMs },
    startedAt: r.startedAt ?? now,
    updatedAt: now,
  };
}

/** The record after `added` more journal entries were stored by the runner; `undo` when one of them has a compensation. */
export function afterCheckpoint(r: FlowRecord, added: number, now: number, leaseMs: number, undo = false): FlowRecord {
  // Runs once per step. Fields set after the copy, not inside the literal: overriding them there made this
  // machine's V8 take three times as long (1.1 µs against 0.4 µs for a 14-field record).
  const next: FlowRecord = { ...r };
  next.rev = r.rev + 1;
  next.stepCount = r.stepCount + added;
  next.updatedAt = now;
  if (r.lease) next.lease = { owner: r.lease.owner, until: now + leaseMs };
  if (undo && r.undoable === false) next.undoable = true;
  return next;
}

/** The record after an invocation ended with `outcome`. A pause or cancel that landed meanwhile wins. */
export function applyOutcome(r: FlowRecord, outcome: Exclude<Outcome, { kind: "stopped" }>, now: number): FlowRecord {
  if (outcome.kind === "compensated") {
    const done: FlowRecord = { ...r, rev: r.rev + 1, stepCount: r.stepCount + outcome.steps.length, updatedAt: now };
    delete done.compensating;
    delete done.lease;
    return done;
  }
  const inbox = { ...(r.inbox ?? {}) };
  for (const k of outcome.consumed) delete inbox[k];
  const base: FlowRecord = {
    ...r,
    rev: r.rev + 1,
    stepCount: r.stepCount + outcome.steps.length,
    progress: outcome.progress,
    updatedAt: now,
    waits: [],
  };
  delete base.lease;
  delete base.wakeAt;
  if (r.undoable === false && outcome.steps.some((s) => s.undo)) base.undoable = true;
  if (Object.keys(inbox).length) base.inbox = inbox;
  else delete base.inbox;
  if (r.status === "cancelled") return { ...base, status: "cancelled", ...(r.compensating ? { compensating: true, wakeAt: now } : {}) };
  switch (outcome.kind) {
    case "succeeded":
      return { ...base, status: "succeeded", output: outcome.output === undefined ? {} : { value: outcome.output }, finishedAt: now, progress: {} };
    case "failed":
      return { ...base, status: "failed", error: outcome.error, finishedAt: now };
    case "suspended": {
      // A signal or resume that arrived while the flow ran is already in the inbox: run again at once to take it.
      const answered = outcome.waits.some(
        (w) => (w.kind === "signal" && Object.keys(inbox).some((k) => isSignalInboxKey(k, w.name))) || (w.kind === "interrupt" && inbox[w.step] !== undefined),
      );
      const earliest = answered ? now : earliestWake(outcome.waits);
      const wakeAt = r.deadlineAt !== undefined ? Math.min(earliest ?? r.deadlineAt, r.deadlineAt) : earliest;
      const waiting: FlowRecord = { ...base, waits: outcome.waits, ...(wakeAt !== undefined ? { wakeAt } : {}) };
      return r.status === "paused" ? { ...waiting, status: "paused", pausedFrom: "waiting" } : { ...waiting, status: "waiting" };
    }
  }
}

/** Validates `payload` against the interrupt's stored JSON Schema; returns the next record with the payload in the inbox. */
export function resumeRecord(r: FlowRecord, payload: unknown, now: number, stepName?: string): FlowRecord {
  if (isFinished(r.status)) throw new NotBlockedOnInterruptError(r.id, `it is ${r.status}`);
  const blocked = r.waits.filter((w) => w.kind === "interrupt");
  if (blocked.length === 0) throw new NotBlockedOnInterruptError(r.id, `it is ${r.status} and not blocked on an interrupt`);
  const wait = stepName ? blocked.find((w) => w.name === stepName || w.step === stepName) : blocked[0];
  if (!wait || wait.kind !== "interrupt") {
    throw new NotBlockedOnInterruptError(r.id, `it is blocked on ${blocked.map((w) => `"${w.step}"`).join(", ")}, not on "${stepName}"`);
  }
  if (r.inbox?.[wait.step]) throw new NotBlockedOnInterruptError(r.id, `interrupt "${wait.step}" was already answered and the flow has not run since`);
  if (wait.schema !== undefined) {
    const schema = jsonSchemaToZod(wait.schema);
    if (schema) {
      const parsed = schema.safeParse(payload);
      if (!parsed.success) throw new InvalidPayloadError(`Resume of flow "${r.id}" at interrupt "${wait.name}"`, formatIssues(parsed.error));
    }
  }
  const inbox = { ...(r.inbox ?? {}), [wait.step]: { ...(payload === undefined ? {} : { value: payload }), at: now } };
  const base: FlowRecord = { ...r, rev: r.rev + 1, inbox, waits: r.waits.filter((w) => w.step !== wait.step), updatedAt: now };
  // A running flow keeps its runner: the payload waits in the inbox and the runner's outcome schedules the
  // flow again at once. Marking it scheduled would let a second runner claim it.
  if (r.status === "running") return base;
  if (r.status === "paused") return { ...base, pausedFrom: "scheduled", wakeAt: now };
  return { ...base, status: "scheduled", wakeAt: now };
}

function jsonSchemaToZod(schema: unknown): z.ZodType | undefined {
  try {
    return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    return undefined;
  }
}

/** Puts a signal in the flow's inbox (in order) and wakes the flow if it waits for that signal. */
export function signalRecord(r: FlowRecord, name: string, payload: unknown, now: number): FlowRecord {
  if (isFinished(r.status)) throw new InvalidFlowStateError(r.id, "signal", r.status, "Only a flow that has not finished takes signals.");
  const seq = (r.signalSeq ?? 0) + 1;
  const inbox = { ...(r.inbox ?? {}), [signalInboxKey(name, seq)]: { ...(payload === undefined ? {} : { value: payload }), at: now } };
  const waiting = r.waits.some((w) => w.kind === "signal" && w.name === name);
  const next: FlowRecord = { ...r, rev: r.rev + 1, inbox, signalSeq: seq, updatedAt: now };
  if (!waiting) return next;
  next.waits = r.waits.filter((w) => !(w.kind === "signal" && w.name === name));
  next.wakeAt = now;
  if (r.status === "paused") next.pausedFrom = "scheduled";
  else next.status = "scheduled";
  return next;
}

/** Inbox keys of signals sort in the order they were sent. */
export function signalInboxKey(name: string, seq: number): string {
  return `signal:${name}:${String(seq).padStart(10, "0")}`;
}

/** True when `key` holds a signal named exactly `name`: a prefix test would hand "order" the signals of "order:cancel". */
export function isSignalInboxKey(key: string, name: string): boolean {
  const prefix = `signal:${name}:`;
  return key.startsWith(prefix) && /^\d{10}$/.test(key.slice(prefix.length));
}

export function pauseRecord(r: FlowRecord, now: number): FlowRecord {
  if (isFinished(r.status)) throw new InvalidFlowStateError(r.id, "pause", r.status, "Only a flow that has not finished can be paused.");
  if (r.status === "paused") throw new InvalidFlowStateError(r.id, "pause", r.status, "It is already paused; continue it (continueFlow, firestep continue, or POST /flows/:id/continue).");
  return { ...r, rev: r.rev + 1, status: "paused", pausedFrom: r.status === "running" ? "scheduled" : r.status, updatedAt: now };
}

export function continueRecord(r: FlowRecord, now: number): FlowRecord {
  if (r.status !== "paused") throw new InvalidFlowStateError(r.id, "continue", r.status, "Only a paused flow can be continued.");
  const to = r.pausedFrom ?? "scheduled";
  // Paused mid-step, its runner may still hold it: that runner goes on, rather than a second one starting the same step.
  if (to === "scheduled" && r.lease && r.lease.until > now) {
    const held: FlowRecord = { ...r, rev: r.rev + 1, status: "running", updatedAt: now };
    delete held.pausedFrom;
    return held;
  }
  const next: FlowRecord = { ...r, rev: r.rev + 1, status: to, updatedAt: now };
  delete next.pausedFrom;
  delete next.lease;
  // A start still to come keeps its delay; one already due (or a runner stopped by the pause) goes at once.
  if (to === "scheduled") next.wakeAt = r.wakeAt ?? now;
  return next;
}

export function cancelRecord(r: FlowRecord, now: number, reason?: string): FlowRecord {
  if (isFinished(r.status)) throw new InvalidFlowStateError(r.id, "cancel", r.status, "A finished flow cannot be cancelled.");
  const next: FlowRecord = {
    ...r,
    rev: r.rev + 1,
    status: "cancelled",
    error: serializeError(new FlowCancelledError(r.id, reason)),
    updatedAt: now,
    finishedAt: now,
    waits: [],
  };
  delete next.wakeAt;
  delete next.pausedFrom;
  delete next.lease;
  // A flow with a stored step that has an undo (or a record too old to say) needs one more delivery, which
  // replays it to find and run its compensations. So may one that is running: the step under way is stored
  // when it finishes, its undo with it. Any other has nothing to undo, and is finished and deletable at once.
  if ((r.stepCount > 0 && r.undoable !== false) || r.status === "running") {
    next.compensating = true;
    next.wakeAt = now;
    if (r.status === "running" && r.lease) next.lease = r.lease;
  }
  return next;
}

/** A failed flow runs again from the step that failed; completed steps stay memoized. */
export function retryRecord(r: FlowRecord, now: number): FlowRecord {
  if (r.status !== "failed") throw new InvalidFlowStateError(r.id, "retry", r.status, "Only a failed flow can be retried.");
  const next: FlowRecord = { ...r, rev: r.rev + 1, status: "scheduled", wakeAt: now, updatedAt: now, progress: {} };
  delete next.error;
  delete next.finishedAt;
  return next;
}

/** How a retry rewrites the journal: entries from `truncateFrom` on are dropped, then `append` (renumbered) is stored. */
export interface RetryPlan {
  truncateFrom?: number;
  append: StepRecord[];
  /** The step that failed the flow, run again by the retry. */
  failed?: StepRecord;
  kept: number;
}

/**
 * What a retry keeps of a failed flow's journal. The step that failed the flow (its last failed step) runs
 * again, and so does every step a compensation undid, with the compensation entries dropped so a later
 * failure undoes the new run. Everything else stays: a failure the flow caught earlier, and every step that
 * completed and was not undone (one with no undo, a parallel branch that finished after the failure): a
 * retry must not repeat their side effects. Replay finds steps by call, so the gaps left are run afresh.
 */
export function retryPlan(steps: readonly StepRecord[]): RetryPlan {
  let failed: StepRecord | undefined;
  const undone = new Set<string>();
  for (const s of steps) {
    if (s.kind === "compensate") {
      if (s.ok) undone.add(s.key.slice(0, -":compensate".length));
    } else if (!s.ok && (failed === undefined || s.seq > failed.seq)) {
      failed = s;
    }
  }
  const dropped = (s: StepRecord) => s.kind === "compensate" || s === failed || undone.has(s.key);
  let truncateFrom: number | undefined;
  for (const s of steps) if (dropped(s) && (truncateFrom === undefined || s.seq < truncateFrom)) truncateFrom = s.seq;
  if (truncateFrom === undefined) return { append: [], kept: steps.length, ...(failed ? { failed } : {}) };
  const from = truncateFrom;
  const append = steps.filter((s) => s.seq > from && !dropped(s)).map((s, i) => ({ ...s, seq: from + i }));
  return { truncateFrom, append, kept: steps.filter((s) => s.seq < from).length + append.length, ...(failed ? { failed } : {}) };
}

export function assertDeletable(r: FlowRecord): void {
  if (!isFinished(r.status)) {
    throw new InvalidFlowStateError(r.id, "delete", r.status, "Only finished flows can be deleted; cancel it first.");
  }
  if (r.compensating) {
    throw new InvalidFlowStateError(r.id, "delete", r.status, "Its compensations have not run yet, and deleting it now would skip them; delete it once they have.");
  }
}
