/**
 * Handling one wake-up task: claim the flow (lease + epoch), run one invocation through the engine with
 * each completed step stored as it completes, store the outcome, then enqueue what comes next. At-least-once
 * delivery is expected: a duplicate, early or stale task does no work and leaves the flow correct.
 */
import { randomUUID } from "node:crypto";
import { ConflictError, FencedError, isFirestepError } from "../errors.js";
import type { Flow } from "../flow.js";
import type { InvocationContext, InvocationIO } from "../engine/invocation-context.js";
import { continueFlow, invokeFlow, type Outcome, type OutcomeKind } from "../engine/invoke.js";
import { afterCheckpoint, applyOutcome, claimRecord, decideDelivery } from "../engine/transitions.js";
import { isFinished, type FlowRecord, type HistoryEvent, type StepRecord, type WakeTask } from "../schemas.js";
import { acquireSlot, concurrencyKeyFor, releaseSlot } from "./concurrency-limit.js";
import { RunnerWriter } from "./runner-writer.js";
import type { RuntimeCore } from "./runtime-core.js";

export type DeliveryResult =
  | { result: "ran"; outcome: OutcomeKind; record: FlowRecord }
  | { result: "ignored"; why: string }
  | { result: "deferred"; at: number; why: string };

const MAX_CLAIM_TRIES = 5;

/** Facts about one delivery from the queue that carried it. */
export interface DeliveryMeta {
  /** The queue's id for the task being delivered (Cloud Tasks' task name, the local queue's dedupe key). */
  taskId?: string;
}

export async function deliverTask(core: RuntimeCore, task: WakeTask, meta: DeliveryMeta = {}): Promise<DeliveryResult> {
  // What this process holds of the flow from its last write costs no read; it may be stale, so it is used
  // only to claim (a commit conditional on its rev), and anything else is decided on a fresh read.
  let held = core.store.loadHeld?.(task.flowId);
  if (held && decideDelivery(held.record, core.clock.now(), task).action !== "claim") held = undefined;
  for (let attempt = 0; attempt < MAX_CLAIM_TRIES; attempt++) {
    // Record and journal in one read: the claim below is conditional on this record's rev, and every change
    // to the journal bumps the rev, so a successful claim proves the journal read here is still current.
    const loaded = held ?? (await core.store.load(task.flowId));
    held = undefined;
    const record = loaded?.record;
    if (!loaded || !record) return { result: "ignored", why: "no such flow" };
    const now = core.clock.now();
    const decision = decideDelivery(record, now, task);
    if (decision.action === "ignore") return { result: "ignored", why: decision.why };
    if (decision.action === "watch-lease") {
      // Every delivery that finds the same lease asks for the same watch, so duplicates collapse into one task.
      await core.enqueue(record, decision.at, "lease", `${record.id}|e${record.epoch}|lease|${decision.at}`);
      return { result: "deferred", at: decision.at, why: decision.why };
    }
    if (decision.action === "defer") {
      // The next hop's id derives from this task's, so a chain of early deliveries never collides with itself.
      await core.enqueue(record, decision.at, task.reason, `${meta.taskId ?? randomUUID()}|defer`);
      return { result: "deferred", at: decision.at, why: decision.why };
    }
    const flow = core.flowFor(record);
    const slot = record.status === "cancelled" ? undefined : concurrencyKeyFor(flow, record.input);
    if (slot !== undefined && !(await acquireSlot(core, slot, flow.concurrencyKey!.limit, record))) {
      // In line for a slot: a finishing flow of the same key wakes it; this wake is only a safety net.
      await core.enqueue(record, now + core.leaseMs, "wake", `${record.id}|slot-wait|${now}`);
      return { result: "deferred", at: now + core.leaseMs, why: "waiting for a concurrency slot" };
    }
    const release = async () => {
      if (slot !== undefined) await releaseSlot(core, slot, flow.concurrencyKey!.limit, record.id);
    };
    const claimed = claimRecord(record, core.owner, now, core.leaseMs);
    const woke = record.waits.length ? [{ at: now, type: "flow.woke" as const, epoch: claimed.epoch }] : [];
    let stored: FlowRecord;
    try {
      // Made durable with the invocation's first write (a step, or its outcome), which always follows: one sync fewer per wake-up.
      stored = await core.store.commit(record.id, { expectRev: record.rev, record: claimed, events: [...woke, { at: now, type: "flow.started", epoch: claimed.epoch }], durableWithNext: true });
    } catch (e) {
      await release();
      if (e instanceof ConflictError) continue;
      throw e;
    }
    core.publish(stored, { at: now, type: "flow.started", epoch: stored.epoch });
    // An execution this process kept from the flow's last suspension is continued when nobody ran the flow since.
    const warm = core.warm.take(record, flow);
    try {
      return await runClaimed(core, flow, stored, loaded.steps, warm);
    } finally {
      await release();
    }
  }
  return { result: "deferred", at: core.clock.now(), why: "lost the claim race repeatedly" };
}

async function runClaimed(core: RuntimeCore, flow: Flow, claimed: FlowRecord, journal: readonly StepRecord[], warm: InvocationContext | undefined): Promise<DeliveryResult> {
  const mode = claimed.status === "cancelled" ? "compensate" : "run";
  let stopWith: ((reason: string) => void) | undefined;
  let writeFailure: { error: unknown } | undefined;
  const writer = new RunnerWriter(core.store, claimed, (fresh) => {
    if (mode === "run" && (fresh.status === "cancelled" || fresh.status === "paused")) stopWith?.(`flow was ${fresh.status}`);
  });
  const onCheckpointError = (e: unknown) => {
    if (e instanceof FencedError) invocation.context.stop("lost the lease");
    else if (isTransientWriteError(e)) {
      // The step's result may or may not be stored: stop, and fail the delivery below so the queue
      // redelivers it, rather than let a passing store outage fail the flow for good.
      writeFailure ??= { error: e };
      invocation.context.stop("a step's result could not be stored");
    }
  };
  const io: InvocationIO = {
    now: () => core.clock.now(),
    setTimer: (ms, fn) => core.clock.setTimer(ms, fn, { keepAlive: true }),
    maxValueBytes: core.store.maxValueBytes,
    readFlows: (ids) => Promise.all(ids.map((id) => core.store.get(id))),
    emit: (e) => core.publish(writer.record, e),
    hasListeners: () => core.hasListeners,
    startFlow: (flowName, input, options) => core.startFlow(flowName, input, options),
    checkpoint: (steps, events, valueBytes) =>
      writer.write((r) => afterCheckpoint(r, steps.length, core.clock.now(), core.leaseMs, steps.some((s) => s.undo === true)), { steps, events }, onCheckpointError, valueBytes),
  };
  const invocation = warm ? continueFlow(warm, writer.record, io) : invokeFlow(flow, writer.record, journal, io, mode);
  if (warm) core.metrics.count("invocations_continued_total", { flow: flow.name });
  stopWith = (reason) => invocation.context.stop(reason);
  const stopHeartbeat = core.heartbeat(() => writer.write((r) => afterCheckpoint(r, 0, core.clock.now(), core.leaseMs)).catch(() => undefined));
  let outcome: Outcome;
  try {
    outcome = await invocation.outcome;
  } finally {
    stopHeartbeat();
  }
  await writer.drain();
  if (writeFailure) throw writeFailure.error;
  if (outcome.kind === "stopped") {
    core.metrics.count("invocations_stopped");
    return { result: "ran", outcome: "stopped", record: await handOver(core, writer) };
  }
  const now = core.clock.now();
  const flowEvent: HistoryEvent =
    outcome.kind === "succeeded"
      ? { at: now, type: "flow.succeeded", durationMs: now - (claimed.startedAt ?? now) }
      : outcome.kind === "failed"
        ? { at: now, type: "flow.failed", detail: outcome.error.message }
        : outcome.kind === "compensated"
          ? { at: now, type: "flow.cancelled", detail: `compensations ran${outcome.failures ? `, ${outcome.failures} failed` : ""}` }
          : { at: now, type: "flow.suspended", detail: outcome.waits.map((w) => (w.step.startsWith(`${w.kind}:`) ? w.step : `${w.kind}:${w.step}`)).join(", ") };
  let final: FlowRecord;
  try {
    final = await writer.write((r) => applyOutcome(r, outcome, now), {
      steps: outcome.steps,
      events: outcome.kind === "failed" ? outcome.events : [...outcome.events, flowEvent],
    });
  } catch (e) {
    if (isFirestepError(e) && e.code === "FENCED") return { result: "ran", outcome: "stopped", record: writer.record };
    throw e;
  }
  core.metrics.observeInvocation(outcome, final);
  // A failure's event was emitted live by the engine as it happened.
  if (outcome.kind !== "failed") core.publish(final, flowEvent);
  // Kept before the wake-up is enqueued, so that wake-up finds it.
  if (outcome.kind === "suspended") core.warm.keep(final, flow, invocation.context);
  await afterOutcome(core, final);
  return { result: "ran", outcome: outcome.kind, record: final };
}

/**
 * A runner told to stop because the flow was cancelled or paused gives up its lease at once, so the
 * delivery that runs the compensations, or the one after a continue, need not wait for the lease to run
 * out. A flow continued meanwhile (still marked running under this lease) is scheduled again at once.
 */
async function handOver(core: RuntimeCore, writer: RunnerWriter): Promise<FlowRecord> {
  const r = writer.record;
  if (!((r.status === "cancelled" && r.compensating) || r.status === "paused") || r.lease?.owner !== core.owner) return r;
  try {
    const released = await writer.write((cur) => {
      const next: FlowRecord = { ...cur, rev: cur.rev + 1 };
      delete next.lease;
      if (cur.status === "paused") return next;
      next.wakeAt = core.clock.now();
      if (cur.status === "running") next.status = "scheduled";
      return next;
    });
    if (released.status !== "paused") await core.enqueue(released, released.wakeAt!, "wake");
    return released;
  } catch (e) {
    if (isFirestepError(e) && e.code === "FENCED") return r;
    throw e;
  }
}

/** A store error that says nothing about the flow itself (an outage, a timeout, a lost race): worth redelivering. */
function isTransientWriteError(e: unknown): boolean {
  return !isFirestepError(e) || e.code === "STORE_UNAVAILABLE" || e.code === "CONFLICT";
}

/** What follows a stored outcome: the next wake-up, and waking the flows that wait for this one. */
export async function afterOutcome(core: RuntimeCore, final: FlowRecord): Promise<void> {
  if (final.status === "waiting" && final.wakeAt !== undefined) {
    const reason = final.waits.find((w) => w.kind !== "interrupt" && w.until === final.wakeAt)?.kind;
    await core.enqueue(final, final.wakeAt, reason === "retry" ? "retry" : reason === "poll" ? "poll" : "wake");
  }
  if (final.status === "waiting") {
    for (const w of final.waits) if (w.kind === "flows") await core.registerWaiter(final, w.flowIds);
  }
  if (final.status === "cancelled" && final.compensating && final.wakeAt !== undefined) await core.enqueue(final, final.wakeAt, "wake");
  if (isFinished(final.status)) await core.wakeWaiters(final);
}
