/**
 * Group commit for the file store: one fdatasync makes the writes of many concurrently committing flows
 * durable at once.
 *
 * Every commit first writes its line to the flow's own log file (into the page cache, where every process
 * sees it at once) and then asks `durable()` for that byte range. Requests arriving in the same turn of the
 * event loop form a batch. The batch is appended to this process's write-ahead segment, a file
 * `.wal.<boot id>.<host>.<pid>.<random>.<n>` in the store's directory, as physical redo records
 * ("file F holds bytes B at offset O", with a CRC) by one durable write. Even a batch of one goes there:
 * the segment is zero-filled ahead (file-wal-segment.ts), so its write commits no file-system metadata and
 * costs about a third less than syncing the flow file, whose append grows it.
 *
 * A range may go to the segment only when everything before it in the flow file is known to be durable
 * (the caller tracks that); otherwise its flow file is synced directly, so a record never depends on bytes
 * that only another process's unsynced write holds. A new file's first line goes to the segment like any
 * range: its record recreates the file, so its directory entry need not be synced.
 *
 * A full segment is checkpointed in the background (each flow file it names is fdatasync'd) and removed;
 * close() does the same. Segments left by a process that died are adopted on start (file-wal-recovery.ts).
 * Without a boot id (not Linux) there is no group commit: every range is synced directly.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { closeFd, DataSyncer, DirSyncer, fdatasync, removeQuietly } from "./file-io.js";
import { encodeRecord, segmentNamePrefix } from "./file-wal-recovery.js";
import type { FileStoreStats } from "./file-stats.js";
import { SegmentFile } from "./file-wal-segment.js";

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

/** A segment this large is checkpointed and a new one started. */
const SEGMENT_MAX_BYTES = 16 * 1024 * 1024;
/** A range larger than this is synced in its flow file instead of being copied into a segment. */
const MAX_LOGGED_BYTES = 1024 * 1024;

export class GroupCommit {
  private pending: Waiting[] = [];
  private scheduled = false;
  private flushing: Promise<void> | undefined;
  private segment: SegmentFile | undefined;
  private segments = 0;
  /** Segments are written directly (file-direct-io.ts) until one finds that the file system refuses it. */
  private direct = true;
  private readonly name: string | undefined;
  private checkpoints: Promise<void> = Promise.resolve();
  private readonly syncer = new DataSyncer();
  private readonly dirSyncer: DirSyncer;

  constructor(
    private readonly dir: string,
    private readonly stats: FileStoreStats,
  ) {
    const prefix = segmentNamePrefix();
    this.name = prefix ? `${prefix}.${randomBytes(6).toString("hex")}` : undefined;
    this.dirSyncer = new DirSyncer(dir);
  }

  /** Makes the directory's entry changes durable. */
  async syncDir(inline = true): Promise<void> {
    this.stats.syncs++;
    await this.dirSyncer.sync(inline);
  }

  /** Resolves once `write` is durable. */
  durable(write: DurableWrite): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ write, resolve, reject });
      this.kick();
    });
  }

  /** Requests arriving in this turn of the event loop join one batch, flushed on the next turn. */
  private kick(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.flushNow()) return;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.pending.length) this.kick();
      });
    });
  }

  /**
   * The common case, done without a promise in the way (each costs the next step of a flow a little): every
   * waiting range may be logged and the open segment takes them inline. Returns false, having done
   * nothing, when flush() must handle the batch.
   */
  private flushNow(): boolean {
    if (this.pending.length === 0) return true;
    const seg = this.segment;
    if (!seg || !this.pending.every((w) => this.loggable(w.write))) return false;
    const writes = this.pending.map((w) => w.write);
    let written: boolean;
    try {
      written = seg.appendNow(this.encode(seg, writes));
    } catch {
      this.retire(seg); // records after a damaged one would not be read back: flush() retries elsewhere
      return false;
    }
    if (!written) return false;
    this.counted(seg, writes);
    for (const w of this.pending.splice(0)) w.resolve();
    return true;
  }

  /** Every range of the batch that may be logged is, by one segment write; the others sync their files. */
  private async flush(): Promise<void> {
    const batch = this.pending.splice(0);
    const logged: Waiting[] = [];
    const direct: Waiting[] = [];
    for (const w of batch) (this.loggable(w.write) ? logged : direct).push(w);
    await Promise.all([
      logged.length ? settle(logged, () => this.logOrSync(logged.map((w) => w.write), batch.length === 1)) : undefined,
      ...direct.map((w) => settle([w], () => this.syncDirect(w.write, batch.length === 1))),
    ]);
  }

  /** Logs the ranges by one segment write; should the segment fail, syncs their own files instead. */
  private async logOrSync(writes: DurableWrite[], alone: boolean): Promise<void> {
    try {
      await this.log(writes);
    } catch {
      await Promise.all(writes.map((w) => this.syncDirect(w, alone)));
    }
  }

  /**
   * Syncs a range in its own file. A new file's content and directory entry are synced at the same time:
   * should a crash keep the entry but not the content, the store skips that file as a create that never
   * completed (it was not acknowledged).
   */
  private async syncDirect(w: DurableWrite, alone: boolean): Promise<void> {
    const entry = w.linked ? this.syncDir(false) : undefined;
    entry?.catch(() => undefined); // awaited below
    this.stats.syncs++;
    try {
      if (alone) await this.syncer.sync(w.fd, w.file);
      else await fdatasync(w.fd, w.file);
    } finally {
      await entry;
    }
  }

  private loggable(w: DurableWrite): boolean {
    return this.name !== undefined && w.prefixDurable && w.bytes.length <= MAX_LOGGED_BYTES;
  }

  private async log(writes: DurableWrite[]): Promise<void> {
    const seg = this.segment ?? (await this.openSegment());
    try {
      await seg.append(this.encode(seg, writes));
    } catch (e) {
      this.retire(seg); // records after a damaged one would not be read back
      throw e;
    }
    this.counted(seg, writes);
  }

  private encode(seg: SegmentFile, writes: DurableWrite[]): Buffer[] {
    const parts: Buffer[] = [];
    for (const w of writes) {
      parts.push(...encodeRecord(path.basename(w.file), w.offset, w.bytes, w.linked));
      seg.files.add(w.file);
    }
    return parts;
  }

  /** Counts a segment write done, and retires the segment once full. */
  private counted(seg: SegmentFile, writes: DurableWrite[]): void {
    this.stats.syncs++;
    if (writes.length > 1) this.stats.groupCommits += writes.length;
    if (seg.full) this.retire(seg);
  }

  private async openSegment(): Promise<SegmentFile> {
    const file = path.join(this.dir, `${this.name}.${this.segments++}`);
    // Its name must be found after a crash.
    const seg = await SegmentFile.create(file, SEGMENT_MAX_BYTES, this.stats, () => this.syncDir(false), this.direct);
    this.direct = seg.direct;
    this.segment = seg;
    return seg;
  }

  /** Appends no more to `seg`, and checkpoints it in the background. */
  private retire(seg: SegmentFile): void {
    if (this.segment === seg) this.segment = undefined;
    this.checkpoints = this.checkpoints.then(() => this.checkpoint(seg));
  }

  /** Makes every flow file a segment names durable on its own, then drops the segment. */
  private async checkpoint(seg: SegmentFile): Promise<void> {
    try {
      for (const file of seg.files) {
        const fd = await new Promise<number | undefined>((resolve) => fs.open(file, "r", (e, d) => resolve(e ? undefined : d)));
        if (fd === undefined) continue; // gone: nothing left to keep
        try {
          this.stats.syncs++;
          await fdatasync(fd, file);
        } finally {
          closeFd(fd);
        }
      }
      await this.syncDir();
      await seg.close();
      await removeQuietly(seg.file);
    } catch {
      await seg.close();
      // The segment stays: the next process on this directory adopts it.
    }
  }

  /** Waits for pending requests, checkpoints the open segment and removes it. */
  async close(): Promise<void> {
    while (this.pending.length || this.scheduled || this.flushing) await (this.flushing ?? new Promise((r) => setImmediate(r)));
    if (this.segment) this.retire(this.segment);
    await this.checkpoints;
    await this.dirSyncer.close();
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
