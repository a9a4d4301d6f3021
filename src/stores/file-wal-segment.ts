/**
 * One write-ahead segment file (see file-wal.ts), kept filled with zeros ahead of its last record.
 *
 * An append that grows a file must also commit the file's new size through the file system's journal; an
 * overwrite of blocks already written commits nothing but the data (about a third cheaper here). So the
 * segment is opened O_DSYNC and zero-filled ahead, in the background: appending records is one positioned
 * write that returns once they are durable. Zeros end the records for recovery (file-wal-recovery.ts
 * stops at the first record that does not parse).
 *
 * Appends must not overlap (the group commit makes one at a time). After a failed append the segment must
 * not be appended to again: recovery reads records only up to the first damaged one.
 */
import { closeFd, createDurable, DiskCallRunner, removeQuietly, writeAt, writeAtSync } from "./file-io.js";
import type { FileStoreStats } from "./file-stats.js";

/**
 * Zeros written when a segment is created. Each later fill doubles the file, up to MAX_FILL_BYTES at a
 * time, so a store that commits little writes little.
 */
const FIRST_FILL_BYTES = 64 * 1024;
const MAX_FILL_BYTES = 1024 * 1024;
const ZEROS = Buffer.alloc(64 * 1024);
/** More buffers than this go to the kernel as one: writev takes at most IOV_MAX (1,024) in one write. */
const MAX_PARTS = 512;

export class SegmentFile {
  /** Bytes of records. */
  size = 0;
  /** Flow files with records in this segment. */
  readonly files = new Set<string>();
  /** End of the zeros written, or being written by `filling` from `fillingFrom`. */
  private filled = 0;
  private fillingFrom = 0;
  private filling: Promise<void> | undefined;
  private closed = false;
  /**
   * Appends are awaited by a whole batch, so they run inline unless the disk is very slow: in the thread
   * pool they would queue behind the directory operations of concurrent creates.
   */
  private readonly writer = new DiskCallRunner(10);

  private constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly maxBytes: number,
    private readonly stats: FileStoreStats,
  ) {}

  /** Creates the segment file and zero-fills its start, while `syncDir` makes its name durable. */
  static async create(file: string, maxBytes: number, stats: FileStoreStats, syncDir: () => Promise<void>): Promise<SegmentFile> {
    const seg = new SegmentFile(file, createDurable(file), maxBytes, stats);
    try {
      seg.fill(FIRST_FILL_BYTES);
      await Promise.all([seg.filling, syncDir()]);
    } catch (e) {
      await seg.close();
      await removeQuietly(file); // holds no record yet
      throw e;
    }
    return seg;
  }

  get full(): boolean {
    return this.size >= this.maxBytes;
  }

  /** Appends `parts`, in order, after the last record; resolves once they are durable. */
  async append(parts: Buffer[]): Promise<void> {
    const bufs = oneWrite(parts);
    const length = lengthOf(bufs);
    const at = this.size;
    if (this.filling && at + length > this.fillingFrom) await this.filling; // its zeros would land on the records
    this.size += length;
    this.stats.bytesWritten += length;
    await this.writer.run(
      () => writeAtSync(this.fd, bufs, at, this.file),
      () => writeAt(this.fd, bufs, at, this.file),
    );
    this.fillAhead();
  }

  /**
   * `append`, done before returning when it can be: true once the parts are durable, false (nothing done)
   * when the append would wait, for zeros being written or for the thread pool on a slow disk.
   */
  appendNow(parts: Buffer[]): boolean {
    const bufs = oneWrite(parts);
    const length = lengthOf(bufs);
    const at = this.size;
    if (this.filling && at + length > this.fillingFrom) return false;
    if (!this.writer.runNow(() => writeAtSync(this.fd, bufs, at, this.file))) return false;
    this.size += length;
    this.stats.bytesWritten += length;
    this.fillAhead();
    return true;
  }

  /** Waits for the zero-filling under way, and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.filling;
    await closeFd(this.fd);
  }

  private fillAhead(): void {
    const next = Math.min(Math.max(this.filled, FIRST_FILL_BYTES), MAX_FILL_BYTES);
    if (!this.filling && this.filled - this.size < next / 2 && this.filled < this.maxBytes) this.fill(next);
  }

  /** Writes `bytes` of zeros past the records, in the thread pool: one durable write. */
  private fill(bytes: number): void {
    const from = Math.max(this.filled, this.size);
    this.fillingFrom = from;
    this.filled = from + bytes;
    this.stats.syncs++;
    const filling = writeAt(this.fd, Array<Buffer>(Math.ceil(bytes / ZEROS.length)).fill(ZEROS), from, this.file)
      .catch(() => undefined) // without the zeros, appends there grow the file: slower, as safe
      .then(() => {
        if (this.filling === filling) this.filling = undefined;
      });
    this.filling = filling;
  }
}

/** The buffers for one writev: one durable write. */
function oneWrite(parts: Buffer[]): Buffer[] {
  return parts.length > MAX_PARTS ? [Buffer.concat(parts)] : parts;
}

function lengthOf(bufs: Buffer[]): number {
  let n = 0;
  for (const b of bufs) n += b.length;
  return n;
}
