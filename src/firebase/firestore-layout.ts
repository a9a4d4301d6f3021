/**
 * How a flow is laid out in Firestore, and how big each piece is.
 *
 * `<collection>/<flowId>` (the flow document) holds:
 *   - `r`: the FlowRecord, a map of its keys to JSON strings, plus `id`, `flowName`, `status`, `createdAt`,
 *     `rev` copied out for list() queries (firestore-fields.ts; layout 1 held it as one JSON string `rec`);
 *   - `j`: the open journal page, a map `<seq>` -> the StepRecord as a JSON string;
 *   - `h`: the newest history events, a map `<counter>` -> the HistoryEvent as a JSON string, and `hs`, a map
 *     `<counter>` -> that entry's size;
 *   - `m`: the layout (a small JSON string) that lets a writer append with field paths without reading.
 *   - `v`: the layout's version.
 * `<collection>/<flowId>/firestep-pages/<g>-<n>` (sealed pages) hold journal entries that no longer fit in the
 * flow document, as a `j` map of the same shape. `g` names the flow's incarnation, so pages left behind by
 * an interrupted delete are never mistaken for a re-created flow's.
 *
 * Values are JSON strings (not maps) so `0`, `false`, `""`, `null` and an absent value round-trip exactly,
 * step keys never become field names or document ids, and nothing is indexed entry by entry.
 */
import { z } from "zod";
import { CorruptRecordError } from "../errors.js";
import { parseStored, type FlowRecord } from "../schemas.js";

export const DEFAULT_COLLECTION = "firestep-flows";
export const PAGES_COLLECTION = "firestep-pages";
export const LAYOUT_VERSION = 2;

/** Field names of the flow document. */
export const F = {
  version: "v",
  id: "id",
  flowName: "flowName",
  status: "status",
  createdAt: "createdAt",
  rev: "rev",
  /** The record as one JSON string: layout 1, read only. */
  record: "rec",
  recordFields: "r",
  meta: "m",
  journal: "j",
  history: "h",
  historySizes: "hs",
} as const;

/** Firestore's limit for one document, in its own size units. */
export const DOC_LIMIT = 1_048_576;
/** Kept free in every document for what the estimate leaves out. */
export const DOC_SAFETY = 8 * 1024;
/** Largest step value accepted: with its key, name and error it still fits in one page. */
export const MAX_VALUE_BYTES = 700_000;
/** History kept in the flow document, at most (the count limit is HISTORY_LIMIT). */
export const HISTORY_BYTES = 192 * 1024;
/** One history event, at most: longer `detail` / `step` strings are shortened to fit. */
export const EVENT_MAX_BYTES = 8 * 1024;

export const MetaSchema = z.object({
  /** Incarnation of the flow: a re-created flow gets a new one. */
  g: z.string().min(1),
  /** Seqs in the open page, as inclusive [lo, hi] ranges in increasing order. */
  o: z.array(z.tuple([z.number().int(), z.number().int()])),
  /** Size of the open page's entries; an upper bound after a truncation. */
  ob: z.number().int().nonnegative(),
  /** Sizes of the kept history entries, oldest first; their counters are hn - h.length .. hn - 1. */
  h: z.array(z.number().int().nonnegative()),
  hn: z.number().int().nonnegative(),
  /** Next page number, how many sealed pages exist, and the largest seq in them (-1 when none). */
  pn: z.number().int().nonnegative(),
  pc: z.number().int().nonnegative(),
  ph: z.number().int(),
  /**
   * Journal version: a random tag replaced by every write that changes the journal, so a process that
   * holds the journal of this version need not read it again. Absent in documents of older writers.
   */
  jv: z.string().optional(),
});
export type Meta = z.infer<typeof MetaSchema>;

export function emptyMeta(g: string): Meta {
  return { g, o: [], ob: 0, h: [], hn: 0, pn: 0, pc: 0, ph: -1 };
}

/** A sealed page document: entries `j` with seqs from `lo` to `hi`, page `n` of incarnation `g`. */
export const PageSchema = z.object({
  v: z.number(),
  g: z.string(),
  n: z.number().int().nonnegative(),
  lo: z.number().int().nonnegative(),
  hi: z.number().int().nonnegative(),
  j: z.record(z.string(), z.string()),
});
export type PageData = z.infer<typeof PageSchema>;

export function pageId(g: string, n: number): string {
  return `${g}-${n}`;
}

// ---- sizes, as Firestore counts them (https://firebase.google.com/docs/firestore/storage-size) ----

export function utf8(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

export function stringSize(s: string): number {
  return utf8(s) + 1;
}

/** Size of one `name: value` entry of a document or map. */
export function fieldSize(name: string, valueSize: number): number {
  return utf8(name) + 1 + valueSize;
}

export function entrySize(key: string | number, json: string): number {
  return fieldSize(String(key), stringSize(json));
}

/** Size of a field value as Firestore counts it (FieldValue sentinels count nothing). */
export function valueSize(v: unknown): number {
  if (v === null || v === undefined || typeof v === "boolean") return 1;
  if (typeof v === "number") return 8;
  if (typeof v === "string") return stringSize(v);
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + valueSize(x), 0);
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    let n = 0;
    for (const [k, x] of Object.entries(v)) n += fieldSize(k, valueSize(x));
    return n;
  }
  return 8; // a Timestamp, or a sentinel such as FieldValue.delete()
}

export function docNameSize(path: string): number {
  return path.split("/").reduce((n, seg) => n + utf8(seg) + 1, 16) + 32;
}

/** The journal and history entries a document can hold after its name and fixed fields. */
export function pageBudget(flowPath: string): number {
  const name = docNameSize(`${flowPath}/${PAGES_COLLECTION}/${pageId("x".repeat(12), 999_999_999)}`);
  const fixed = fieldSize("v", 8) + fieldSize("g", 13) + fieldSize("n", 8) + fieldSize("lo", 8) + fieldSize("hi", 8) + fieldSize("j", 0);
  return DOC_LIMIT - DOC_SAFETY - name - fixed;
}

/** Size of the flow document without its open page's entries. */
export function flowDocBaseSize(flowPath: string, record: FlowRecord, recordBytes: number, metaJson: string, historyBytes: number, historySizesBytes: number): number {
  return (
    docNameSize(flowPath) +
    fieldSize(F.version, 8) +
    fieldSize(F.id, stringSize(record.id)) +
    fieldSize(F.flowName, stringSize(record.flowName)) +
    fieldSize(F.status, stringSize(record.status)) +
    fieldSize(F.createdAt, 8) +
    fieldSize(F.rev, 8) +
    fieldSize(F.recordFields, recordBytes) +
    fieldSize(F.meta, stringSize(metaJson)) +
    fieldSize(F.journal, 0) +
    fieldSize(F.history, historyBytes) +
    fieldSize(F.historySizes, historySizesBytes)
  );
}

/** The query fields copied out of the record. */
export function queryFields(record: FlowRecord): Record<string, unknown> {
  return {
    [F.version]: LAYOUT_VERSION,
    [F.id]: record.id,
    [F.flowName]: record.flowName,
    [F.status]: record.status,
    [F.createdAt]: record.createdAt,
    [F.rev]: record.rev,
  };
}

// ---- seq ranges of the open page ----

export function rangesCount(ranges: Meta["o"], from = -Infinity): number {
  return ranges.reduce((n, [lo, hi]) => (hi < from ? n : n + hi - Math.max(lo, from) + 1), 0);
}

export function* rangesSeqs(ranges: Meta["o"], from = -Infinity): Generator<number> {
  for (const [lo, hi] of ranges) for (let s = Math.max(lo, from); s <= hi; s++) yield s;
}

/** The ranges with every seq >= `from` removed. */
export function rangesBelow(ranges: Meta["o"], from: number): Meta["o"] {
  const out: Meta["o"] = [];
  for (const [lo, hi] of ranges) if (lo < from) out.push([lo, Math.min(hi, from - 1)]);
  return out;
}

export function rangesWith(ranges: Meta["o"], seq: number): Meta["o"] {
  const last = ranges[ranges.length - 1];
  if (last && last[1] + 1 === seq) return [...ranges.slice(0, -1), [last[0], seq]];
  return [...ranges, [seq, seq]];
}

export function rangesMax(ranges: Meta["o"]): number {
  return ranges.length ? ranges[ranges.length - 1]![1] : -1;
}

// ---- reading back ----

/** Parses a JSON string field, failing with CorruptRecordError that names the flow. */
export function parseJsonField<T>(schema: z.ZodType<T>, raw: unknown, flowId: string, where: string): T {
  if (typeof raw !== "string") throw new CorruptRecordError(flowId, where, `expected a JSON string, found ${raw === undefined ? "nothing" : typeof raw}`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    throw new CorruptRecordError(flowId, where, `not valid JSON (${(e as Error).message})`);
  }
  return parseStored(schema, value, flowId, where);
}

/** A map field of JSON strings keyed by integers, in key order. */
export function numberedEntries(raw: unknown, flowId: string, where: string): Array<[number, string]> {
  if (raw === undefined) return [];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new CorruptRecordError(flowId, where, "expected a map");
  const out: Array<[number, string]> = [];
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const n = Number(k);
    if (!Number.isSafeInteger(n) || String(n) !== k) throw new CorruptRecordError(flowId, where, `unexpected key "${k.slice(0, 40)}"`);
    if (typeof v !== "string") throw new CorruptRecordError(flowId, `${where} entry ${k}`, "expected a JSON string");
    out.push([n, v]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** True when `id` can name a Firestore document. */
export function isValidDocId(id: string): boolean {
  return id.length > 0 && utf8(id) <= 1500 && !id.includes("/") && id !== "." && id !== ".." && !/^__.*__$/.test(id);
}
