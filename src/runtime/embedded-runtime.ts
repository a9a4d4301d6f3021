/**
 * The embedded runtime: the engine with a local task queue in this process, on any store (files by
 * default). On start it re-arms every flow that was due, sleeping, retrying, polling, or running under a
 * lease that has expired, or cancelled with compensations still to run, so a restarted process picks up
 * where the last one stopped.
 */
import { InvalidArgumentError } from "../errors.js";
import { createLocalQueue } from "../queues/local-queue.js";
import type { Clock, FlowStore, LocalTaskQueue } from "../ports.js";
import { startRetention, type RetentionOptions } from "./retention.js";
import { createRuntime, type FlowRuntime } from "./runtime.js";
import { systemClock, type RuntimeOptions } from "./runtime-core.js";

export interface EmbeddedRuntimeOptions extends Omit<RuntimeOptions, "queue" | "store"> {
  store: FlowStore;
  clock?: Clock;
  /** Re-arm unfinished flows found in the store (default true). */
  recover?: boolean;
  /**
   * Deliveries (flow invocations) running at once; the others wait their turn, in order. Default 100, as a
   * deployed flow function's `rateLimits.maxConcurrentDispatches`.
   */
  maxConcurrentDeliveries?: number;
  /** Delete finished flows older than an age, checking every `everySeconds` (default: keep everything). */
  retention?: RetentionOptions & { everySeconds?: number };
}

export interface EmbeddedRuntime extends FlowRuntime {
  readonly queue: LocalTaskQueue;
  /** Resolves once recovery has re-armed the flows found in the store. */
  readonly ready: Promise<number>;
  /** Resolves when no task is due or running (sleeping flows may remain). */
  idle(): Promise<void>;
}

export function createEmbeddedRuntime(options: EmbeddedRuntimeOptions): EmbeddedRuntime {
  const clock = options.clock ?? systemClock;
  let runtime: FlowRuntime | undefined;
  const max = options.maxConcurrentDeliveries;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
    throw new InvalidArgumentError(`maxConcurrentDeliveries must be a whole number of at least 1; got ${String(max)}.`);
  }
  const queue = createLocalQueue({
    clock,
    ...(max !== undefined ? { maxConcurrent: max } : {}),
    onDrop: (task, error) => runtime?.core.log("error", `gave up delivering a task for flow ${task.flowId}`, { error: String(error) }),
  });
  runtime = createRuntime({ ...options, queue, clock });
  const rt = runtime;
  queue.listen(async (task, meta) => {
    await rt.deliver(task, meta);
  });
  const ready = options.recover === false ? Promise.resolve(0) : recover(rt);
  // A store that cannot be read at start must not crash the process from nowhere: say so in the log;
  // `ready` and `idle()` still reject with the store's error for whoever awaits them.
  ready.catch((e: unknown) => rt.core.log("error", "could not recover this runtime's unfinished flows from the store", { error: e instanceof Error ? e.message : String(e) }));
  const stopRetention = options.retention ? startRetention(rt, { everySeconds: 3600, ...options.retention }) : () => {};
  return {
    ...rt,
    async close() {
      stopRetention();
      await rt.close();
    },
    queue,
    ready,
    async idle() {
      await ready;
      await queue.idle();
    },
  };
}

/**
 * Enqueues a wake-up for every unfinished flow that a timer or an expired lease should wake, and for every
 * cancelled flow whose compensations have not run yet (cancelling records them; a delivery runs them).
 */
export async function recover(rt: FlowRuntime): Promise<number> {
  let armed = 0;
  let cursor: string | undefined;
  do {
    const page = await rt.listFlows({ status: ["scheduled", "running", "waiting", "cancelled"], limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const r of page.flows) {
      if (r.status === "cancelled" && !r.compensating) continue;
      if (!knows(rt, r.flowName)) continue;
      const at = r.status === "running" ? (r.lease?.until ?? rt.core.clock.now()) : r.wakeAt;
      if (at === undefined) continue;
      await rt.core.enqueue(r, at, r.status === "running" ? "lease" : "wake");
      armed++;
    }
    cursor = page.cursor;
  } while (cursor);
  return armed;
}

/** Flows whose code this process has not loaded are left for a process that has. */
function knows(rt: FlowRuntime, flowName: string): boolean {
  try {
    rt.core.findFlow(flowName);
    return true;
  } catch {
    return false;
  }
}
