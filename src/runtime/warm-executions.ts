/**
 * Executions kept warm between invocations. A flow that suspended in this process is continued where it
 * waits, instead of replayed from its first step, when its next delivery shows that no other runner has
 * run it since: the same epoch and step count (and the same flow code). That makes a wake-up's cost
 * independent of how many steps the flow has done. The set is bounded: the execution suspended longest
 * ago is dropped first, and a dropped one is simply replayed at its next wake-up.
 */
import type { InvocationContext } from "../engine/invocation-context.js";
import type { Flow } from "../flow.js";
import type { FlowRecord } from "../schemas.js";

/** How many suspended executions a runtime keeps by default. */
export const DEFAULT_WARM_EXECUTIONS = 100;

interface Warm {
  context: InvocationContext;
  flow: Flow;
  epoch: number;
  stepCount: number;
  createdAt: number;
}

export class WarmExecutions {
  /** In the order they were kept: the first is the one to drop when full. */
  private readonly byId = new Map<string, Warm>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.byId.size;
  }

  /**
   * Keeps `context`, which suspended with `stored` as the flow's record. One that cannot be continued, or
   * of a cancelled flow (whose compensations run by replay), is not kept: nothing else holds it.
   */
  keep(stored: FlowRecord, flow: Flow, context: InvocationContext): void {
    this.drop(stored.id);
    if (this.capacity <= 0 || stored.status === "cancelled" || !context.continuable) return;
    this.byId.set(stored.id, { context, flow, epoch: stored.epoch, stepCount: stored.stepCount, createdAt: stored.createdAt });
    if (this.byId.size > this.capacity) this.drop(this.byId.keys().next().value!);
  }

  /**
   * Takes the execution kept for the flow of `record` (read before this delivery's claim) when it is still
   * the flow's latest: nobody else claimed the flow since (epoch), its journal has not changed (step count),
   * and it was not cancelled meanwhile (a cancelled flow's compensations run by replay).
   */
  take(record: FlowRecord, flow: Flow): InvocationContext | undefined {
    const warm = this.byId.get(record.id);
    if (!warm) return undefined;
    this.byId.delete(record.id);
    const current =
      warm.flow === flow &&
      warm.epoch === record.epoch &&
      warm.stepCount === record.stepCount &&
      warm.createdAt === record.createdAt &&
      record.status !== "cancelled" &&
      warm.context.continuable;
    if (current) return warm.context;
    warm.context.abandon();
    return undefined;
  }

  drop(id: string): void {
    const warm = this.byId.get(id);
    if (!warm) return;
    this.byId.delete(id);
    warm.context.abandon();
  }

  clear(): void {
    for (const id of [...this.byId.keys()]) this.drop(id);
  }
}
