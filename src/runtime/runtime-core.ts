/**
 * What the runtime's parts share: the ports, this process's identity and lease length, wake-up
 * enqueueing with unique ids, live event subscribers, waiter links between flows, and metrics.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { ConflictError } from "../errors.js";
import { lookupFlow, type Flow } from "../flow.js";
import { setLongTimeout } from "../long-timeout.js";
import type { Clock, FlowStore, TaskQueue } from "../ports.js";
import { isFinished, type FlowRecord, type HistoryEvent, type WakeTask } from "../schemas.js";
import { interceptStore } from "../stores/store-helpers.js";
import { Metrics } from "./metrics.js";
import { DEFAULT_WARM_EXECUTIONS, WarmExecutions } from "./warm-executions.js";

export interface FlowEvent extends HistoryEvent {
  flowId: string;
  flowName: string;
}
export type FlowEventListener = (event: FlowEvent) => void;

export interface RuntimeOptions {
  store: FlowStore;
  queue: TaskQueue;
  clock?: Clock;
  /** How long a claim lasts without a write before another delivery may take the flow over (default 60). */
  leaseSeconds?: number;
  /** Identifies this process in leases (default host-pid-random). */
  owner?: string;
  /** Flows this runtime runs, beyond those defined in this process (looked up by name). */
  flows?: Flow[];
  /**
   * How many suspended flows this process keeps in memory to continue where they wait, instead of
   * replaying their journal, when their next wake-up comes here (default 100; 0: every wake-up replays).
   */
  warmExecutions?: number;
  /** Logs deliveries that did nothing and errors that were absorbed (default: console.warn for errors only). */
  logger?: (level: "debug" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;
}

/**
 * Real time. A timer for later does not keep the process alive (a flow sleeping for a day must not stop
 * a script from exiting; the next process re-arms it), but work that is due now does.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn, options) => setLongTimeout(ms, fn, { unref: ms > 0 && !options?.keepAlive }),
};

export class RuntimeCore {
  readonly store: FlowStore;
  readonly queue: TaskQueue;
  readonly clock: Clock;
  readonly owner: string;
  readonly leaseMs: number;
  readonly metrics = new Metrics();
  readonly warm: WarmExecutions;
  readonly log: NonNullable<RuntimeOptions["logger"]>;
  private readonly listeners = new Set<FlowEventListener>();
  private readonly flows = new Map<string, Flow>();

  constructor(opts: RuntimeOptions) {
    this.store = countStoreOps(opts.store, this.metrics);
    this.queue = opts.queue;
    this.clock = opts.clock ?? systemClock;
    this.owner = opts.owner ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.leaseMs = (opts.leaseSeconds ?? 60) * 1000;
    this.warm = new WarmExecutions(opts.warmExecutions ?? DEFAULT_WARM_EXECUTIONS);
    this.metrics.gauge("warm_executions", () => this.warm.size);
    this.log = opts.logger ?? ((level, message, fields) => level !== "debug" && console.warn(`[firestep] ${message}`, fields ?? ""));
    for (const f of opts.flows ?? []) this.flows.set(f.name, f);
  }

  /** The code of the flow named `name`: given to this runtime, or defined in this process (at `version` if defined). */
  findFlow(name: string, version?: string): Flow {
    const given = this.flows.get(name);
    if (given && (version === undefined || given.version === version)) return given;
    return given && !hasVersion(name, version) ? given : lookupFlow(name, version);
  }

  flowFor(record: Pick<FlowRecord, "flowName" | "version">): Flow {
    return this.findFlow(record.flowName, record.version);
  }

  /**
   * Enqueues a wake-up for `record` at `at`. By default the dedupe key names this wake-up of this record
   * revision, so enqueueing it twice makes one task; deliveries pass their own key where they must not
   * collide with the task being delivered.
   */
  async enqueue(record: FlowRecord, at: number, reason: WakeTask["reason"], dedupeKey?: string): Promise<void> {
    const task: WakeTask = { flowId: record.id, flowName: record.flowName, reason, at };
    await this.queue.enqueue({ task, dedupeKey: dedupeKey ?? `${record.id}|${record.rev}|${reason}|${at}` });
    this.metrics.count("tasks_enqueued_total", { reason });
  }

  /** Starts another flow by name (set by the runtime; used by startChild). */
  startFlow: (flowName: string, input: unknown, options: { flowId: string; parentId: string }) => Promise<void> = async () => {
    throw new Error("startFlow is not wired");
  };

  /** Calls `renew` every third of a lease while a step runs long. Returns a stop function. */
  heartbeat(renew: () => Promise<unknown>): () => void {
    let cancel = () => {};
    let stopped = false;
    const arm = () => {
      cancel = this.clock.setTimer(this.leaseMs / 3, () => {
        if (stopped) return;
        void renew().finally(() => !stopped && arm());
      });
    };
    arm();
    return () => {
      stopped = true;
      cancel();
    };
  }

  subscribe(listener: FlowEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  publish(record: Pick<FlowRecord, "id" | "flowName">, event: HistoryEvent): void {
    if (this.listeners.size === 0) return;
    const e: FlowEvent = { ...event, flowId: record.id, flowName: record.flowName };
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.log("warn", "an event listener threw", { error: String(err) });
      }
    }
  }

  /** Links `waiter` to each flow in `ids` so it is woken when they finish; wakes it now if one already has. */
  async registerWaiter(waiter: FlowRecord, ids: string[]): Promise<void> {
    for (const id of ids) {
      const finished = await this.update(id, (r) => {
        if (isFinished(r.status)) return undefined;
        if (r.waiters?.includes(waiter.id)) return r;
        return { ...r, rev: r.rev + 1, waiters: [...(r.waiters ?? []), waiter.id] };
      });
      if (finished === undefined) await this.enqueue(waiter, this.clock.now(), "waiter");
    }
  }

  async wakeWaiters(finished: FlowRecord): Promise<void> {
    for (const id of finished.waiters ?? []) {
      const w = await this.store.get(id);
      if (w && w.status === "waiting") await this.enqueue(w, this.clock.now(), "waiter");
    }
  }

  /**
   * Read-modify-write with retry on conflict. `change` returns the next record (rev+1), the same record to
   * write nothing, or undefined to stop; the result is the stored record, or undefined when stopped.
   */
  async update(
    id: string,
    change: (r: FlowRecord) => FlowRecord | undefined,
    events: (r: FlowRecord) => HistoryEvent[] = () => [],
  ): Promise<FlowRecord | undefined> {
    for (let i = 0; ; i++) {
      const r = await this.store.get(id);
      if (!r) return undefined;
      const next = change(r);
      if (next === undefined) return undefined;
      if (next === r) return r;
      try {
        return await this.store.commit(id, { expectRev: r.rev, record: next, events: events(next) });
      } catch (e) {
        if (!(e instanceof ConflictError) || i >= 20) throw e;
      }
    }
  }
}

function hasVersion(name: string, version: string | undefined): boolean {
  try {
    return lookupFlow(name, version).version === version;
  } catch {
    return false;
  }
}

function countStoreOps(store: FlowStore, metrics: Metrics): FlowStore {
  const counters = new Map<string, () => void>();
  return interceptStore(store, (op, call) => {
    let count = counters.get(op);
    if (!count) counters.set(op, (count = metrics.counter("store_operations_total", { op })));
    count();
    return call();
  });
}
