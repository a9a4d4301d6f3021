/**
 * Listing for the file store: the current record of every flow file in the directory, read incrementally.
 * Each file's folded record is kept with the inode and size it was read at, so a list reads only what was
 * appended since the last one, and a file replaced (a new inode) is read afresh.
 */
import * as path from "node:path";
import { cloneData } from "../json-value.js";
import type { ListPage, ListQuery } from "../ports.js";
import type { FlowRecord } from "../schemas.js";
import { closeFd, fstat, listDir, openLog, readRange } from "./file-io.js";
import { emptyLog, foldChunk, type FlowLog } from "./file-log.js";
import { FLOW_FILE_PATTERN } from "./file-names.js";
import type { FileStoreStats } from "./file-stats.js";
import { mapLimit } from "./file-concurrency.js";
import { afterCursor, compareNewestFirst, decodeCursor, encodeCursor, matchesQuery, pageLimit } from "./store-helpers.js";

const LIST_PARALLELISM = 32;

export class FileListing {
  private readonly cache = new Map<string, { ino: number; size: number; log: FlowLog }>();

  constructor(
    private readonly dir: string,
    private readonly stats: FileStoreStats,
  ) {}

  async list(query: ListQuery): Promise<ListPage> {
    const limit = pageLimit(query);
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    const names = (await listDir(this.dir)).filter((n) => FLOW_FILE_PATTERN.test(n));
    const present = new Set(names);
    for (const name of this.cache.keys()) if (!present.has(name)) this.cache.delete(name);
    const records = await mapLimit(names, LIST_PARALLELISM, (name) => this.listed(name));
    const all = records.filter((r): r is FlowRecord => r !== undefined && matchesQuery(r, query) && (!cursor || afterCursor(r, cursor)));
    all.sort(compareNewestFirst);
    const page = all.slice(0, limit);
    return { flows: cloneData(page), ...(all.length > limit ? { cursor: encodeCursor(page[page.length - 1]!) } : {}) };
  }

  clear(): void {
    this.cache.clear();
  }

  /** The current record of a list candidate file. */
  private async listed(name: string): Promise<FlowRecord | undefined> {
    const file = path.join(this.dir, name);
    const fd = await openLog(file);
    if (fd === undefined) return undefined;
    try {
      const { ino, size } = fstat(fd, file);
      const c = this.cache.get(name);
      if (c && c.ino === ino && c.size === size) return c.log.deleted ? undefined : c.log.record;
      // Fold into a copy: concurrent list calls may be reading the same file.
      const log = c && c.ino === ino && c.size < size ? { ...c.log } : emptyLog(undefined, name, false);
      if (size > log.offset) {
        this.stats.bytesRead += size - log.offset;
        foldChunk(log, await readRange(fd, log.offset, size, file));
      }
      this.cache.set(name, { ino, size, log });
      return log.deleted ? undefined : log.record;
    } finally {
      closeFd(fd);
    }
  }
}
