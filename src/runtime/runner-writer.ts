/**
 * The runner's side of the store: every write of a claimed flow goes through here, one at a time, each
 * conditional on the rev it last saw. A conflicting write re-reads the record: if another runner has
 * claimed the flow since (a higher epoch) the runner is fenced out; if the flow was paused or cancelled
 * meanwhile the write still lands (a finished step keeps its result) and the runner is told to stop.
 */
import { ConflictError, FencedError, FlowNotFoundError } from "../errors.js";
import type { Commit, FlowStore } from "../ports.js";
import type { FlowRecord, HistoryEvent, StepRecord } from "../schemas.js";

const MAX_CONFLICT_RETRIES = 20;

export class RunnerWriter {
  private current: FlowRecord;
  /** The last queued write; the next one starts when it settles. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Writes queued or running: when none are, a write starts at once instead of a turn later. */
  private pending = 0;
  readonly epoch: number;

  constructor(
    private readonly store: FlowStore,
    claimed: FlowRecord,
    private readonly onInterference: (record: FlowRecord) => void,
  ) {
    this.current = claimed;
    this.epoch = claimed.epoch;
  }

  get record(): FlowRecord {
    return this.current;
  }

  /** Queues a write built from the latest record; resolves once it is stored. `onError` sees a failure first. */
  write(
    next: (r: FlowRecord) => FlowRecord,
    extra: { steps?: StepRecord[]; events?: HistoryEvent[]; truncateFrom?: number } = {},
    onError?: (e: unknown) => void,
  ): Promise<FlowRecord> {
    const start = () => this.attempt(next, extra, onError, 0);
    const p = this.pending++ === 0 ? start() : this.tail.then(start, start);
    this.tail = p;
    return p;
  }

  /**
   * One try at a write. It runs once per step, so it chains on the store's promise rather than awaiting
   * it in an async function (one promise fewer; AsyncLocalStorage hooks each). A conflict goes on in `retry`.
   */
  private attempt(next: (r: FlowRecord) => FlowRecord, extra: Omit<Commit, "expectRev" | "record">, onError: ((e: unknown) => void) | undefined, tries: number): Promise<FlowRecord> {
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
    extra: Omit<Commit, "expectRev" | "record">,
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
