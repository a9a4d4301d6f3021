/**
 * Fault injection for the store and queue ports, and a driver that runs flows to the end on a fake clock
 * while faults fire. A fault is thrown either before the call reaches the backend (nothing happened) or, for
 * writes, after it landed (the write happened but the caller is told it failed: the worst case of a timeout).
 */
import { StoreUnavailableError, QueueUnavailableError, isFirestepError } from "../../../src/errors.js";
import type { FlowStore, LocalTaskQueue, QueuedTask, TaskQueue } from "../../../src/ports.js";
import type { StepRecord } from "../../../src/schemas.js";
import { interceptStore } from "../../../src/stores/store-helpers.js";

export interface FaultLog {
  injected: number;
  byOp: Record<string, number>;
  /** Faults thrown after the write had landed. */
  afterWrite: number;
}

export function newFaultLog(): FaultLog {
  return { injected: 0, byOp: {}, afterWrite: 0 };
}

export interface FaultOptions {
  /** Probability that a call fails (0..1). */
  rate: number;
  rnd: () => number;
  log: FaultLog;
  /** The error a fault throws (default StoreUnavailableError / QueueUnavailableError). */
  error?: (op: string) => Error;
  /** Faults fire only while this returns true. */
  armed?: () => boolean;
}

const WRITES = new Set(["create", "commit", "delete", "enqueue"]);

function maybeFail<T>(op: string, o: FaultOptions, call: () => Promise<T>, fallback: (op: string) => Error): Promise<T> {
  if ((o.armed && !o.armed()) || o.rnd() >= o.rate) return call();
  const error = (o.error ?? fallback)(op);
  o.log.injected++;
  o.log.byOp[op] = (o.log.byOp[op] ?? 0) + 1;
  if (WRITES.has(op) && o.rnd() < 0.5) {
    o.log.afterWrite++;
    return call().then(() => Promise.reject(error));
  }
  return Promise.reject(error);
}

const storeError = (op: string) => new StoreUnavailableError(`injected fault in ${op}`);

export function faultyStore(inner: FlowStore, o: FaultOptions): FlowStore {
  return interceptStore(inner, (op, call) => maybeFail(op, o, call, storeError));
}

export function faultyQueue<Q extends TaskQueue>(inner: Q, o: FaultOptions): Q {
  return {
    ...inner,
    enqueue: (item: QueuedTask) => maybeFail("enqueue", o, () => inner.enqueue(item), () => new QueueUnavailableError("injected enqueue fault")),
  } as Q;
}

/** True for an error a caller may retry (the call may or may not have landed). */
export function isTransient(e: unknown): boolean {
  if (!isFirestepError(e)) return typeof (e as { code?: unknown })?.code === "number"; // a raw gRPC error
  return e.code === "STORE_UNAVAILABLE" || e.code === "QUEUE_UNAVAILABLE" || e.code === "CONFLICT";
}

/** Calls `fn` until it returns or throws something other than a transient error. */
export async function retrying<T>(fn: () => Promise<T>, tries = 200): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || i >= tries) throw e;
    }
  }
}

/** A queue whose deliveries are counted: those that completed and those that threw (to be redelivered). */
export function countDeliveries(queue: LocalTaskQueue, deliver: (task: Parameters<Parameters<LocalTaskQueue["listen"]>[0]>[0], meta: { taskId: string }) => Promise<unknown>) {
  const counts = { completed: 0, threw: 0 };
  queue.listen(async (task, meta) => {
    try {
      await deliver(task, meta);
      counts.completed++;
    } catch (e) {
      counts.threw++;
      throw e;
    }
  });
  return counts;
}

/** An in-process side-effect log: which executions of which step happened, and which one each stored value came from. */
export class EffectLog {
  readonly lines: Array<{ t: "start" | "done"; flow: string; key: string; token: string }> = [];
  private n = 0;

  run<V>(flow: string, key: string, value: V, fail = false): { v: V; token: string } {
    const token = `${key}-${++this.n}`;
    this.lines.push({ t: "start", flow, key, token });
    if (fail) throw new Error(`transient failure of ${key}`);
    this.lines.push({ t: "done", flow, key, token });
    return { v: value, token };
  }

  /** Checks a flow's journal against the log; returns a list of problems (empty when sound). */
  check(flow: string, steps: StepRecord[], keys: readonly string[], stepCount: number): string[] {
    const problems: string[] = [];
    if (stepCount !== steps.length) problems.push(`${flow}: stepCount ${stepCount} but ${steps.length} journal entries`);
    // Seqs increase; a parallel step whose write failed leaves a gap, which is allowed.
    if (steps.some((s, i) => i > 0 && s.seq <= steps[i - 1]!.seq)) problems.push(`${flow}: journal seqs ${steps.map((s) => s.seq).join(",")}`);
    if (new Set(steps.map((s) => s.key)).size !== steps.length) problems.push(`${flow}: a step is journaled twice`);
    for (const key of keys) {
      const stored = steps.find((s) => s.key === key);
      if (!stored?.ok) {
        problems.push(`${flow}/${key}: not stored`);
        continue;
      }
      const token = (stored.value as { token?: string } | undefined)?.token;
      const mine = this.lines.filter((l) => l.flow === flow && l.key === key);
      const at = mine.findIndex((l) => l.t === "done" && l.token === token);
      if (at < 0) problems.push(`${flow}/${key}: stored result ${token} comes from no execution`);
      else if (mine.slice(at + 1).some((l) => l.t === "start")) problems.push(`${flow}/${key}: ran again after its result was stored`);
    }
    return problems;
  }

  executions(flow: string, key: string): number {
    return this.lines.filter((l) => l.flow === flow && l.key === key && l.t === "done").length;
  }
}
