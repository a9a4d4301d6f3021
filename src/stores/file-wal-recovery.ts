/**
 * The write-ahead segments' format, and the adoption of segments whose writer is gone (see file-wal.ts).
 *
 * A segment is named `.wal.<boot id>.<host>.<pid>.<random>.<n>` and holds redo records. On start, a store
 * adopts the segments of writers that are certainly gone (written before the machine last booted, or by a
 * process of this host that no longer runs): each record's bytes are written back where the flow file
 * lacks them (after a machine crash the page cache is gone; after a mere process crash they are all still
 * there), the files are synced, and the segment is removed.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { hostname } from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { fsyncDir, removeQuietly, unavailable } from "./file-io.js";
import { FLOW_FILE_PATTERN } from "./file-names.js";
import type { FileStoreStats } from "./file-stats.js";

const SEGMENT_PREFIX = ".wal.";
const SEGMENT_PATTERN = /^\.wal\.([0-9a-f-]{36})\.([0-9a-f]{8})\.(\d+)\.[0-9a-z]+\.\d+$/;

/** `.wal.<boot id>.<host>.<pid>` for this process, or undefined where there is no boot id. */
export function segmentNamePrefix(): string | undefined {
  const boot = bootId();
  return boot ? `${SEGMENT_PREFIX}${boot}.${hostTag()}.${process.pid}` : undefined;
}

// ---- segment records ----

/**
 * One redo record: a JSON header line, then the bytes, then a newline, as the parts to write in a row. The
 * CRC covers the bytes, so a record torn by a crash is recognised (and so is everything after it: none of
 * that was acknowledged). Zeros where a header should start end the records: segments are zero-filled ahead.
 */
export function encodeRecord(file: string, offset: number, bytes: Buffer, linked: boolean): Buffer[] {
  // Flow file names are ASCII (file-names.ts).
  const header = `{"f":${JSON.stringify(file)},"o":${offset},"n":${bytes.length},"c":${crc32(bytes)}${linked ? ',"k":1' : ""}}\n`;
  return [Buffer.from(header, "latin1"), bytes, NEWLINE];
}

const NEWLINE = Buffer.from("\n");

interface RedoRecord {
  file: string;
  offset: number;
  bytes: Buffer;
  created: boolean;
}

/** The intact records of a segment, up to the first torn or corrupt one. */
export function decodeRecords(buf: Buffer): RedoRecord[] {
  const out: RedoRecord[] = [];
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(0x0a, at);
    if (nl < 0) break;
    let h: { f?: unknown; o?: unknown; n?: unknown; c?: unknown; k?: unknown };
    try {
      h = JSON.parse(buf.toString("utf8", at, nl)) as typeof h;
    } catch {
      break;
    }
    if (typeof h.f !== "string" || !FLOW_FILE_PATTERN.test(h.f) || !isCount(h.o) || !isCount(h.n) || typeof h.c !== "number") break;
    const start = nl + 1;
    const end = start + h.n;
    if (end + 1 > buf.length || buf[end] !== 0x0a) break;
    const bytes = buf.subarray(start, end);
    if (crc32(bytes) !== h.c) break;
    out.push({ file: h.f, offset: h.o, bytes, created: h.k === 1 });
    at = end + 1;
  }
  return out;
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

// ---- recovery ----

/**
 * Adopts the segments of writers that are gone: writes back whatever their records hold that the flow
 * files lack, syncs those files, and removes the segments. Safe to run in several processes at once (the
 * records of one range all hold the same bytes, and a range is only written where it differs).
 */
export async function recoverSegments(dir: string, stats: FileStoreStats): Promise<void> {
  const boot = bootId();
  const host = hostTag();
  let names: string[];
  try {
    names = (await fs.promises.readdir(dir)).filter((n) => n.startsWith(SEGMENT_PREFIX));
  } catch {
    return;
  }
  const orphans = names.filter((n) => {
    const m = SEGMENT_PATTERN.exec(n);
    if (!m) return false;
    if (m[1] !== boot) return boot !== undefined; // written before the last boot: its writer is gone
    return m[2] === host && !isAlive(Number(m[3]));
  });
  if (orphans.length === 0) return;
  const byFile = new Map<string, RedoRecord[]>();
  for (const name of orphans) {
    let buf: Buffer;
    try {
      buf = await fs.promises.readFile(path.join(dir, name));
    } catch {
      continue; // adopted by another process meanwhile
    }
    stats.bytesRead += buf.length;
    for (const r of decodeRecords(buf)) {
      const list = byFile.get(r.file) ?? [];
      list.push(r);
      byFile.set(r.file, list);
    }
  }
  let createdAny = false;
  for (const [name, records] of byFile) {
    records.sort((a, b) => a.offset - b.offset);
    if (redoFile(path.join(dir, name), records, stats)) createdAny = true;
  }
  if (createdAny || byFile.size) {
    stats.syncs++;
    await fsyncDir(dir);
  }
  for (const name of orphans) await removeQuietly(path.join(dir, name));
}

/** Writes back the records' bytes where the file differs, and syncs it. Returns whether it created the file. */
function redoFile(file: string, records: RedoRecord[], stats: FileStoreStats): boolean {
  let created = false;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDWR);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw unavailable(e as NodeJS.ErrnoException, "recover", file);
    fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o666);
    created = true;
  }
  try {
    if (!created && isStub(fd)) return false; // deleted and reclaimed since: its data must stay gone
    for (const r of records) {
      const have = Buffer.alloc(r.bytes.length);
      const n = fs.readSync(fd, have, 0, have.length, r.offset);
      stats.bytesRead += n;
      if (n === have.length && have.equals(r.bytes)) continue;
      let done = 0;
      while (done < r.bytes.length) done += fs.writeSync(fd, r.bytes, done, r.bytes.length - done, r.offset + done);
      stats.bytesWritten += r.bytes.length;
    }
    stats.syncs++;
    fs.fdatasyncSync(fd);
  } catch (e) {
    throw unavailable(e as NodeJS.ErrnoException, "recover", file);
  } finally {
    fs.closeSync(fd);
  }
  return created;
}

const STUB_START = Buffer.from('\n{"op":"delete"');

function isStub(fd: number): boolean {
  const head = Buffer.alloc(STUB_START.length);
  const n = fs.readSync(fd, head, 0, head.length, 0);
  return n === head.length && head.equals(STUB_START);
}

// ---- identity of the writer ----

let cachedBoot: string | null | undefined;

/** This boot of the machine (Linux), or undefined where the system does not say. */
export function bootId(): string | undefined {
  if (cachedBoot === undefined) {
    try {
      const id = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
      cachedBoot = /^[0-9a-f-]{36}$/.test(id) ? id : null;
    } catch {
      cachedBoot = null;
    }
  }
  return cachedBoot ?? undefined;
}

function hostTag(): string {
  return createHash("sha256").update(hostname()).digest("hex").slice(0, 8);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

// ---- CRC-32 (zlib.crc32 where Node has it) ----

const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
let table: Int32Array | undefined;

export function crc32(data: Uint8Array): number {
  if (nativeCrc32) return nativeCrc32(data);
  table ??= makeTable();
  let c = -1;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function makeTable(): Int32Array {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
}
