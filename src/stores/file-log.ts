/**
 * The format of a flow's log file, and how its lines fold into the flow's state.
 *
 * A log is a sequence of lines, each written by one `write(2)` as `"\n" + JSON + "\n"`. The first line is
 * the `create` (or, in a deleted flow's stub, a `delete`). Every later line claims the next rev: it is
 * applied only when its `rev` is exactly the last applied rev + 1, so of several writers racing for one rev
 * the first to land wins and the others' lines are skipped. Nothing applies after a `delete`.
 *
 * A create carries the whole record; a commit only what changed in it (`set`, `unset`), applied to the
 * record of the rev before, which is the one the writer had when it wrote: a step rewrites a few fields,
 * not the flow's input and everything else.
 *
 * A line that is not JSON is a torn write (a crash mid-write) and is skipped; the leading newline makes
 * sure the next writer's line starts on a fresh line even after such a fragment. A trailing line without
 * its newline is not read yet. A line that is JSON but not a valid log line is corruption and fails loudly.
 */
import { z } from "zod";
import { CorruptRecordError, formatIssues } from "../errors.js";
import { deepFreeze, jsonCopy } from "../json-value.js";
import { flowIdOfFileName } from "./file-names.js";
import { HISTORY_LIMIT } from "../ports.js";
import { FlowRecordSchema, HistoryEventSchema, parseStored, StepRecordSchema, type FlowRecord, type HistoryEvent, type StepRecord } from "../schemas.js";

const LogLineSchema = z.object({
  op: z.enum(["create", "commit", "delete"]),
  rev: z.number().int().nonnegative(),
  /** Random per write: tells a writer whether the line applied for its rev is its own. */
  nonce: z.string(),
  /** The whole record: on a create, and on commits written before records were patched. */
  record: z.unknown().optional(),
  /** A commit's record as a patch of the one before it: the keys whose value changed, and the keys removed. */
  set: z.record(z.string(), z.unknown()).optional(),
  unset: z.array(z.string()).optional(),
  steps: z.array(z.unknown()).optional(),
  truncateFrom: z.number().int().nonnegative().optional(),
  events: z.array(z.unknown()).optional(),
});
export type LogLine = z.infer<typeof LogLineSchema>;

const StepsSchema = z.array(StepRecordSchema);
const EventsSchema = z.array(HistoryEventSchema);

/** A flow's state as folded from its log up to `offset`. */
export interface FlowLog {
  /** The flow id, for errors and to check records against (adopted from the first line when unknown). */
  id: string | undefined;
  /** Where errors say the log is. */
  file: string;
  /** False: keep only the record (for listing); true: also the journal and history, validated. */
  full: boolean;
  /** Byte offset just past the last complete line folded. */
  offset: number;
  /** True once the first line is folded. */
  started: boolean;
  deleted: boolean;
  /** True when the first line was a delete: the log of a deleted flow, already reclaimed. */
  stub: boolean;
  rev: number;
  record: FlowRecord | undefined;
  steps: StepRecord[];
  history: HistoryEvent[];
}

export function emptyLog(id: string | undefined, file: string, full: boolean): FlowLog {
  return { id, file, full, offset: 0, started: false, deleted: false, stub: false, rev: -1, record: undefined, steps: [], history: [] };
}

export function encodeLine(line: LogLine): { json: string; bytes: Buffer } {
  const json = JSON.stringify(line);
  return { json, bytes: Buffer.from(`\n${json}\n`, "utf8") };
}

/**
 * Folds the complete lines of `chunk` (the file's bytes from `log.offset`) into `log`, and advances
 * `log.offset` past the last newline. Returns whether a line with nonce `watch` was applied.
 */
export function foldChunk(log: FlowLog, chunk: Buffer, watch?: string): boolean {
  let watchedApplied = false;
  let start = 0;
  for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
    const at = log.offset + start;
    const text = nl > start ? chunk.toString("utf8", start, nl) : "";
    start = nl + 1;
    if (text.length === 0) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      continue; // torn write
    }
    const parsed = LogLineSchema.safeParse(raw);
    if (!parsed.success) throw corrupt(log, `log line at byte ${at} of ${log.file}`, formatIssues(parsed.error));
    if (applyLine(log, parsed.data, true) && watch !== undefined && parsed.data.nonce === watch) watchedApplied = true;
  }
  log.offset += start;
  return watchedApplied;
}

/**
 * Folds a line this process just wrote and found applied, without reading it back or validating it: a
 * JSON-exact copy gives private data, exactly as another reader would see it.
 */
export function foldOwnLine(log: FlowLog, line: LogLine, endOffset: number): void {
  applyLine(log, jsonCopy(line), false);
  log.offset = endOffset;
}

/** The history to hand out: the newest HISTORY_LIMIT events. */
export function currentHistory(log: FlowLog): HistoryEvent[] {
  const h = log.history;
  return h.length > HISTORY_LIMIT ? h.slice(h.length - HISTORY_LIMIT) : h;
}

function applyLine(log: FlowLog, line: LogLine, validate: boolean): boolean {
  if (!log.started) {
    if (line.op === "commit") throw corrupt(log, `first line of ${log.file}`, "a log must start with a create or delete line");
    log.started = true;
    log.rev = line.rev;
    if (line.op === "delete") {
      log.deleted = log.stub = true;
      return true;
    }
    log.record = readRecord(log, line, validate);
    if (log.full && line.events?.length) appendEvents(log, line.events, validate);
    return true;
  }
  if (log.deleted || line.op === "create" || line.rev !== log.rev + 1) return false; // lost its race
  log.rev = line.rev;
  if (line.op === "delete") {
    log.deleted = true;
    log.record = undefined;
    log.steps = [];
    log.history = [];
    return true;
  }
  log.record = readRecord(log, line, validate);
  if (!log.full) return true;
  if (line.truncateFrom !== undefined) {
    const from = line.truncateFrom;
    log.steps = log.steps.filter((s) => s.seq < from);
  }
  if (line.steps?.length) {
    const steps = validate ? parseStored(StepsSchema, line.steps, log.id!, `journal (${log.file}, rev ${line.rev})`) : (line.steps as StepRecord[]);
    // Journal entries never change once written: loads share them, frozen, instead of copying the journal.
    for (const s of steps) log.steps.push(deepFreeze(s));
  }
  if (line.events?.length) appendEvents(log, line.events, validate);
  return true;
}

function readRecord(log: FlowLog, line: LogLine, validate: boolean): FlowRecord {
  const whole = line.op === "commit" && line.record === undefined && line.set !== undefined && log.record ? applyPatch(log.record, line.set, line.unset) : line.record;
  // JSON drops an undefined `input`; the schema wants the key present.
  const raw = whole !== null && typeof whole === "object" && !("input" in whole) ? { ...whole, input: undefined } : whole;
  if (!validate) return raw as FlowRecord;
  const where = `record (${log.file}, rev ${line.rev})`;
  const record = parseStored(FlowRecordSchema, raw, flowIdOf(log), where);
  log.id ??= record.id;
  if (record.id !== log.id) throw corrupt(log, where, `it belongs to flow "${record.id}"`);
  if (record.rev !== line.rev) throw corrupt(log, where, `its rev ${record.rev} differs from the line's rev ${line.rev}`);
  return record;
}

/** `record` with a commit line's `set` and `unset` applied. */
function applyPatch(record: FlowRecord, set: Record<string, unknown>, unset: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record, ...set };
  if (unset) for (const k of unset) delete out[k];
  return out;
}

function appendEvents(log: FlowLog, events: unknown[], validate: boolean): void {
  const valid = validate ? parseStored(EventsSchema, events, log.id!, `history (${log.file})`) : (events as HistoryEvent[]);
  for (const e of valid) log.history.push(e);
  // Kept up to twice the limit, so dropping old events is amortised over many lines.
  if (log.history.length > 2 * HISTORY_LIMIT) log.history.splice(0, log.history.length - HISTORY_LIMIT);
}

function corrupt(log: FlowLog, where: string, issues: string): CorruptRecordError {
  return new CorruptRecordError(flowIdOf(log), where, issues);
}

/** The flow a log belongs to, for errors: a listing reads logs before it knows their ids, so from the file's name. */
function flowIdOf(log: FlowLog): string {
  return log.id ?? flowIdOfFileName(log.file) ?? log.file;
}
