/**
 * One write-ahead segment file (see file-wal.ts), kept filled with zeros ahead of its last record.
 *
 * An append that grows a file must also commit the file's new size through the file system's journal; an
 * overwrite of blocks already written commits nothing but the data (about a third cheaper here). So the
 * segment is opened O_DSYNC and zero-filled ahead, in the background: appending records is one positioned
 * write that returns once they are durable. Zeros end the records for recovery (file-wal-recovery.ts
 * stops at the first record that does not parse).
 *
 * Where the file system allows, the segment is also opened O_DIRECT (file-direct-io.ts): its writes skip
 * the page cache, which it never needs. Such a write covers whole blocks, so each append rewrites the
 * block holding the previous records' end, as a write through the page cache rewrites their whole page.
 *
 * Appends must not overlap (the group commit makes one at a time). After a failed append the segment must
 * not be appended to again: recovery reads records only up to the first damaged one.
 */
import { alignDown, alignedBuffer, alignedZeros, alignUp, openDirect } from "./file-direct-io.js";
import { closeFd, createDurable, DiskCallRunner, removeQuietly, writeAt, writeAtSync } from "./file-io.js";
import type { FileStoreStats } from "./file-stats.js";

/**
 * Zeros written when a segment is created. Each later fill doubles the file, up to MAX_FILL_BYTES at a
 * time, so a store that commits little writes little.
 */
const FIRST_FILL_BYTES = 64 * 1024;
const MAX_FILL_BYTES = 1024 * 1024;
/** More buffers than this go to the kernel as one: writev takes at most IOV_MAX (1,024) in one write. */
const MAX_PARTS = 512;
/** Zeros for a segment written through the page cache, which needs no aligned buffer (nor WebAssembly). */
const ZEROS = Buffer.alloc(64 * 1024);
/** A direct segment keeps an aligned buffer this large at most; a larger batch gets one of its own. */
const MAX_STAGING_BYTES = 1024 * 1024;

/** One append, planned: what to write where, and the bytes of records it adds. */
interface Planned {
  bufs: Buffer[];
  at: number;
  length: number;
}

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
  /**
   * Written directly (file-direct-io.ts), each append rewrites the last, partial block of records with the
   * new records after it, padded with zeros to a block's end. This aligned buffer starts with that block.
   */
  private staging: Buffer | undefined;

  private constructor(
    readonly file: string,
    private readonly fd: number,
    /** The block direct writes are aligned to; 0 when the segment is written through the page cache. */
    private readonly block: number,
    private readonly maxBytes: number,
    private readonly stats: FileStoreStats,
  ) {
    if (block) this.staging = alignedBuffer(FIRST_FILL_BYTES);
  }

  /**
   * Creates the segment file, to be written directly when `direct` and the file system allows it, and
   * zero-fills its start while `syncDir` makes its name durable.
   */
  static async create(file: string, maxBytes: number, stats: FileStoreStats, syncDir: () => Promise<void>, direct: boolean): Promise<SegmentFile> {
    let fd = createDurable(file);
    const opened = direct ? openDirect(file) : undefined;
    if (opened) {
      closeFd(fd);
      fd = opened.fd;
    }
    const seg = new SegmentFile(file, fd, opened?.block ?? 0, maxBytes, stats);
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

  /** Written directly, around the page cache. */
  get direct(): boolean {
    return this.block > 0;
  }

  get full(): boolean {
    return this.size >= this.maxBytes;
  }

  /** Appends `parts`, in order, after the last record; resolves once they are durable. */
  async append(parts: Buffer[]): Promise<void> {
    if (this.filling && this.endOf(parts) > this.fillingFrom) await this.filling; // its zeros would land on the records
    const planned = this.plan(parts);
    await this.writer.run(
      () => writeAtSync(this.fd, planned.bufs, planned.at, this.file),
      () => writeAt(this.fd, planned.bufs, planned.at, this.file),
    );
    this.wrote(planned);
  }

  /**
   * `append`, done before returning when it can be: true once the parts are durable, false (nothing done)
   * when the append would wait, for zeros being written or for the thread pool on a slow disk.
   */
  appendNow(parts: Buffer[]): boolean {
    if (this.filling && this.endOf(parts) > this.fillingFrom) return false;
    const planned = this.plan(parts);
    if (!this.writer.runNow(() => writeAtSync(this.fd, planned.bufs, planned.at, this.file))) return false;
    this.wrote(planned);
    return true;
  }

  /** Waits for the zero-filling under way, and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.filling;
    closeFd(this.fd);
  }

  /** Where the write that appends `parts` would end. */
  private endOf(parts: Buffer[]): number {
    const end = this.size + lengthOf(parts);
    return this.block ? alignUp(end, this.block) : end;
  }

  /** The write that appends `parts`. Changes nothing of what the segment holds. */
  private plan(parts: Buffer[]): Planned {
    const length = lengthOf(parts);
    if (!this.block) return { bufs: oneWrite(parts), at: this.size, length };
    const at = alignDown(this.size, this.block);
    const end = alignUp(this.size + length, this.block);
    const tail = this.size - at;
    let buf = this.staging!;
    if (end - at > buf.length) {
      const bigger = alignedBuffer(end - at);
      buf.copy(bigger, 0, 0, tail);
      buf = bigger;
      if (bigger.length <= MAX_STAGING_BYTES) this.staging = bigger;
    }
    let o = tail;
    for (const p of parts) o += p.copy(buf, o);
    buf.fill(0, o, end - at);
    return { bufs: [buf.subarray(0, end - at)], at, length };
  }

  /** Counts a planned append written, keeps its last partial block for the next one, and fills ahead. */
  private wrote(planned: Planned): void {
    this.size += planned.length;
    this.stats.bytesWritten += planned.length;
    if (this.block) {
      const from = alignDown(this.size, this.block) - planned.at;
      planned.bufs[0]!.copy(this.staging!, 0, from, this.size - planned.at);
    }
    this.fillAhead();
  }

  private fillAhead(): void {
    const next = Math.min(Math.max(this.filled, FIRST_FILL_BYTES), MAX_FILL_BYTES);
    if (!this.filling && this.filled - this.size < next / 2 && this.filled < this.maxBytes) this.fill(next);
  }

  /** Writes `bytes` (a multiple of 64 KiB) of zeros past the records, in the thread pool: one durable write. */
  private fill(bytes: number): void {
    const zeros = this.block ? alignedZeros() : ZEROS;
    const from = this.block ? alignUp(Math.max(this.filled, this.size), this.block) : Math.max(this.filled, this.size);
    this.fillingFrom = from;
    this.filled = from + bytes;
    this.stats.syncs++;
    const filling = writeAt(this.fd, Array<Buffer>(Math.ceil(bytes / zeros.length)).fill(zeros), from, this.file)
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
