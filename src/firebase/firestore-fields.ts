/**
 * How the flow document stores its record and layout, written and read back.
 *
 * Layout 2, written now:
 *   - `r`: the record as a map of its top-level keys, each value a JSON string. A commit sets only the keys
 *     that changed (a step changes `rev`, `stepCount` and `updatedAt`, never the input), and deletes the
 *     keys removed.
 *   - `m`: the layout without the history sizes, which sit beside it in `hs`, a map counter -> size. An
 *     appended event adds one small field there instead of rewriting a list of up to 500 sizes.
 * Layout 1, read: the whole record as one JSON string `rec`, the history sizes in `m`. The next commit to
 * such a document rewrites its record and sizes in layout 2.
 *
 * A document of a later layout than this code knows fails loudly rather than being misread.
 */
import { FieldValue } from "firebase-admin/firestore";
import { CorruptRecordError, InvalidArgumentError } from "../errors.js";
import { FlowRecordSchema, parseStored, type FlowRecord } from "../schemas.js";
import { recordPatch } from "../stores/store-helpers.js";
import { entrySize, F, fieldSize, LAYOUT_VERSION, MetaSchema, parseJsonField, queryFields, type Meta } from "./firestore-layout.js";

/** The layout stored in `m` by layout 2: the history sizes are in `hs`. */
const StoredMetaSchema = MetaSchema.omit({ h: true });

/** Record keys are the schema's own names; anything else could not be a plain field path. */
const RECORD_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The fields a read of the record and layout asks for. */
export const RECORD_FIELDS = [F.version, F.record, F.recordFields, F.meta, F.historySizes] as const;

export interface StoredRecord {
  record: FlowRecord;
  meta: Meta;
  /** Layout 1: the next commit rewrites the record and history sizes whole. */
  legacy: boolean;
}

/** Reads the record and layout of a flow document, whichever layout wrote it. */
export function readRecordFields(get: (field: string) => unknown, flowId: string): StoredRecord {
  const version = get(F.version);
  if (typeof version === "number" && version > LAYOUT_VERSION) {
    throw new CorruptRecordError(flowId, "document", `it has layout ${version}, written by a newer Firestep than this one (layout ${LAYOUT_VERSION}); upgrade Firestep in every process that uses this collection`);
  }
  const fields = get(F.recordFields);
  if (fields === undefined) {
    return { record: parseJsonField<FlowRecord>(FlowRecordSchema, get(F.record), flowId, "record"), meta: parseJsonField<Meta>(MetaSchema, get(F.meta), flowId, "layout"), legacy: true };
  }
  const stored = parseJsonField(StoredMetaSchema, get(F.meta), flowId, "layout");
  return { record: recordFromFields(fields, flowId), meta: { ...stored, h: historySizesFrom(get(F.historySizes), stored.hn, flowId) }, legacy: false };
}

/** A record read from a list query (which selects only the record's fields). */
export function listedRecord(get: (field: string) => unknown, flowId: string): FlowRecord {
  const fields = get(F.recordFields);
  return fields === undefined ? parseJsonField<FlowRecord>(FlowRecordSchema, get(F.record), flowId, "record") : recordFromFields(fields, flowId);
}

function recordFromFields(raw: unknown, flowId: string): FlowRecord {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new CorruptRecordError(flowId, "record", "expected a map of JSON strings");
  const record: Record<string, unknown> = {};
  for (const [key, json] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof json !== "string") throw new CorruptRecordError(flowId, `record field "${key}"`, "expected a JSON string");
    try {
      record[key] = JSON.parse(json);
    } catch (e) {
      throw new CorruptRecordError(flowId, `record field "${key}"`, `not valid JSON (${(e as Error).message})`);
    }
  }
  return parseStored(FlowRecordSchema, record, flowId, "record");
}

/** The sizes of the kept history events, oldest first: `hs` must hold exactly the counters before `hn`. */
function historySizesFrom(raw: unknown, hn: number, flowId: string): number[] {
  if (raw === undefined) return [];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new CorruptRecordError(flowId, "history sizes", "expected a map");
  const entries = Object.entries(raw as Record<string, unknown>).map(([k, v]) => [Number(k), v] as const);
  entries.sort((a, b) => a[0] - b[0]);
  const first = hn - entries.length;
  return entries.map(([n, size], i) => {
    if (n !== first + i || typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      throw new CorruptRecordError(flowId, "history sizes", `expected sizes of events ${first} to ${hn - 1}, found event ${n} with size ${String(size)}`);
    }
    return size;
  });
}

/** The record as the `r` map, and that map's size in the document. */
export function recordFields(record: FlowRecord): { fields: Record<string, string>; bytes: number } {
  const fields: Record<string, string> = {};
  let bytes = 0;
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined) continue;
    const json = JSON.stringify(value);
    fields[checkedKey(record, key)] = json;
    bytes += entrySize(key, json);
  }
  return { fields, bytes };
}

/**
 * The field updates that turn the stored record `prev` into `next`: only the changed keys, or the whole
 * map when `prev` is not known (or the document is in layout 1, when `rec` also goes).
 */
export function recordUpdate(prev: FlowRecord | undefined, next: FlowRecord, legacy: boolean, whole: Record<string, string>): Record<string, unknown> {
  if (!prev || legacy) {
    return { ...queryFields(next), [F.recordFields]: whole, ...(legacy ? { [F.record]: FieldValue.delete() } : {}) };
  }
  const update: Record<string, unknown> = { [F.rev]: next.rev };
  if (next.status !== prev.status) update[F.status] = next.status;
  const { set, unset } = recordPatch(prev, next);
  for (const key of Object.keys(set)) update[`${F.recordFields}.${checkedKey(next, key)}`] = whole[key];
  for (const key of unset ?? []) update[`${F.recordFields}.${checkedKey(prev, key)}`] = FieldValue.delete();
  return update;
}

/** `m` as layout 2 stores it. */
export function metaJson(meta: Meta): string {
  const { h: _sizes, ...stored } = meta;
  return JSON.stringify(stored);
}

/** The `hs` map of a layout, whole. */
export function historySizes(meta: Meta): Record<string, number> {
  const first = meta.hn - meta.h.length;
  return Object.fromEntries(meta.h.map((size, i) => [String(first + i), size]));
}

/** Size of the `hs` map in the document. */
export function historySizesBytes(meta: Meta): number {
  const first = meta.hn - meta.h.length;
  let bytes = 0;
  for (let i = 0; i < meta.h.length; i++) bytes += fieldSize(String(first + i), 8);
  return bytes;
}

function checkedKey(record: FlowRecord, key: string): string {
  if (!RECORD_KEY.test(key)) throw new InvalidArgumentError(`Flow "${record.id}" has a record key "${key.slice(0, 40)}" that is not one of the record schema's names.`);
  return key;
}
