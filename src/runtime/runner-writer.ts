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
    const start = () => this.commitWithRetry(next, extra, onError);
    const p = this.pending++ === 0 ? start() : this.tail.then(start, start);
    this.tail = p;
    return p;
  }

  private async commitWithRetry(
    next: (r: FlowRecord) => FlowRecord,
    extra: Omit<Commit, "expectRev" | "record">,
    onError: ((e: unknown) => void) | undefined,
  ): Promise<FlowRecord> {
    try {
      for (let i = 0; ; i++) {
        const base = this.current;
        const commit: Commit = { expectRev: base.rev, record: next(base) };
        if (extra.steps) commit.steps = extra.steps;
        if (extra.events) commit.events = extra.events;
        if (extra.truncateFrom !== undefined) commit.truncateFrom = extra.truncateFrom;
        try {
          this.current = await this.store.commit(base.id, commit);
          return this.current;
        } catch (e) {
          if (!(e instanceof ConflictError) || i >= MAX_CONFLICT_RETRIES) throw e;
          const fresh = await this.store.get(base.id);
          if (!fresh) throw new FlowNotFoundError(base.id);
          if (fresh.epoch !== this.epoch) throw new FencedError(base.id, this.epoch, fresh.epoch);
          this.current = fresh;
          this.onInterference(fresh);
        }
      }
    } catch (e) {
      onError?.(e);
      throw e;
    } finally {
      this.pending--;
    }
  }

  /** Waits for queued writes to finish. */
  async drain(): Promise<void> {
    await this.tail.catch(() => undefined);
  }
}
