/** Pieces every store shares: listing order and cursors, commit checks, record patches, and history trimming. */
import { ConflictError, InvalidArgumentError, showValue } from "../errors.js";
import { HISTORY_LIMIT, type Commit, type FlowStore, type ListQuery } from "../ports.js";
import { jsonEqual } from "../json-value.js";
import type { FlowRecord, HistoryEvent } from "../schemas.js";

export function checkCommit(id: string, current: FlowRecord | undefined, commit: Commit): FlowRecord {
  if (!current) throw new ConflictError(id, "the flow does not exist");
  if (current.rev !== commit.expectRev) throw new ConflictError(id, `expected rev ${commit.expectRev}, found ${current.rev}`);
  if (commit.record.rev !== commit.expectRev + 1 || commit.record.id !== id) {
    throw new InvalidArgumentError(`Commit to flow "${id}" must carry rev ${commit.expectRev + 1} and the same id.`);
  }
  return current;
}

/** What changed from `prev` to `next`: a record's top-level keys whose value differs as JSON (`set`), and those removed (`unset`). */
export interface RecordPatch {
  set: Record<string, unknown>;
  unset?: string[];
}

/** `next` as a patch of `prev`: a step rewrites a few of a record's keys, not its input and everything else. */
export function recordPatch(prev: FlowRecord, next: FlowRecord): RecordPatch {
  const set: Record<string, unknown> = {};
  const p = prev as Record<string, unknown>;
  const n = next as Record<string, unknown>;
  for (const k of Object.keys(n)) if (!jsonEqual(p[k], n[k])) set[k] = n[k];
  let unset: string[] | undefined;
  for (const k of Object.keys(p)) if (p[k] !== undefined && n[k] === undefined) (unset ??= []).push(k);
  return unset ? { set, unset } : { set };
}

/** Newest first: by createdAt descending, then id descending. */
export function compareNewestFirst(a: FlowRecord, b: FlowRecord): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export function encodeCursor(r: Pick<FlowRecord, "createdAt" | "id">): string {
  return Buffer.from(JSON.stringify([r.createdAt, r.id])).toString("base64url");
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } {
  // The runtime checks its callers' options; a store called directly still owes a typed error.
  if (typeof cursor !== "string") throw new InvalidArgumentError(`A cursor must be a string (the cursor of the previous page, unchanged); got ${showValue(cursor)}.`);
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [number, string];
    if (typeof createdAt !== "number" || typeof id !== "string") throw new Error("shape");
    return { createdAt, id };
  } catch {
    throw new InvalidArgumentError(`Cursor "${cursor.slice(0, 40)}" is not one this store handed out; pass the cursor of the previous page unchanged.`);
  }
}

/** True when `r` comes strictly after the cursor in newest-first order. */
export function afterCursor(r: FlowRecord, c: { createdAt: number; id: string }): boolean {
  return r.createdAt < c.createdAt || (r.createdAt === c.createdAt && r.id < c.id);
}

export function matchesQuery(r: FlowRecord, q: ListQuery): boolean {
  if (q.flowName && r.flowName !== q.flowName) return false;
  if (q.status) {
    const s = Array.isArray(q.status) ? q.status : [q.status];
    if (!s.includes(r.status)) return false;
  }
  return true;
}

export function pageLimit(q: ListQuery): number {
  return q.limit ?? 50;
}

export function trimHistory(events: HistoryEvent[]): HistoryEvent[] {
  return events.length > HISTORY_LIMIT ? events.slice(events.length - HISTORY_LIMIT) : events;
}

export type StoreOp = "create" | "get" | "load" | "commit" | "history" | "list" | "delete";
const STORE_OPS: StoreOp[] = ["create", "get", "load", "commit", "history", "list", "delete"];

/**
 * A store that passes every call through `around(op, call)`: the one wrapper behind operation counting,
 * metering in benchmarks and fault injection in tests. `maxValueBytes`, `loadHeld` (no I/O) and `close`
 * go straight through.
 */
export function interceptStore(inner: FlowStore, around: (op: StoreOp, call: () => Promise<unknown>) => Promise<unknown>): FlowStore {
  const wrapped = Object.fromEntries(
    STORE_OPS.map((op) => [op, (...args: unknown[]) => around(op, () => (inner[op] as (...a: unknown[]) => Promise<unknown>).apply(inner, args))]),
  ) as Pick<FlowStore, StoreOp>;
  return {
    ...wrapped,
    get maxValueBytes() {
      return inner.maxValueBytes;
    },
    ...(inner.loadHeld ? { loadHeld: (id: string) => inner.loadHeld!(id) } : {}),
    ...(inner.close ? { close: () => inner.close!() } : {}),
  };
}
