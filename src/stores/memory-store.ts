/** A flow store in this process's memory: for tests and for trying things out. Copies on the way in and out. */
import { ConflictError } from "../errors.js";
import type { Commit, FlowStore, ListPage, ListQuery, LoadedFlow } from "../ports.js";
import type { FlowRecord, HistoryEvent, StepRecord } from "../schemas.js";
import { afterCursor, checkCommit, compareNewestFirst, decodeCursor, encodeCursor, matchesQuery, pageLimit, trimHistory } from "./store-helpers.js";

interface Entry {
  record: FlowRecord;
  steps: StepRecord[];
  history: HistoryEvent[];
}

export interface MemoryStoreOptions {
  /** Largest JSON size of one step's value (default 4 MiB). */
  maxValueBytes?: number;
}

export function createMemoryStore(options: MemoryStoreOptions = {}): FlowStore {
  const flows = new Map<string, Entry>();
  const copy = structuredClone;
  return {
    maxValueBytes: options.maxValueBytes ?? 4 * 1024 * 1024,

    async create(record, events = []) {
      const existing = flows.get(record.id);
      if (existing) return { created: false, record: copy(existing.record) };
      flows.set(record.id, { record: copy(record), steps: [], history: copy(events) });
      return { created: true, record: copy(record) };
    },

    async get(id) {
      const e = flows.get(id);
      return e ? copy(e.record) : undefined;
    },

    async load(id): Promise<LoadedFlow | undefined> {
      const e = flows.get(id);
      return e ? { record: copy(e.record), steps: copy(e.steps) } : undefined;
    },

    async commit(id, commit: Commit) {
      const e = flows.get(id);
      checkCommit(id, e?.record, commit);
      const entry = e!;
      if (commit.truncateFrom !== undefined) entry.steps = entry.steps.filter((s) => s.seq < commit.truncateFrom!);
      if (commit.steps?.length) entry.steps.push(...copy(commit.steps));
      if (commit.events?.length) entry.history = trimHistory([...entry.history, ...copy(commit.events)]);
      entry.record = copy(commit.record);
      return copy(commit.record);
    },

    async history(id) {
      return copy(flows.get(id)?.history ?? []);
    },

    async list(query: ListQuery): Promise<ListPage> {
      const limit = pageLimit(query);
      const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
      const all = [...flows.values()].map((e) => e.record).filter((r) => matchesQuery(r, query) && (!cursor || afterCursor(r, cursor)));
      all.sort(compareNewestFirst);
      const page = all.slice(0, limit);
      return { flows: copy(page), ...(all.length > limit ? { cursor: encodeCursor(page[page.length - 1]!) } : {}) };
    },

    async delete(id, expectRev) {
      const e = flows.get(id);
      if (!e) return;
      if (e.record.rev !== expectRev) throw new ConflictError(id, `expected rev ${expectRev}, found ${e.record.rev}`);
      flows.delete(id);
    },
  };
}
