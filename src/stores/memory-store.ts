/**
 * A flow store in this process's memory: for tests and for trying things out. It keeps private copies of
 * what it is given and hands out copies, so neither side can change the other's data; a commit returns the
 * caller's own record, which the store no longer shares. Journal entries are the exception: they never
 * change once written, so the store freezes its copy and every load shares it.
 */
import { ConflictError } from "../errors.js";
import { cloneData, frozenCopy } from "../json-value.js";
import { HISTORY_LIMIT, type Commit, type FlowStore, type ListPage, type ListQuery, type LoadedFlow } from "../ports.js";
import type { FlowRecord, HistoryEvent, StepRecord } from "../schemas.js";
import { afterCursor, checkCommit, compareNewestFirst, decodeCursor, encodeCursor, matchesQuery, pageLimit } from "./store-helpers.js";

interface Entry {
  record: FlowRecord;
  steps: StepRecord[];
  /** The newest events; may run up to twice HISTORY_LIMIT long, so trimming is amortised over many commits. */
  history: HistoryEvent[];
}

export interface MemoryStoreOptions {
  /** Largest JSON size of one step's value (default 4 MiB). */
  maxValueBytes?: number;
}

export function createMemoryStore(options: MemoryStoreOptions = {}): FlowStore {
  const flows = new Map<string, Entry>();
  const copy = cloneData;
  return {
    maxValueBytes: options.maxValueBytes ?? 4 * 1024 * 1024,

    async create(record, events = []) {
      const existing = flows.get(record.id);
      if (existing) return { created: false, record: copy(existing.record) };
      flows.set(record.id, { record: copy(record), steps: [], history: [] });
      appendHistory(flows.get(record.id)!, events);
      return { created: true, record: copy(record) };
    },

    async get(id) {
      const e = flows.get(id);
      return e ? copy(e.record) : undefined;
    },

    async load(id): Promise<LoadedFlow | undefined> {
      const e = flows.get(id);
      return e ? { record: copy(e.record), steps: e.steps.slice() } : undefined;
    },

    async commit(id, commit: Commit) {
      const e = flows.get(id);
      checkCommit(id, e?.record, commit);
      const entry = e!;
      if (commit.truncateFrom !== undefined) entry.steps = entry.steps.filter((s) => s.seq < commit.truncateFrom!);
      if (commit.steps?.length) for (const s of commit.steps) entry.steps.push(frozenCopy(s));
      if (commit.events?.length) appendHistory(entry, commit.events);
      entry.record = copy(commit.record);
      return commit.record;
    },

    async history(id) {
      const h = flows.get(id)?.history ?? [];
      return copy(h.length > HISTORY_LIMIT ? h.slice(h.length - HISTORY_LIMIT) : h);
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

function appendHistory(entry: Entry, events: HistoryEvent[]): void {
  for (const ev of events) entry.history.push(cloneData(ev));
  if (entry.history.length > 2 * HISTORY_LIMIT) entry.history.splice(0, entry.history.length - HISTORY_LIMIT);
}
