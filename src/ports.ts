/**
 * The ports: the whole surface the engine and runtime need from the outside world. Backends (memory,
 * files, Firestore, in-process timers, Cloud Tasks) implement these; nothing here knows about any of them.
 */
import type { FlowRecord, FlowStatus, HistoryEvent, StepRecord, WakeTask } from "./schemas.js";

export interface LoadedFlow {
  /** The caller's own copy. */
  record: FlowRecord;
  /**
   * The journal, in `seq` order. Its entries may be the store's own (frozen) objects, shared by every load,
   * so a wake-up need not copy the whole journal: read them, never change them. The array is the caller's.
   */
  steps: StepRecord[];
}

/**
 * One atomic, conditional write: it applies only if the stored record's `rev` still equals `expectRev`,
 * otherwise the store throws `ConflictError` and changes nothing. `record.rev` must be `expectRev + 1`.
 * A stored commit takes over its record, steps and events: the caller must not change them afterwards, as
 * a store may keep them as they are (the memory store does, rather than copy them on every step).
 */
export interface Commit {
  expectRev: number;
  record: FlowRecord;
  /** Journal entries to append (their `seq` continue the journal). */
  steps?: StepRecord[];
  /** Drop journal entries with `seq >= truncateFrom` before appending (used to re-run a failed step). */
  truncateFrom?: number;
  /** History events to append; stores keep the newest `HISTORY_LIMIT`. */
  events?: HistoryEvent[];
  /**
   * The store may make this write durable together with the flow's next one instead of before it returns,
   * so a crash of the machine in between may lose it (it is read back at once all the same). The runtime
   * asks it for a claim: every invocation writes the flow durably again before its delivery is acknowledged,
   * and a lost claim is a crash just before the claim.
   */
  durableWithNext?: boolean;
}

export interface ListQuery {
  flowName?: string;
  status?: FlowStatus | FlowStatus[];
  /** Page size, 1..1000 (default 50). */
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface ListPage {
  flows: FlowRecord[];
  /** Present when there may be more. */
  cursor?: string;
}

/** How many history events a store keeps per flow (older ones are dropped). */
export const HISTORY_LIMIT = 500;

export interface FlowStore {
  /** Exclusive create. When the id is taken, nothing is written and the existing record comes back. Takes over what it stores, as `commit` does. */
  create(record: FlowRecord, events?: HistoryEvent[]): Promise<{ created: boolean; record: FlowRecord }>;
  get(id: string): Promise<FlowRecord | undefined>;
  /** Record and journal together, as a runner needs them. */
  load(id: string): Promise<LoadedFlow | undefined>;
  /**
   * Optional: what this process last wrote or read of the flow, without any I/O (for stores that bill
   * reads). May be stale: the caller must act on it only through a commit conditional on its rev.
   */
  loadHeld?(id: string): LoadedFlow | undefined;
  commit(id: string, commit: Commit): Promise<FlowRecord>;
  history(id: string): Promise<HistoryEvent[]>;
  /** Newest first (by `createdAt`, then id). */
  list(query: ListQuery): Promise<ListPage>;
  /** Removes the record, its journal and history, if `rev` still equals `expectRev`. */
  delete(id: string, expectRev: number): Promise<void>;
  /** Largest JSON size, in bytes, of one step's value this store accepts. */
  readonly maxValueBytes: number;
  close?(): Promise<void>;
}

/** A wake-up for a flow. `dedupeKey` is unique per wake-up; a queue treats a repeated key as done. */
export interface QueuedTask {
  task: WakeTask;
  dedupeKey: string;
}

export interface TaskQueue {
  /** Asks for `task` to be delivered at or after `task.at` (at least once). */
  enqueue(item: QueuedTask): Promise<void>;
  close?(): Promise<void>;
}

/** A queue that delivers in this process: the embedded runtime listens on it. */
export interface LocalTaskQueue extends TaskQueue {
  listen(handler: (task: WakeTask, meta: { taskId: string }) => Promise<void>): void;
  /** Resolves when nothing is due now or running (future tasks may remain). */
  idle(): Promise<void>;
  /** Tasks still waiting for their time. */
  pending(): number;
}

export interface Clock {
  now(): number;
  /** Calls `fn` after `ms` of this clock's time; returns a function that cancels it. */
  /**
   * Calls `fn` after `ms`; returns a cancel. A real clock lets a timer for later not keep the process
   * alive unless `keepAlive` (a running step's timeout: work in progress).
   */
  setTimer(ms: number, fn: () => void, options?: { keepAlive?: boolean }): () => void;
}
