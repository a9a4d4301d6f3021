/**
 * The store's temporary files (`.tmp-<uuid>` in its directory): a new flow's first line, or a deleted
 * flow's stub, is written to one and then linked or renamed into place (file-store.ts).
 *
 * For creates, empty ones are made ahead, in the thread pool: allocating an inode is file-system metadata
 * work that can take a millisecond on a busy disk (this project's benchmark machine: 0.3–1 ms, against
 * ~50 µs when quiet), and done ahead it is off the create's path. The reserve starts at one file and
 * doubles, up to MAX_SPARES, whenever a create finds it empty, so a process that creates flows in bursts
 * keeps as many ready as a burst takes. Spares are made one at a time and only while no create is under
 * way, not to compete with it, and removed on close. A create that finds none makes its own file, in the
 * thread pool too: in a long burst every create finds the reserve empty, and making them on the event loop
 * took 29 % of its time while 5,000 flows were scheduled at once (`node --cpu-prof`). Those a crash leaves
 * are removed with other stale temporary files when a store next opens the directory, which is why a
 * spare is not handed out once it is half that age.
 */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { closeFd, createExclusive, fdatasync, removeQuietly, writeOnce } from "./file-io.js";
import { TEMP_PREFIX } from "./file-names.js";
import type { FileStoreStats } from "./file-stats.js";

export interface TempFile {
  file: string;
  fd: number;
  ino: number;
}

const MAX_SPARES = 256;
/** Temporary files older than this were left by a crash. */
const STALE_MS = 60 * 60 * 1000;

export class TempFiles {
  private readonly spares: (TempFile & { at: number })[] = [];
  private making: Promise<void> | undefined;
  private target = 1;
  private active = 0;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly stats: FileStoreStats,
  ) {}

  /** Marks a create under way, until `end`. */
  begin(): void {
    this.active++;
  }

  end(): void {
    if (--this.active === 0) this.refill();
  }

  /**
   * Writes `bytes` to a new temporary file (synced if `durable`) and returns it still open. With `spare`
   * (for a create, between `begin` and `end`), the file is one made ahead when there is one.
   */
  async write(bytes: Buffer, durable: boolean, spare = false): Promise<TempFile> {
    const { file, fd, ino } = (spare ? this.take() : undefined) ?? (await makeTemp(this.dir));
    try {
      writeOnce(fd, bytes, file);
      this.stats.bytesWritten += bytes.length;
      if (durable) {
        this.stats.syncs++;
        await fdatasync(fd, file);
      }
      return { file, fd, ino };
    } catch (err) {
      await discard({ file, fd });
      throw err;
    }
  }

  /**
   * Makes spares, one at a time in the thread pool, until the reserve is full or a create starts. Made
   * several at a time, they held up the durable writes of the flows running meanwhile (a first burst of
   * 200 flows took half as long again).
   */
  private refill(): void {
    if (this.making || this.closed || this.active > 0 || this.spares.length >= this.target) return;
    this.making = makeTemp(this.dir)
      .then(
        async (made) => {
          const spare = { ...made, at: Date.now() };
          if (this.closed) await discard(spare);
          else this.spares.push(spare);
        },
        () => undefined, // a create that finds no spare makes its own file, and reports what fails
      )
      .finally(() => {
        this.making = undefined;
        this.refill();
      });
  }

  /** Removes the spares, once those being made are done. */
  async close(): Promise<void> {
    this.closed = true;
    await this.making;
    await Promise.all(this.spares.splice(0).map(discard));
  }

  private take(): TempFile | undefined {
    let spare = this.spares.shift();
    while (spare && Date.now() - spare.at > STALE_MS / 2) {
      void discard(spare);
      spare = this.spares.shift();
    }
    if (!spare) this.target = Math.min(MAX_SPARES, this.target * 2);
    return spare;
  }
}

/** A new, empty temporary file in `dir`, open (made before anything is written: a stat after a write would make the next durable write costlier, file-io.ts). */
async function makeTemp(dir: string): Promise<TempFile> {
  const file = path.join(dir, `${TEMP_PREFIX}${randomUUID()}`);
  return { file, ...(await createExclusive(file)) };
}

/** Closes and removes a temporary file that will not be used. */
export async function discard(temp: { file: string; fd: number }): Promise<void> {
  closeFd(temp.fd);
  await removeQuietly(temp.file);
}

/** Best effort: temporary files left by a process that crashed mid-create or mid-delete. */
export async function removeStaleTemps(dir: string): Promise<void> {
  try {
    const now = Date.now();
    for (const name of await fs.promises.readdir(dir)) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      const file = path.join(dir, name);
      const s = await fs.promises.stat(file).catch(() => undefined);
      if (s && now - s.mtimeMs > STALE_MS) await removeQuietly(file);
    }
  } catch {
    // the directory is usable; a leftover temp file only wastes space
  }
}
