/**
 * The runner's side of the store: every write of a claimed flow goes through here, one at a time, each
 * conditional on the rev it last saw. A conflicting write re-reads the record: if another runner has
 * claimed the flow since (a higher epoch) the runner is fenced out; if the flow was paused or cancelled
 * meanwhile the write still lands (a finished step keeps its result) and the runner is told to stop.
 *
 * Writes that arrive while one is in flight wait for it together and are stored by one commit: the steps
 * of a `Promise.all` that complete while the first one's write is under way take one more write between
 * them, not one each. Once a flow's writes have merged, its next write that finds nothing in flight waits
 * for the rest of the turn too, for the siblings of its step (a fan-out's next round then takes one write,
 * not two); a flow whose steps go one at a time never merges, so its writes start at once. Each write
 * still resolves only once its own steps are stored. A merged commit carries at most the store's largest
 * value (`mergeBytes`) of step values, so it stays a commit the store accepts.
 */
import { ConflictError, FencedError, FlowNotFoundError } from "../errors.js";
import type { Commit, FlowStore } from "../ports.js";
import type { FlowRecord, HistoryEvent, StepRecord } from "../schemas.js";

const MAX_CONFLICT_RETRIES = 20;
/** Counted per step against `mergeBytes`, besides its value: the entry's other fields and its event. */
const ENTRY_BYTES = 512;

type Extra = Omit<Commit, "expectRev" | "record">;

/** A write queued behind the one in flight, which later writes join until it starts. */
interface Batch {
  next: (r: FlowRecord) => FlowRecord;
  steps: StepRecord[];
  events: HistoryEvent[];
  truncateFrom: number | undefined;
  bytes: number;
  /** How many writes it holds. */
  writes: number;
  onErrors: Array<(e: unknown) => void>;
  promise: Promise<FlowRecord>;
}

export class RunnerWriter {
  private current: FlowRecord;
  /** The last queued write; the next one starts when it settles. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Writes queued or running: when none are, a write starts at once instead of a turn later. */
  private pending = 0;
  /** The queued write that has not started yet: later writes join it. */
  private open: Batch | undefined;
  /** The last write to start held several: the next one waits for the rest of its turn for siblings. */
  private merging = false;
  readonly epoch: number;

  constructor(
    private readonly store: FlowStore,
    claimed: FlowRecord,
    private readonly onInterference: (record: FlowRecord) => void,
    /** Step values one merged commit may carry, in bytes of JSON (the store's largest value). */
    private readonly mergeBytes: number = store.maxValueBytes,
  ) {
    this.current = claimed;
    this.epoch = claimed.epoch;
  }

  get record(): FlowRecord {
    return this.current;
  }

  /**
   * Queues a write built from the latest record; resolves once it is stored. `onError` sees a failure first.
   * `valueBytes` is the size of `extra.steps`' values as JSON, when the caller knows it (measured otherwise).
   */
  write(
    next: (r: FlowRecord) => FlowRecord,
    extra: { steps?: StepRecord[]; events?: HistoryEvent[]; truncateFrom?: number } = {},
    onError?: (e: unknown) => void,
    valueBytes?: number,
  ): Promise<FlowRecord> {
    if (this.pending === 0 && !this.merging) {
      this.pending++;
      const p = this.attempt(next, extra, onError, 0);
      this.tail = p;
      return p;
    }
    const bytes = sizeOf(extra.steps, valueBytes);
    const open = this.open;
    if (open && extra.truncateFrom === undefined && open.truncateFrom === undefined && open.bytes + bytes <= this.mergeBytes) {
      const before = open.next;
      // One commit, one rev: the later write builds on the earlier one's record as if it were still `r`.
      open.next = (r) => next({ ...before(r), rev: r.rev });
      if (extra.steps) open.steps.push(...extra.steps);
      if (extra.events) open.events.push(...extra.events);
      open.bytes += bytes;
      open.writes++;
      if (onError) open.onErrors.push(onError);
      return open.promise;
    }
    this.pending++;
    let batch: Batch; // assigned below, before `start` can run (it waits for the tail, a turn at least)
    const start = () => {
      if (this.open === batch) this.open = undefined;
      this.merging = batch.writes > 1;
      const merged: Extra = {};
      if (batch.steps.length) merged.steps = batch.steps;
      if (batch.events.length) merged.events = batch.events;
      if (batch.truncateFrom !== undefined) merged.truncateFrom = batch.truncateFrom;
      const onErrors = batch.onErrors;
      return this.attempt(batch.next, merged, onErrors.length ? (e) => onErrors.forEach((f) => f(e)) : undefined, 0);
    };
    const promise = this.tail.then(start, start);
    batch = { next, steps: [...(extra.steps ?? [])], events: [...(extra.events ?? [])], truncateFrom: extra.truncateFrom, bytes, writes: 1, onErrors: onError ? [onError] : [], promise };
    this.open = batch;
    this.tail = promise;
    return promise;
  }

  /**
   * One try at a write. It runs once per step, so it chains on the store's promise rather than awaiting
   * it in an async function (one promise fewer; AsyncLocalStorage hooks each). A conflict goes on in `retry`.
   */
  private attempt(next: (r: FlowRecord) => FlowRecord, extra: Extra, onError: ((e: unknown) => void) | undefined, tries: number): Promise<FlowRecord> {
    const base = this.current;
    let stored: Promise<FlowRecord>;
    try {
      const commit: Commit = { expectRev: base.rev, record: next(base) };
      if (extra.steps) commit.steps = extra.steps;
      if (extra.events) commit.events = extra.events;
      if (extra.truncateFrom !== undefined) commit.truncateFrom = extra.truncateFrom;
      stored = this.store.commit(base.id, commit);
    } catch (e) {
      stored = Promise.reject(e);
    }
    return stored.then(
      (record) => {
        this.current = record;
        this.pending--;
        return record;
      },
      (e: unknown) => this.retry(e, base.id, next, extra, onError, tries),
    );
  }

  /** After a failed try: a conflict re-reads the record and tries again; anything else ends the write. */
  private async retry(
    error: unknown,
    id: string,
    next: (r: FlowRecord) => FlowRecord,
    extra: Extra,
    onError: ((e: unknown) => void) | undefined,
    tries: number,
  ): Promise<FlowRecord> {
    try {
      if (!(error instanceof ConflictError) || tries >= MAX_CONFLICT_RETRIES) throw error;
      const fresh = await this.store.get(id);
      if (!fresh) throw new FlowNotFoundError(id);
      if (fresh.epoch !== this.epoch) throw new FencedError(id, this.epoch, fresh.epoch);
      this.current = fresh;
      this.onInterference(fresh);
    } catch (e) {
      this.pending--;
      onError?.(e);
      throw e;
    }
    return this.attempt(next, extra, onError, tries + 1);
  }

  /** Waits for queued writes to finish. */
  async drain(): Promise<void> {
    await this.tail.catch(() => undefined);
  }
}

/** What `steps` count against a merged commit's budget: their values and their entries (measured whole when the value size is not given). */
function sizeOf(steps: StepRecord[] | undefined, valueBytes: number | undefined): number {
  if (!steps?.length) return 0;
  const values = valueBytes ?? steps.reduce((n, s) => n + Buffer.byteLength(JSON.stringify(s)), 0);
  return values + steps.length * ENTRY_BYTES;
}
