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
  private tail: Promise<unknown> = Promise.resolve();
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

  /** Queues a write built from the latest record; resolves once it is stored. */
  write(
    next: (r: FlowRecord) => FlowRecord,
    extra: { steps?: StepRecord[]; events?: HistoryEvent[]; truncateFrom?: number } = {},
  ): Promise<FlowRecord> {
    const p = this.tail.then(() => this.commitWithRetry(next, extra));
    this.tail = p.catch(() => undefined);
    return p;
  }

  private async commitWithRetry(next: (r: FlowRecord) => FlowRecord, extra: Omit<Commit, "expectRev" | "record">): Promise<FlowRecord> {
    for (let i = 0; ; i++) {
      const base = this.current;
      const commit: Commit = { ...extra, expectRev: base.rev, record: next(base) };
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
  }

  /** Waits for queued writes to finish. */
  async drain(): Promise<void> {
    await this.tail;
  }
}
