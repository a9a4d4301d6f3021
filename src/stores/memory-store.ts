/**
 * A flow store in this process's memory: for tests and for trying things out. It takes over the records
 * and events a create or commit gives it, as the port allows, and keeps them without a copy: copying them
 * was most of this store's work on every step. Freezing them instead would cost as much again, as V8
 * copies a frozen record (the next record is spread from it) several times slower. Reads hand out
 * copies, except journal entries: they never change once written, so the store freezes them and every
 * load shares them.
 */
import { ConflictError } from "../errors.js";
import { cloneData, deepFreeze } from "../json-value.js";
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
      const entry: Entry = { record, steps: [], history: [] };
      flows.set(record.id, entry);
      appendHistory(entry, events);
      return { created: true, record };
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
      if (commit.steps?.length) for (const s of commit.steps) entry.steps.push(deepFreeze(s));
      if (commit.events?.length) appendHistory(entry, commit.events);
      entry.record = commit.record;
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
  for (const ev of events) entry.history.push(ev);
  if (entry.history.length > 2 * HISTORY_LIMIT) entry.history.splice(0, entry.history.length - HISTORY_LIMIT);
}
