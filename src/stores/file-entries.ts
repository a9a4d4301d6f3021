/**
 * The file store's cache of open flow files (file-store.ts): per flow, its live generation's descriptor and
 * its state folded up to a byte offset, so a warm read is one pread that finds nothing new. A least recently
 * used list bounded in flows and bytes; an entry pushed out is closed once no call on its flow uses it.
 * Also walks an id's generations to its live file (`find`), and remembers how much of a closed file was
 * durable and what it deferred to its next write.
 */
import * as path from "node:path";
import { closeFd, fstat, openLog, readAtSync, readRange } from "./file-io.js";
import { emptyLog, foldChunk, type FlowLog } from "./file-log.js";
import { flowFileName } from "./file-names.js";
import type { FileStoreStats } from "./file-stats.js";
import type { KeyedLock } from "./file-concurrency.js";

/** One flow's current log file, open, with its state folded up to `log.offset`. */
export interface Entry {
  id: string;
  generation: number;
  file: string;
  fd: number;
  ino: number;
  closed: boolean;
  /** Bytes of the file known to be durable (synced, or logged in a synced segment). */
  durable: number;
  /** Lines this entry appended from `at` on that wait to be made durable with its next write (durableWithNext). */
  deferred?: { at: number; bytes: Buffer };
  log: FlowLog;
}

/** Where the generation chain of an id ends: its live entry, or the generation a create would take. */
export interface Found {
  entry: Entry | undefined;
  generation: number;
  /** Deleted generations whose data is still on disk (the deleter stopped before replacing them with a stub). */
  unreclaimed: string[];
}

/** The most bytes read on the event loop at once; more are read in the thread pool. */
const INLINE_READ_MAX = 64 * 1024;
/** A read on the event loop slower than this went to the disk: the next ones go to the thread pool. */
const SLOW_READ_MS = 1;
/** How many reads go to the thread pool after a slow one, before the event loop tries again. */
const READS_OFFLOADED_AFTER_SLOW = 256;
/** Closed files whose durable length and deferred lines are remembered. */
const DURABLE_MEMORY = 100_000;

export class FlowFiles {
  /** Insertion order = least recently used first. */
  private readonly entries = new Map<string, Entry>();
  private cachedBytes = 0;
  /**
   * Entries pushed out of the cache whose close waits for their flow's lock. A call already waiting for
   * that lock (a burst of calls on more flows than the cache holds makes many) takes its entry back, open
   * and folded, instead of opening and reading the file again.
   */
  private readonly closing = new Map<string, Entry>();
  /**
   * Of files whose entry was closed: the inode, the durable length, and the lines still deferred to the
   * next write. A burst of more flows than the cache holds closes entries between a claim (deferred) and
   * the outcome after it; without its deferred lines, the reopened entry's next write could not go to the
   * segment and synced the flow file instead.
   */
  private readonly closedFiles = new Map<string, { file: string; ino: number; durable: number; deferred: Entry["deferred"] }>();
  /** Reads left to send to the thread pool since one on the event loop went to the disk (see `read`). */
  private offloadReads = 0;

  constructor(
    private readonly dir: string,
    private readonly limits: { maxOpen: number; maxBytes: number },
    private readonly stats: FileStoreStats,
    /** The store's per-flow lock: an entry pushed out of the cache while a call holds it is closed after that call. */
    private readonly locks: KeyedLock,
  ) {}

  get(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  /**
   * The cached entry of `id` when its state is at `rev`, as a caller that expects that rev believes: trusted
   * only when the two agree (a stale cache then just costs a conflict).
   */
  current(id: string, rev: number): Entry | undefined {
    const e = this.entries.get(id);
    return e && !e.log.deleted && e.log.record!.rev === rev ? e : undefined;
  }

  has(id: string): boolean {
    return this.entries.has(id) || this.closing.has(id);
  }

  fileOf(id: string, generation: number): string {
    return path.join(this.dir, flowFileName(id, generation));
  }

  /** Counts what `e` folded since offset `before`, when it is the cached entry of its flow. */
  grew(e: Entry, before: number): void {
    if (this.entries.get(e.id) === e) this.cachedBytes += e.log.offset - before;
  }

  /** Marks `e` most recently used, and closes the least recently used entries beyond the bounds. */
  remember(e: Entry): void {
    const previous = this.entries.get(e.id);
    if (previous) this.cachedBytes -= previous.log.offset;
    this.entries.delete(e.id);
    this.entries.set(e.id, e);
    this.cachedBytes += e.log.offset;
    for (const old of this.entries.values()) {
      if (this.entries.size <= this.limits.maxOpen && this.cachedBytes <= this.limits.maxBytes) break;
      if (old === e) continue;
      this.entries.delete(old.id);
      this.cachedBytes -= old.log.offset;
      if (this.locks.busy(old.id)) {
        this.closing.set(old.id, old);
        void this.locks.run(old.id, () => this.closePushedOut(old));
      } else this.closeEntry(old); // no call holds it: closed at once (a later call opens the file anew)
    }
  }

  /** Closes an entry pushed out of the cache, unless a call took it back meanwhile. */
  private async closePushedOut(e: Entry): Promise<void> {
    if (this.closing.get(e.id) === e) this.closing.delete(e.id);
    if (this.entries.get(e.id) !== e) this.closeEntry(e);
  }

  forget(e: Entry): void {
    if (this.closing.get(e.id) === e) this.closing.delete(e.id);
    if (this.entries.get(e.id) === e) {
      this.entries.delete(e.id);
      this.cachedBytes -= e.log.offset;
    }
    this.closeEntry(e);
  }

  closeEntry(e: Entry): void {
    if (e.closed) return;
    e.closed = true;
    if (e.durable > 0 || e.deferred) {
      this.closedFiles.delete(e.file);
      this.closedFiles.set(e.file, { file: e.file, ino: e.ino, durable: e.durable, deferred: e.deferred });
      if (this.closedFiles.size > DURABLE_MEMORY) this.closedFiles.delete(this.closedFiles.keys().next().value!);
    }
    closeFd(e.fd);
  }

  /**
   * Folds whatever was appended since the entry's last read, up to `size` (the file's length now). Reading
   * exactly that many bytes keeps a buffer per read as small as the news.
   */
  async catchUp(e: Entry, size = fstat(e.fd, e.file).size): Promise<void> {
    const before = e.log.offset;
    if (size <= before) return;
    const chunk = await this.read(e, before, size);
    if (chunk.length > 0) {
      foldChunk(e.log, chunk);
      this.stats.bytesRead += chunk.length;
      this.grew(e, before);
    }
  }

  /**
   * Bytes [from, to) of an entry's file. Up to INLINE_READ_MAX of them are read on the event loop: the page
   * cache holds a file written minutes ago, and a pread of it costs a few microseconds, less than
   * submitting it to the thread pool (which took about 5.6 % of the event loop's time waking 5,000 flows
   * at once). A read that went to the disk instead (a cold cache, after a restart) sends the next ones to
   * the thread pool for a while, as do larger reads.
   */
  private async read(e: Entry, from: number, to: number): Promise<Buffer> {
    if (this.offloadReads > 0 || to - from > INLINE_READ_MAX) {
      if (this.offloadReads > 0) this.offloadReads--;
      return readRange(e.fd, from, to, e.file);
    }
    const start = performance.now();
    const chunk = readAtSync(e.fd, from, to - from, e.file);
    if (performance.now() - start > SLOW_READ_MS) this.offloadReads = READS_OFFLOADED_AFTER_SLOW;
    return chunk;
  }

  /** Finds the flow's live generation; a cached entry first reads what others appended. */
  async find(id: string): Promise<Found> {
    const unreclaimed: string[] = [];
    let generation = 0;
    const cached = this.entries.get(id) ?? this.takeBack(id);
    if (cached) {
      this.remember(cached);
      await this.guarded(cached, () => this.catchUp(cached));
      if (!cached.log.deleted) return { entry: cached, generation: cached.generation, unreclaimed };
      generation = cached.generation + 1;
      this.forget(cached);
    }
    for (;; generation++) {
      const named = this.fileOf(id, generation);
      const known = this.closedFiles.get(named);
      // The remembered path string itself: the segment that logged this file holds it too, so a sleeping
      // flow keeps one copy of its path, not one per reopening.
      const file = known?.file ?? named;
      const fd = await openLog(file);
      if (fd === undefined) return { entry: undefined, generation, unreclaimed };
      const { ino, size } = fstat(fd, file);
      const same = known !== undefined && known.ino === ino;
      const e: Entry = { id, generation, file, fd, ino, closed: false, durable: same ? known.durable : 0, log: emptyLog(id, path.basename(file), true) };
      if (same && known.deferred) e.deferred = known.deferred;
      await this.guarded(e, () => this.catchUp(e, size));
      if (!e.log.started) {
        // A create cut short by a crash before it was acknowledged (its content and its name are made
        // durable together, after the link): the generation is void and the next one takes its place.
        this.closeEntry(e);
        continue;
      }
      if (!e.log.deleted) {
        this.remember(e);
        return { entry: e, generation, unreclaimed };
      }
      if (!e.log.stub) unreclaimed.push(file);
      this.closeEntry(e);
    }
  }

  /** The entry of `id` pushed out of the cache and not yet closed, taken out of `closing`. */
  private takeBack(id: string): Entry | undefined {
    const e = this.closing.get(id);
    if (!e || e.closed) return undefined;
    this.closing.delete(id);
    return e;
  }

  /** Runs `fn` on an entry; on failure the entry's state is unknown, so it is dropped from the cache. */
  async guarded<T>(e: Entry, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      return this.drop(e, err);
    }
  }

  /** After `err` the entry's state is unknown: it leaves the cache, and the error goes on. */
  async drop(e: Entry, err: unknown): Promise<never> {
    this.forget(e);
    throw err;
  }

  /** Closes every cached entry. */
  closeAll(): void {
    const open = [...this.entries.values()];
    this.entries.clear();
    this.cachedBytes = 0;
    for (const e of open) this.closeEntry(e);
  }
}
