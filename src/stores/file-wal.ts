/**
 * Group commit for the file store: one fdatasync makes the writes of many concurrently committing flows
 * durable at once.
 *
 * Every commit first writes its line to the flow's own log file (into the page cache, where every process
 * sees it at once) and then asks `durable()` for that byte range. Requests arriving in the same turn of the
 * event loop form a batch. A batch of one is synced directly (fdatasync of the flow file: nothing is gained
 * by logging it elsewhere). A larger batch is appended to this process's write-ahead segment, a file
 * `.wal.<boot id>.<host>.<pid>.<random>.<n>` in the store's directory, as physical redo records
 * ("file F holds bytes B at offset O", with a CRC) and made durable by one fdatasync of the segment.
 *
 * A range may go to the segment only when everything before it in the flow file is known to be durable
 * (the caller tracks that); otherwise its flow file is synced directly, so a record never depends on bytes
 * that only another process's unsynced write holds.
 *
 * A full segment is checkpointed in the background (each flow file it names is fdatasync'd) and removed;
 * close() does the same. Segments left by a process that died are adopted on start by `recoverSegments`:
 * each record's bytes are written back where the flow file lacks them (after a machine crash the page
 * cache is gone; after a mere process crash they are all still there), the files are synced, and the
 * segment is removed. A segment is adopted only when its writer is certainly gone: it was written before
 * the machine last booted, or by a process of this host that no longer runs. Without a boot id (not
 * Linux) there is no group commit: every range is synced directly.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { hostname } from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { closeFd, createExclusive, DataSyncer, fdatasync, fsyncDir, removeQuietly, unavailable, writeOnce } from "./file-io.js";
import { FLOW_FILE_PATTERN } from "./file-names.js";

/** I/O a file store has done, for benchmarks and capacity planning. */
export interface FileStoreStats {
  /** Bytes read from flow files and segments. */
  bytesRead: number;
  /** Bytes written to flow files and segments. */
  bytesWritten: number;
  /** fdatasync / fsync calls. */
  syncs: number;
  /** Commits (and creates) made durable by a shared segment sync rather than one of their own. */
  groupCommits: number;
}

export function emptyStats(): FileStoreStats {
  return { bytesRead: 0, bytesWritten: 0, syncs: 0, groupCommits: 0 };
}

/** A byte range of a flow file that must survive a crash before its commit is reported. */
export interface DurableWrite {
  fd: number;
  /** Absolute path of the flow file. */
  file: string;
  offset: number;
  bytes: Buffer;
  /** Everything before `offset` is known durable: a redo record of the range alone suffices. */
  prefixDurable: boolean;
  /** The range is a new file's whole content, just linked into place: its directory entry must survive too. */
  linked: boolean;
}

interface Waiting {
  write: DurableWrite;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Segment {
  fd: number;
  file: string;
  size: number;
  /** Flow files with records in this segment. */
  files: Set<string>;
}

const SEGMENT_PREFIX = ".wal.";
const SEGMENT_PATTERN = /^\.wal\.([0-9a-f-]{36})\.([0-9a-f]{8})\.(\d+)\.[0-9a-z]+\.\d+$/;
/** A segment this large is checkpointed and a new one started. */
const SEGMENT_MAX_BYTES = 16 * 1024 * 1024;

export class GroupCommit {
  private pending: Waiting[] = [];
  private scheduled = false;
  private flushing: Promise<void> | undefined;
  private segment: Segment | undefined;
  private segments = 0;
  private readonly name: string | undefined;
  private checkpoints: Promise<void> = Promise.resolve();
  private readonly syncer = new DataSyncer();

  constructor(
    private readonly dir: string,
    private readonly stats: FileStoreStats,
  ) {
    const boot = bootId();
    this.name = boot ? `${SEGMENT_PREFIX}${boot}.${hostTag()}.${process.pid}.${randomBytes(6).toString("hex")}` : undefined;
  }

  /** Resolves once `write` is durable. */
  durable(write: DurableWrite): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ write, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.pending.length) this.kick();
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0);
    const logged = this.name && batch.length > 1 ? batch.filter((w) => w.write.prefixDurable) : [];
    const direct = logged.length ? batch.filter((w) => !w.write.prefixDurable) : batch;
    await Promise.all([
      logged.length ? settle(logged, () => this.logAndSync(logged.map((w) => w.write))) : undefined,
      ...direct.map((w) => settle([w], () => this.syncDirect(w.write, direct.length === 1))),
    ]);
  }

  private async syncDirect(w: DurableWrite, alone: boolean): Promise<void> {
    this.stats.syncs++;
    if (alone) await this.syncer.sync(w.fd, w.file);
    else await fdatasync(w.fd, w.file);
    if (w.linked) {
      this.stats.syncs++;
      await fsyncDir(this.dir);
    }
  }

  private async logAndSync(writes: DurableWrite[]): Promise<void> {
    const seg = await this.openSegment();
    const buf = Buffer.concat(writes.map((w) => encodeRecord(path.basename(w.file), w.offset, w.bytes, w.linked)));
    writeOnce(seg.fd, buf, seg.file);
    seg.size += buf.length;
    for (const w of writes) seg.files.add(w.file);
    this.stats.bytesWritten += buf.length;
    this.stats.syncs++;
    this.stats.groupCommits += writes.length;
    await this.syncer.sync(seg.fd, seg.file);
    if (seg.size >= SEGMENT_MAX_BYTES && this.segment === seg) {
      this.segment = undefined;
      this.checkpoints = this.checkpoints.then(() => this.checkpoint(seg));
    }
  }

  private async openSegment(): Promise<Segment> {
    if (this.segment) return this.segment;
    const file = path.join(this.dir, `${this.name}.${this.segments++}`);
    const fd = await createExclusive(file);
    this.stats.syncs++;
    await fsyncDir(this.dir); // the segment itself must be found after a crash
    this.segment = { fd, file, size: 0, files: new Set() };
    return this.segment;
  }

  /** Makes every flow file a segment names durable on its own, then drops the segment. */
  private async checkpoint(seg: Segment): Promise<void> {
    try {
      for (const file of seg.files) {
        const fd = await new Promise<number | undefined>((resolve) => fs.open(file, "r", (e, d) => resolve(e ? undefined : d)));
        if (fd === undefined) continue; // gone: nothing left to keep
        try {
          this.stats.syncs++;
          await fdatasync(fd, file);
        } finally {
          await closeFd(fd);
        }
      }
      this.stats.syncs++;
      await fsyncDir(this.dir);
      await closeFd(seg.fd);
      await removeQuietly(seg.file);
    } catch {
      await closeFd(seg.fd);
      // The segment stays: the next process on this directory adopts it.
    }
  }

  /** Waits for pending requests, checkpoints the open segment and removes it. */
  async close(): Promise<void> {
    while (this.pending.length || this.scheduled || this.flushing) await (this.flushing ?? new Promise((r) => setImmediate(r)));
    const seg = this.segment;
    this.segment = undefined;
    if (seg) this.checkpoints = this.checkpoints.then(() => this.checkpoint(seg));
    await this.checkpoints;
  }
}

async function settle(members: Waiting[], fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
    for (const m of members) m.resolve();
  } catch (e) {
    for (const m of members) m.reject(e);
  }
}

// ---- segment records ----

/**
 * One redo record: a JSON header line, then the bytes, then a newline. The CRC covers the bytes, so a
 * record torn by a crash is recognised (and so is everything after it: none of that was acknowledged).
 */
function encodeRecord(file: string, offset: number, bytes: Buffer, created: boolean): Buffer {
  const header = JSON.stringify({ f: file, o: offset, n: bytes.length, c: crc32(bytes), ...(created ? { k: 1 } : {}) });
  return Buffer.concat([Buffer.from(`${header}\n`, "utf8"), bytes, NEWLINE]);
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
