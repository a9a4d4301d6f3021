/**
 * The few file-system calls the file store makes, on raw descriptors and as promises, and the one place
 * where an OS error becomes a `StoreUnavailableError` that says which path failed and what to do.
 *
 * Calls that only touch the page cache or a directory entry (open, link, unlink, write, fstat, close) run
 * synchronously: each costs tens of microseconds, less than a thread-pool round trip. The exception is
 * allocating an inode, which waits for the file system's journal when the disk is busy: new files are made
 * in the thread pool (file-temps.ts). Reads and the syncs that wait for the disk go off the event loop when
 * they are slow.
 *
 * Flow files are opened O_NOATIME where allowed, and the commit path reads to the end of a file rather
 * than fstat'ing it: on recent Linux (multigrain timestamps), a stat makes the next write take a
 * fine-grained timestamp, and a read may update the access time. Either is an inode update, which the
 * next durable write then commits through the file system's journal (measured on ext4: a segment write
 * took ~300 µs instead of ~200 when a stat came between).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { StoreUnavailableError } from "../errors.js";

const { O_RDONLY, O_RDWR, O_APPEND, O_CREAT, O_EXCL, O_DSYNC } = fs.constants;
/** Only the file's owner may open it O_NOATIME; 0 where the platform has no such flag. */
const O_NOATIME = fs.constants.O_NOATIME ?? 0;

/** Opens an existing file for pread and O_APPEND writes; `undefined` when it does not exist. Never creates. */
export async function openLog(file: string): Promise<number | undefined> {
  try {
    try {
      return fs.openSync(file, O_RDWR | O_APPEND | O_NOATIME);
    } catch (e) {
      if (O_NOATIME === 0 || (e as NodeJS.ErrnoException).code !== "EPERM") throw e;
      return fs.openSync(file, O_RDWR | O_APPEND); // another user's file
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw unavailable(e as NodeJS.ErrnoException, "open", file);
  }
}

/**
 * Creates a new file that must not exist yet, for O_APPEND writes, with its inode number. In the thread
 * pool: allocating an inode waits for the file system's journal when the disk is busy.
 */
export async function createExclusive(file: string): Promise<{ fd: number; ino: number }> {
  const fd = await new Promise<number>((resolve, reject) =>
    fs.open(file, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOATIME, 0o666, (e, d) => (e ? reject(unavailable(e, "create", file)) : resolve(d))),
  );
  try {
    const { ino } = await new Promise<fs.Stats>((resolve, reject) => fs.fstat(fd, (e, st) => (e ? reject(unavailable(e, "stat", file)) : resolve(st))));
    return { fd, ino };
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}

/**
 * Closes a descriptor, on the event loop: on a local file system close(2) only drops a reference (a few
 * microseconds), and handing it to the thread pool cost more. Waking 5,000 flows at once, whose files
 * are closed as they finish, the event loop spent 6.3 % of its time in the asynchronous close against
 * 2.2 % in the synchronous one (`node --cpu-prof`). An error is ignored: the descriptor is gone either way.
 */
export function closeFd(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // EBADF or EIO on close: nothing left to release, and the data's fate was settled by its sync
  }
}

/**
 * One write(2), synchronous: appending a line only copies it into the page cache, which costs less than a
 * thread-pool round trip (the slow, durable part is the fdatasync that follows, done off the event loop).
 * A short write is an error: the caller must not finish the line with a second write.
 */
export function writeOnce(fd: number, buf: Buffer, file: string): void {
  let n: number;
  try {
    n = fs.writeSync(fd, buf, 0, buf.length, null);
  } catch (e) {
    throw unavailable(e as NodeJS.ErrnoException, "write to", file);
  }
  if (n !== buf.length) throw unavailable(Object.assign(new Error(`short write (${n} of ${buf.length} bytes)`), { code: "ENOSPC" }), "write to", file);
}

export function fdatasync(fd: number, file: string): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(unavailable(e, "sync", file)) : resolve())));
}

/**
 * Runs a call that waits for the disk (a sync, a synchronous write) inline while the disk is fast, in the
 * thread pool otherwise. A thread-pool round trip adds roughly a third to a fast disk's sync time, so when
 * the calls have been quick (moving average under `inlineMaxMs`) and no other call of this runner is in
 * flight, it runs on the event loop. Otherwise it runs in the thread pool, where concurrent calls overlap
 * and a slow disk does not stall the event loop.
 */
export class DiskCallRunner {
  private averageMs = 0;
  private inFlight = 0;

  constructor(private readonly inlineMaxMs = 1) {}

  /** Runs `blocking` now if it may run inline; false when it should go to the thread pool instead. */
  runNow(blocking: () => void): boolean {
    if (this.inFlight > 0 || this.averageMs >= this.inlineMaxMs) return false;
    const start = performance.now();
    blocking();
    this.averageMs += (performance.now() - start - this.averageMs) * 0.2;
    return true;
  }

  /** `inline: false` keeps the call off the event loop. */
  async run(blocking: () => void, offloaded: () => Promise<void>, inline = true): Promise<void> {
    const start = performance.now();
    if (inline && this.inFlight === 0 && this.averageMs < this.inlineMaxMs) {
      blocking();
    } else {
      this.inFlight++;
      try {
        await offloaded();
      } finally {
        this.inFlight--;
      }
    }
    this.averageMs += (performance.now() - start - this.averageMs) * 0.2;
  }
}

/** fdatasync (or with `full`, fsync: what a directory needs) for the commit path, inline when the disk is fast. */
export class DataSyncer {
  private readonly runner: DiskCallRunner;

  constructor(inlineMaxMs = 1) {
    this.runner = new DiskCallRunner(inlineMaxMs);
  }

  sync(fd: number, file: string, full = false, inline = true): Promise<void> {
    return this.runner.run(
      () => {
        try {
          if (full) fs.fsyncSync(fd);
          else fs.fdatasyncSync(fd);
        } catch (e) {
          throw unavailable(e as NodeJS.ErrnoException, "sync", file);
        }
      },
      () => new Promise<void>((resolve, reject) => (full ? fs.fsync : fs.fdatasync)(fd, (e) => (e ? reject(unavailable(e, "sync", file)) : resolve()))),
      inline,
    );
  }
}

/** Creates a new file that must not exist yet, opened so that each write is durable when it returns (O_DSYNC). */
export function createDurable(file: string): number {
  try {
    return fs.openSync(file, O_RDWR | O_CREAT | O_EXCL | O_DSYNC, 0o666);
  } catch (e) {
    throw unavailable(e as NodeJS.ErrnoException, "create", file);
  }
}

/** Writes all of `bufs` at `position` with writev, synchronously. On an O_DSYNC file, one durable write. */
export function writeAtSync(fd: number, bufs: Buffer[], position: number, file: string): void {
  let rest = bufs;
  let at = position;
  while (rest.length) {
    let n: number;
    try {
      n = fs.writevSync(fd, rest, at);
    } catch (e) {
      throw unavailable(e as NodeJS.ErrnoException, "write to", file);
    }
    at += n;
    rest = unwritten(rest, n, file);
  }
}

/** writeAtSync in the thread pool. */
export async function writeAt(fd: number, bufs: Buffer[], position: number, file: string): Promise<void> {
  let rest = bufs;
  let at = position;
  while (rest.length) {
    const n = await new Promise<number>((resolve, reject) => fs.writev(fd, rest, at, (e, bytes) => (e ? reject(unavailable(e, "write to", file)) : resolve(bytes))));
    at += n;
    rest = unwritten(rest, n, file);
  }
}

/** What a write of `n` bytes left of `bufs`. */
function unwritten(bufs: Buffer[], n: number, file: string): Buffer[] {
  if (n === 0) throw unavailable(Object.assign(new Error("nothing written"), { code: "ENOSPC" }), "write to", file);
  const left: Buffer[] = [];
  for (const b of bufs) {
    if (n >= b.length) n -= b.length;
    else {
      left.push(n ? b.subarray(n) : b);
      n = 0;
    }
  }
  return left;
}

/** fstat(2), synchronous: an open file's inode is in memory, so this never waits for the disk. */
export function fstat(fd: number, file: string): { size: number; ino: number } {
  try {
    const s = fs.fstatSync(fd);
    return { size: s.size, ino: s.ino };
  } catch (e) {
    throw unavailable(e as NodeJS.ErrnoException, "stat", file);
  }
}

/** Reads bytes [from, to) of a file. */
export async function readRange(fd: number, from: number, to: number, file: string): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(to - from);
  let done = 0;
  while (done < buf.length) {
    const n = await new Promise<number>((resolve, reject) =>
      fs.read(fd, buf, done, buf.length - done, from + done, (e, bytes) => (e ? reject(unavailable(e, "read", file)) : resolve(bytes))),
    );
    if (n === 0) break;
    done += n;
  }
  return done === buf.length ? buf : buf.subarray(0, done);
}

/** One pread of up to `length` bytes at `from`, synchronously (for bytes the page cache holds). */
export function readAtSync(fd: number, from: number, length: number, file: string): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let n: number;
  try {
    n = fs.readSync(fd, buf, 0, length, from);
  } catch (e) {
    throw unavailable(e as NodeJS.ErrnoException, "read", file);
  }
  return n < length ? buf.subarray(0, n) : buf;
}

/** Hard-links `from` to `to`; false when `to` exists. The atomic "create with this content, if absent". */
export async function linkExclusive(from: string, to: string): Promise<boolean> {
  try {
    fs.linkSync(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw unavailable(e as NodeJS.ErrnoException, "link", to);
  }
}

export async function renameOver(from: string, to: string): Promise<void> {
  await fs.promises.rename(from, to).catch((e: NodeJS.ErrnoException) => {
    throw unavailable(e, "replace", to);
  });
}

export async function listDir(dir: string): Promise<string[]> {
  return fs.promises.readdir(dir).catch((e: NodeJS.ErrnoException) => {
    throw unavailable(e, "list", dir);
  });
}

export async function removeQuietly(file: string): Promise<void> {
  try {
    fs.unlinkSync(file);
  } catch {
    // already gone, or left for removeStaleTemps: nothing depends on it
  }
}

/** Makes a directory entry change (create, link, rename) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const fd = await new Promise<number>((resolve, reject) => fs.open(dir, O_RDONLY, (e, d) => (e ? reject(unavailable(e, "open", dir)) : resolve(d))));
  try {
    await new Promise<void>((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(unavailable(e, "sync", dir)) : resolve())));
  } finally {
    closeFd(fd);
  }
}

/**
 * Makes entry changes (create, link, rename) of one directory durable through a descriptor kept open, so
 * a sync is one call rather than open, fsync and close.
 */
export class DirSyncer {
  private fd: Promise<number> | undefined;
  private readonly syncer = new DataSyncer();

  constructor(private readonly dir: string) {}

  /** With `inline: false` the sync always runs in the thread pool (to overlap it with another). */
  async sync(inline = true): Promise<void> {
    if (process.platform === "win32") return;
    this.fd ??= new Promise<number>((resolve, reject) => fs.open(this.dir, O_RDONLY, (e, d) => (e ? reject(unavailable(e, "open", this.dir)) : resolve(d))));
    let fd: number;
    try {
      fd = await this.fd;
    } catch (e) {
      this.fd = undefined;
      throw e;
    }
    await this.syncer.sync(fd, this.dir, true, inline);
  }

  async close(): Promise<void> {
    const fd = await this.fd?.catch(() => undefined);
    this.fd = undefined;
    if (fd !== undefined) closeFd(fd);
  }
}

/** Creates the store's directory if needed and checks it is one; syncs the parent when it was created. */
export async function ensureDir(dir: string, sync: boolean): Promise<void> {
  let made: string | undefined;
  try {
    made = await fs.promises.mkdir(dir, { recursive: true });
    const s = await fs.promises.stat(dir);
    if (!s.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
  } catch (e) {
    throw unavailable(e as NodeJS.ErrnoException, "use directory", dir);
  }
  if (made !== undefined && sync) await fsyncDir(path.dirname(dir));
}

const HINTS: Record<string, string> = {
  EACCES: "Give this process write permission on the directory, or pass another `dir` to createFileStore.",
  EPERM: "Give this process write permission on the directory, or pass another `dir` to createFileStore.",
  EROFS: "The file system is read-only; pass a `dir` on a writable disk.",
  ENOSPC: "The disk is full; free some space (or raise the quota) and retry.",
  EDQUOT: "The disk quota is exhausted; free some space or raise the quota, and retry.",
  ENOTDIR: "A part of the path is a file, not a directory; pass a `dir` that is (or can become) a directory.",
  EISDIR: "A flow file's name is taken by a directory; remove it.",
  EMFILE: "Too many open files in this process; raise the limit (ulimit -n).",
  ENFILE: "Too many open files on this machine; raise the system limit.",
  EIO: "The disk reported an I/O error; check the device.",
};

export function unavailable(e: NodeJS.ErrnoException, action: string, file: string): StoreUnavailableError {
  const code = e.code ?? "EUNKNOWN";
  const hint = HINTS[code] ?? "Check that the directory exists, is writable, and its disk is healthy.";
  return new StoreUnavailableError(`File flow store cannot ${action} "${file}" (${code}: ${e.message}). ${hint}`, { cause: e });
}
