/**
 * Turns a commit into Firestore writes for the layout in firestore-layout.ts, without I/O: one update of the
 * flow document (the record's changed keys and the new journal and history entries as field paths, so only
 * they travel) and, now and then, sealed page documents. When the plan needs what it was not given (the open
 * page's entries to seal it, or the sealed pages to truncate them) it says so, and the caller reads them and
 * plans again.
 */
import { FieldValue } from "firebase-admin/firestore";
import { InvalidArgumentError, ValueTooLargeError } from "../errors.js";
import { HISTORY_LIMIT, type Commit } from "../ports.js";
import type { FlowRecord, HistoryEvent } from "../schemas.js";
import { historySizes, historySizesBytes, metaJson, recordFields, recordUpdate } from "./firestore-fields.js";
import {
  DOC_LIMIT, DOC_SAFETY, EVENT_MAX_BYTES, F, HISTORY_BYTES, LAYOUT_VERSION, entrySize, flowDocBaseSize, pageBudget, pageId,
  queryFields, rangesBelow, rangesCount, rangesMax, rangesSeqs, rangesWith, utf8, type Meta, type PageData,
} from "./firestore-layout.js";

/** More deletions than this in one update and the open page is rewritten whole instead. */
const MAX_FIELD_DELETES = 500;
/** Room left for the layout string growing during a plan. */
const META_SLACK = 512;

export interface PlanInput {
  flowId: string;
  /** The flow document's path, for its size. */
  flowPath: string;
  meta: Meta;
  /** The stored record the commit replaces, when known: only its changed keys are written. */
  previous?: FlowRecord;
  /** The document is in layout 1 (firestore-fields.ts): this commit rewrites it in layout 2. */
  legacy?: boolean;
  commit: Commit;
  /** The open page's entries (seq -> JSON), when the flow document was read in full. */
  open?: Map<number, string>;
  /** This incarnation's sealed pages, when they were read. */
  pages?: PageData[];
  /** The journal version (`jv`) to record when this commit changes the journal. */
  journalVersion: string;
}

export interface PageWrite {
  id: string;
  data: PageData;
}

export type CommitPlan =
  | { need: "open" }
  | { need: "pages" }
  | { need?: undefined; flowUpdate: Record<string, unknown>; pageSets: PageWrite[]; pageDeletes: string[]; meta: Meta };

interface Entry {
  seq: number;
  json: string;
  size: number;
}

export function planCommit(input: PlanInput): CommitPlan {
  const { flowId, flowPath, meta, commit } = input;
  const t = commit.truncateFrom;
  const openDeletes: number[] = [];
  /** Set when the open page is rewritten whole; holds its entries. */
  let openWhole: Map<number, string> | undefined;
  let o = meta.o;
  let ob = meta.ob;
  let { pn, pc, ph } = meta;
  const pageSets: PageWrite[] = [];
  const pageDeletes: string[] = [];

  if (t !== undefined) {
    const removed = rangesCount(o, t);
    if (removed > 0) {
      if (removed === rangesCount(o)) {
        openWhole = new Map();
        ob = 0;
      } else if (removed <= MAX_FIELD_DELETES) {
        openDeletes.push(...rangesSeqs(o, t));
      } else {
        if (!input.open) return { need: "open" };
        openWhole = new Map([...input.open].filter(([s]) => s < t));
        ob = sumSizes(openWhole);
      }
      o = rangesBelow(o, t);
    }
    if (pc > 0 && t <= ph) {
      if (!input.pages) return { need: "pages" };
      ph = -1;
      for (const page of input.pages) {
        if (page.lo >= t) {
          pageDeletes.push(pageId(meta.g, page.n));
          pc--;
          continue;
        }
        let hi = page.hi;
        if (hi >= t) {
          const j = Object.fromEntries(Object.entries(page.j).filter(([s]) => Number(s) < t));
          hi = Math.max(...Object.keys(j).map(Number));
          pageSets.push({ id: pageId(meta.g, page.n), data: { ...page, hi, j } });
        }
        ph = Math.max(ph, hi);
      }
    }
  }

  const entries = encodeSteps(flowId, flowPath, commit, Math.max(rangesMax(o), ph));
  const history = appendHistory(meta, commit.events ?? []);
  const rec = recordFields(commit.record);
  const provisional: Meta = { ...meta, o, h: history.h, hn: history.hn };
  const base = flowDocBaseSize(flowPath, commit.record, rec.bytes, metaJson(provisional), history.bytes, historySizesBytes(provisional)) + META_SLACK;
  const room = DOC_LIMIT - DOC_SAFETY - base;
  if (room < 0) throw recordTooLarge(commit.record, rec.bytes);

  const newBytes = entries.reduce((n, e) => n + e.size, 0);
  const toPages: Entry[] = [];
  let toOpen: Entry[] = entries;
  if (ob + newBytes > room) {
    if (newBytes >= ob && ob <= room) {
      toOpen = [];
      toPages.push(...entries);
    } else {
      const content = openWhole ?? (input.open && new Map([...input.open].filter(([s]) => t === undefined || s < t)));
      if (!content) return { need: "open" };
      toPages.push(...[...content].map(([seq, json]) => ({ seq, json, size: entrySize(seq, json) })));
      openWhole = new Map();
      o = [];
      ob = 0;
      if (newBytes > room) {
        toOpen = [];
        toPages.push(...entries);
      }
    }
  }
  for (const group of pack(toPages, pageBudget(flowPath))) {
    const n = pn++;
    const lo = group[0]!.seq;
    const hi = group[group.length - 1]!.seq;
    pageSets.push({ id: pageId(meta.g, n), data: { v: LAYOUT_VERSION, g: meta.g, n, lo, hi, j: Object.fromEntries(group.map((e) => [String(e.seq), e.json])) } });
    pc++;
    ph = Math.max(ph, hi);
  }
  for (const e of toOpen) {
    o = rangesWith(o, e.seq);
    ob += e.size;
    openWhole?.set(e.seq, e.json);
  }

  const changesJournal = entries.length > 0 || t !== undefined;
  const jv = changesJournal ? input.journalVersion : meta.jv;
  const next: Meta = { g: meta.g, o, ob, h: history.h, hn: history.hn, pn, pc, ph, ...(jv !== undefined ? { jv } : {}) };
  const flowUpdate: Record<string, unknown> = { ...recordUpdate(input.previous, commit.record, input.legacy ?? false, rec.fields), [F.meta]: metaJson(next) };
  if (openWhole) {
    flowUpdate[F.journal] = Object.fromEntries([...openWhole].map(([s, json]) => [String(s), json]));
  } else {
    for (const s of openDeletes) flowUpdate[`${F.journal}.${s}`] = FieldValue.delete();
    for (const e of toOpen) flowUpdate[`${F.journal}.${e.seq}`] = e.json;
  }
  for (const n of history.deletes) flowUpdate[`${F.history}.${n}`] = FieldValue.delete();
  for (const [n, json] of history.sets) flowUpdate[`${F.history}.${n}`] = json;
  if (input.legacy) {
    flowUpdate[F.historySizes] = historySizes(next);
  } else {
    for (const n of history.deletes) flowUpdate[`${F.historySizes}.${n}`] = FieldValue.delete();
    for (const [n, json] of history.sets) flowUpdate[`${F.historySizes}.${n}`] = entrySize(n, json);
  }
  return { flowUpdate, pageSets, pageDeletes, meta: next };
}

/** The fields of a new flow document, and its layout. */
export function planCreate(flowPath: string, record: FlowRecord, events: HistoryEvent[], g: string): { data: Record<string, unknown>; meta: Meta } {
  const empty: Meta = { g, o: [], ob: 0, h: [], hn: 0, pn: 0, pc: 0, ph: -1, jv: g };
  const history = appendHistory(empty, events);
  const meta: Meta = { ...empty, h: history.h, hn: history.hn };
  const rec = recordFields(record);
  const m = metaJson(meta);
  if (flowDocBaseSize(flowPath, record, rec.bytes, m, history.bytes, historySizesBytes(meta)) + META_SLACK > DOC_LIMIT - DOC_SAFETY) throw recordTooLarge(record, rec.bytes);
  return {
    data: {
      ...queryFields(record),
      [F.recordFields]: rec.fields,
      [F.meta]: m,
      [F.journal]: {},
      [F.history]: Object.fromEntries(history.sets.map(([n, json]) => [String(n), json])),
      [F.historySizes]: historySizes(meta),
    },
    meta,
  };
}

function encodeSteps(flowId: string, flowPath: string, commit: Commit, journalMax: number): Entry[] {
  let last = journalMax;
  const budget = pageBudget(flowPath);
  return (commit.steps ?? []).map((step) => {
    if (!Number.isSafeInteger(step.seq) || step.seq <= last) {
      throw new InvalidArgumentError(
        `Commit to flow "${flowId}" appends step seq ${step.seq} after seq ${last}: appended steps must continue the journal in increasing seq order (truncate first to replace steps).`,
      );
    }
    last = step.seq;
    const json = JSON.stringify(step);
    const size = entrySize(step.seq, json);
    if (size > budget) throw new ValueTooLargeError(step.key, size, budget);
    return { seq: step.seq, json, size };
  });
}

interface HistoryAppend {
  /** Counter -> JSON of the new events that are kept. */
  sets: Array<[number, string]>;
  /** Counters of stored events that are dropped. */
  deletes: number[];
  h: number[];
  hn: number;
  bytes: number;
}

/** Appends events, keeping the newest HISTORY_LIMIT within HISTORY_BYTES. */
function appendHistory(meta: Meta, events: HistoryEvent[]): HistoryAppend {
  const firstStored = meta.hn - meta.h.length;
  const all = [
    ...meta.h.map((size, i) => ({ n: firstStored + i, size, json: undefined as string | undefined })),
    ...events.map((e, i) => {
      const json = eventJson(e);
      return { n: meta.hn + i, size: entrySize(meta.hn + i, json), json };
    }),
  ];
  let bytes = all.reduce((n, e) => n + e.size, 0);
  let drop = 0;
  while (drop < all.length && (all.length - drop > HISTORY_LIMIT || bytes > HISTORY_BYTES)) bytes -= all[drop++]!.size;
  const kept = all.slice(drop);
  return {
    sets: kept.filter((e) => e.json !== undefined).map((e) => [e.n, e.json!]),
    deletes: all.slice(0, drop).filter((e) => e.json === undefined).map((e) => e.n),
    h: kept.map((e) => e.size),
    hn: meta.hn + events.length,
    bytes,
  };
}

/** An event's JSON; a huge `detail` or `step` is shortened so one event stays under EVENT_MAX_BYTES. */
function eventJson(e: HistoryEvent): string {
  const json = JSON.stringify(e);
  if (utf8(json) <= EVENT_MAX_BYTES) return json;
  const short = (s: string | undefined) => (s !== undefined && s.length > 1000 ? `${s.slice(0, 1000)}…` : s);
  const detail = short(e.detail);
  const step = short(e.step);
  return JSON.stringify({ ...e, ...(detail !== undefined ? { detail } : {}), ...(step !== undefined ? { step } : {}) });
}

/** Consecutive groups whose sizes add up to at most `budget` each. */
function pack(entries: Entry[], budget: number): Entry[][] {
  const groups: Entry[][] = [];
  let current: Entry[] = [];
  let size = 0;
  for (const e of [...entries].sort((a, b) => a.seq - b.seq)) {
    if (current.length && size + e.size > budget) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(e);
    size += e.size;
  }
  if (current.length) groups.push(current);
  return groups;
}

function sumSizes(entries: Map<number, string>): number {
  let n = 0;
  for (const [seq, json] of entries) n += entrySize(seq, json);
  return n;
}

function recordTooLarge(record: FlowRecord, bytes: number): InvalidArgumentError {
  return new InvalidArgumentError(
    `Flow "${record.id}" has a record of ${bytes} bytes (its input, output, error and resume payloads), too large for ` +
      `its Firestore document (1 MiB, shared with its history and newest steps). Keep flow inputs, outputs and resume payloads small: ` +
      `store large data elsewhere (e.g. Cloud Storage) and pass a reference.`,
  );
}
