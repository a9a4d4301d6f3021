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
 * close() does the same. Segments left by a process that died are adopted on start (file-wal-recovery.ts).
 * Without a boot id (not Linux) there is no group commit: every range is synced directly.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { closeFd, createExclusive, DataSyncer, DirSyncer, fdatasync, removeQuietly, writeOnce } from "./file-io.js";
import { encodeRecord, segmentNamePrefix } from "./file-wal-recovery.js";

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

/** A segment this large is checkpointed and a new one started. */
const SEGMENT_MAX_BYTES = 16 * 1024 * 1024;
/** A range larger than this is synced in its flow file instead of being copied into a segment. */
const MAX_LOGGED_BYTES = 1024 * 1024;

export class GroupCommit {
  private pending: Waiting[] = [];
  private scheduled = false;
  private flushing: Promise<void> | undefined;
  private segment: Segment | undefined;
  private segments = 0;
  private readonly name: string | undefined;
  private checkpoints: Promise<void> = Promise.resolve();
  private readonly syncer = new DataSyncer();
  /**
   * The segment's sync is awaited by a whole batch, so it runs inline unless the disk is very slow: in
   * the thread pool it would queue behind the directory operations of concurrent creates.
   */
  private readonly segmentSyncer = new DataSyncer(10);
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
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.pending.length) this.kick();
      });
    });
  }

  /**
   * A batch of one is synced in its own file (copying it into a segment would only add a write). In a
   * larger batch, every range that may be logged is, and one segment sync covers them all.
   */
  private async flush(): Promise<void> {
    const batch = this.pending.splice(0);
    const loggable = (w: Waiting) => this.name !== undefined && batch.length > 1 && w.write.prefixDurable && w.write.bytes.length <= MAX_LOGGED_BYTES;
    const logged = batch.filter(loggable);
    const direct = batch.filter((w) => !loggable(w));
    await Promise.all([
      logged.length ? settle(logged, () => this.logAndSync(logged.map((w) => w.write))) : undefined,
      ...direct.map((w) => settle([w], () => this.syncDirect(w.write, batch.length === 1))),
    ]);
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

  private async logAndSync(writes: DurableWrite[]): Promise<void> {
    const seg = await this.openSegment();
    const buf = Buffer.concat(writes.map((w) => encodeRecord(path.basename(w.file), w.offset, w.bytes, w.linked)));
    writeOnce(seg.fd, buf, seg.file);
    seg.size += buf.length;
    for (const w of writes) seg.files.add(w.file);
    this.stats.bytesWritten += buf.length;
    this.stats.syncs++;
    this.stats.groupCommits += writes.length;
    await this.segmentSyncer.sync(seg.fd, seg.file);
    if (seg.size >= SEGMENT_MAX_BYTES && this.segment === seg) {
      this.segment = undefined;
      this.checkpoints = this.checkpoints.then(() => this.checkpoint(seg));
    }
  }

  private async openSegment(): Promise<Segment> {
    if (this.segment) return this.segment;
    const file = path.join(this.dir, `${this.name}.${this.segments++}`);
    const fd = await createExclusive(file);
    await this.syncDir(); // the segment itself must be found after a crash
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
      await this.syncDir();
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
