/**
 * The few file-system calls the file store makes, on raw descriptors and as promises, and the one place
 * where an OS error becomes a `StoreUnavailableError` that says which path failed and what to do.
 *
 * Calls that only touch the page cache or a directory entry (open, link, unlink, write, fstat) run
 * synchronously: each costs tens of microseconds, less than a thread-pool round trip, and a create makes
 * four of them. Reads and the syncs that wait for the disk go off the event loop when they are slow.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { StoreUnavailableError } from "../errors.js";

const { O_RDONLY, O_RDWR, O_APPEND, O_CREAT, O_EXCL } = fs.constants;

/** Opens an existing file for pread and O_APPEND writes; `undefined` when it does not exist. Never creates. */
export async function openLog(file: string): Promise<number | undefined> {
  try {
    return fs.openSync(file, O_RDWR | O_APPEND);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw unavailable(e as NodeJS.ErrnoException, "open", file);
  }
}

/** Creates a new file that must not exist yet, for O_APPEND writes. */
export async function createExclusive(file: string): Promise<number> {
  try {
    return fs.openSync(file, O_RDWR | O_APPEND | O_CREAT | O_EXCL, 0o666);
  } catch (e) {
    throw unavailable(e as NodeJS.ErrnoException, "create", file);
  }
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => fs.close(fd, () => resolve()));
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
 * fdatasync for the commit path. A thread-pool round trip adds roughly a third to a fast disk's sync time,
 * so when the disk has been syncing quickly (moving average under `inlineMaxMs`, default 1 ms) and no
 * other sync of this syncer is in flight, the sync runs inline. Otherwise it runs in the thread pool,
 * where concurrent syncs of different flows overlap and a slow disk does not stall the event loop.
 */
export class DataSyncer {
  private averageMs = 0;
  private inFlight = 0;

  constructor(private readonly inlineMaxMs = 1) {}

  /** fdatasync, or with `full` fsync (what a directory needs); `inline: false` keeps it off the event loop. */
  async sync(fd: number, file: string, full = false, inline = true): Promise<void> {
    const start = performance.now();
    if (inline && this.inFlight === 0 && this.averageMs < this.inlineMaxMs) {
      try {
        if (full) fs.fsyncSync(fd);
        else fs.fdatasyncSync(fd);
      } catch (e) {
        throw unavailable(e as NodeJS.ErrnoException, "sync", file);
      }
    } else {
      this.inFlight++;
      try {
        if (full) await new Promise<void>((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(unavailable(e, "sync", file)) : resolve())));
        else await fdatasync(fd, file);
      } finally {
        this.inFlight--;
      }
    }
    this.averageMs += (performance.now() - start - this.averageMs) * 0.2;
  }
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
    await closeFd(fd);
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
    if (fd !== undefined) await closeFd(fd);
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
