/**
 * Retention: finished flows older than an age are deleted, with their journal and history. Runs on
 * demand (`purgeFinishedFlows`), on a timer in the embedded runtime, and as a scheduled function on
 * Firebase (`onRetentionSchedule` in firestep/firebase).
 */
import { ConflictError, InvalidArgumentError } from "../errors.js";
import type { FlowRuntime } from "./runtime.js";

export interface RetentionOptions {
  /** Delete flows that finished more than this many seconds ago. */
  finishedOlderThanSeconds: number;
  /** Only flows of this name. */
  flowName?: string;
  /** Stop after deleting this many (default: no limit). */
  max?: number;
}

export async function purgeFinishedFlows(rt: FlowRuntime, options: RetentionOptions): Promise<{ deleted: number; scanned: number }> {
  if (!(options.finishedOlderThanSeconds >= 0)) throw new InvalidArgumentError("finishedOlderThanSeconds must be a number of seconds >= 0.");
  const cutoff = rt.core.clock.now() - options.finishedOlderThanSeconds * 1000;
  const max = options.max ?? Infinity;
  let deleted = 0;
  let scanned = 0;
  let cursor: string | undefined;
  do {
    const page = await rt.core.store.list({
      status: ["succeeded", "failed", "cancelled"],
      limit: 200,
      ...(options.flowName ? { flowName: options.flowName } : {}),
      ...(cursor ? { cursor } : {}),
    });
    for (const r of page.flows) {
      scanned++;
      if (r.finishedAt === undefined || r.finishedAt > cutoff || r.compensating) continue;
      try {
        await rt.core.store.delete(r.id, r.rev);
        deleted++;
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
      }
      if (deleted >= max) return { deleted, scanned };
    }
    cursor = page.cursor;
  } while (cursor);
  rt.core.metrics.count("flows_purged_total", {}, deleted);
  return { deleted, scanned };
}

/** Runs `purgeFinishedFlows` every `everySeconds` on the runtime's clock; returns a stop function. */
export function startRetention(rt: FlowRuntime, options: RetentionOptions & { everySeconds: number }): () => void {
  let stopped = false;
  let cancel = () => {};
  const arm = () => {
    cancel = rt.core.clock.setTimer(options.everySeconds * 1000, () => {
      void purgeFinishedFlows(rt, options)
        .catch((e) => rt.core.log("warn", "retention run failed", { error: String(e) }))
        .finally(() => !stopped && arm());
    });
  };
  arm();
  return () => {
    stopped = true;
    cancel();
  };
}
