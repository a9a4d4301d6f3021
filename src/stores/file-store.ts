/**
 * The embedded flow store: one append-only log file per flow in a local directory (format in
 * file-log.ts). Safe for several processes sharing the directory; every write is durable before its
 * promise resolves.
 *
 * - A commit is one `write(2)` of one line (O_APPEND). The writer then reads the file from where its last
 *   read ended: when that is exactly its line, nothing else was appended; otherwise it sees whether its line
 *   or a racing one took the rev (first writer wins, the others get ConflictError). Either way the bytes
 *   are made durable before the commit resolves, by a write-ahead segment shared by the commits of all
 *   flows (file-wal.ts), or by an fdatasync of the file.
 * - Create writes the first line to a temporary file (usually one made ahead: file-temps.ts) and
 *   hard-links it into place, which fails when the name exists: no one ever sees a half-created flow, and
 *   exactly one creator wins. Content and name are then made durable together; a file a crash left without
 *   a complete first line was never acknowledged, and its generation is skipped.
 * - Delete appends a `delete` line (won like a commit), then replaces the file with a stub holding only that
 *   line, so the data is gone. A later create uses the next generation's file name (`<id>@<n+1>.log`);
 *   a writer still holding the old file can only append after the delete, where nothing applies.
 * - Each process caches, per flow, an open descriptor and the folded state with its byte offset, and reads
 *   only bytes appended since (a warm read is one pread that finds nothing new): file-entries.ts. Listing
 *   reads every file with a cache of its own (file-listing.ts).
 */
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { ConflictError } from "../errors.js";
import type { Commit, FlowStore, ListPage, ListQuery, LoadedFlow } from "../ports.js";
import { cloneData } from "../json-value.js";
import type { FlowRecord, HistoryEvent } from "../schemas.js";
import { closeFd, ensureDir, fstat, linkExclusive, readAtSync, readRange, removeQuietly, renameOver, writeOnce } from "./file-io.js";
import { FlowFiles, type Entry } from "./file-entries.js";
import { currentHistory, emptyLog, encodeLine, foldChunk, foldOwnLine, type LogLine } from "./file-log.js";
import { FileListing } from "./file-listing.js";
import { emptyStats, type FileStoreStats } from "./file-stats.js";
import { GroupCommit } from "./file-wal.js";
import { recoverSegments } from "./file-wal-recovery.js";
import { discard, removeStaleTemps, TempFiles, type TempFile } from "./file-temps.js";
import { Gate, KeyedLock } from "./file-concurrency.js";
import { checkCommit, recordPatch } from "./store-helpers.js";

export interface FileStoreOptions {
  /** Directory holding the flow files; created if missing. */
  dir: string;
  /** Largest JSON size of one step's value (default 4 MiB). */
  maxValueBytes?: number;
  /** fdatasync every write before resolving (default true). Turn off only for throwaway data. */
  fsync?: boolean;
  /** Flows whose descriptor and state stay cached in this process (default 256). */
  maxOpenFlows?: number;
  /** Approximate bytes of flow logs whose folded state stays cached (default 64 MiB). */
  maxCachedBytes?: number;
  /** Incremented with the bytes this store reads and writes and the syncs it makes. */
  stats?: FileStoreStats;
}

export type { FileStoreStats } from "./file-stats.js";

/**
 * Flows with a call under way at once (the others wait their turn). A call holds a descriptor or two until
 * it ends, even when its flow's cached entry is closed meanwhile, so this bounds what a burst of calls on
 * many flows holds open: without it, 3,000 concurrent creates or reads exhausted a default limit of 1,024
 * descriptors. The group commit still batches up to this many flows' writes.
 */
const FLOWS_AT_ONCE = 128;

export function createFileStore(options: FileStoreOptions): FlowStore {
  const dir = path.resolve(options.dir);
  const sync = options.fsync ?? true;
  const maxOpen = Math.max(1, options.maxOpenFlows ?? 256);
  const maxBytes = Math.max(0, options.maxCachedBytes ?? 64 * 1024 * 1024);
  const stats = options.stats ?? emptyStats();
  const locks = new KeyedLock();
  const files = new FlowFiles(dir, { maxOpen, maxBytes }, stats, locks);
  const listing = new FileListing(dir, stats);
  const group = new GroupCommit(dir, stats);
  const temps = new TempFiles(dir, stats);
  const working = new Gate(FLOWS_AT_ONCE);
  // Tells this store's lines from every other writer's: a random prefix, then a count.
  const noncePrefix = randomBytes(9).toString("base64url");
  let nonces = 0;
  const nonce = () => noncePrefix + (nonces++).toString(36);
  let ready: Promise<void> | undefined;
  let initialized = false;
  /** Runs `fn` holding the flow's lock and a working slot, once the store's directory is ready. */
  const locked = <T>(id: string, fn: () => Promise<T>): Promise<T> =>
    locks.run(id, () =>
      working.run(async () => {
        if (!initialized) await init();
        return fn();
      }),
    );

  function init(): Promise<void> {
    ready ??= ensureDir(dir, sync).then(
      async () => {
        await recoverSegments(dir, stats);
        void removeStaleTemps(dir);
        initialized = true;
      },
      (e: unknown) => {
        ready = undefined; // let a later call retry once the directory is fixed
        throw e;
      },
    );
    return ready;
  }

  /**
   * Appends one line claiming rev `line.rev`, durably, and says whether it won that rev. Either way the
   * entry's state is up to date with the file afterwards. The common case (nothing else appended) runs
   * without an async function: it is taken once per step.
   */
  function append(e: Entry, line: LogLine, durableWithNext = false): Promise<boolean> {
    try {
      const { bytes } = encodeLine(line);
      const before = e.log.offset;
      writeOnce(e.fd, bytes, e.file);
      stats.bytesWritten += bytes.length;
      // The file is append-only: ending exactly after our line says nothing else was appended, before or after it.
      if (readAtSync(e.fd, before + bytes.length, 1, e.file).length !== 0) return appendRaced(e, line, before);
      foldOwnLine(e.log, line, before + bytes.length); // the line follows the state we hold
      files.grew(e, before);
      if (!sync) return Promise.resolve(true);
      const d = e.deferred;
      if (durableWithNext && (!d || d.at + d.bytes.length === before)) {
        e.deferred = d ? { at: d.at, bytes: Buffer.concat([d.bytes, bytes]) } : { at: before, bytes };
        return Promise.resolve(true);
      }
      return makeDurable(e, before, bytes, false).then(
        () => true,
        (err: unknown) => files.drop(e, err),
      );
    } catch (err) {
      return files.drop(e, err);
    }
  }

  /** The rest of an append after which the file holds more than our line: we read what the others wrote. */
  function appendRaced(e: Entry, line: LogLine, before: number): Promise<boolean> {
    return files.guarded(e, async () => {
      const range = await readRange(e.fd, before, fstat(e.fd, e.file).size, e.file);
      stats.bytesRead += range.length;
      const won = foldChunk(e.log, range, line.nonce);
      files.grew(e, before);
      // Also makes a racing winner's line durable before a loser reports.
      if (sync) await makeDurable(e, before, range, false);
      return won;
    });
  }

  /**
   * Makes `bytes` at `offset` durable, with the lines deferred just before them: one record in the segment.
   * Deferred lines that are not right before (another writer appended between) are left to the direct
   * sync that a range with a non-durable prefix gets.
   */
  function makeDurable(e: Entry, offset: number, bytes: Buffer, linked: boolean): Promise<void> {
    const d = e.deferred;
    e.deferred = undefined;
    if (d && d.at + d.bytes.length === offset) {
      offset = d.at;
      bytes = Buffer.concat([d.bytes, bytes]);
    }
    const end = offset + bytes.length;
    return group.durable({ fd: e.fd, file: e.file, offset, bytes, prefixDurable: e.durable >= offset, linked }).then(() => {
      e.durable = Math.max(e.durable, end);
    });
  }

  /** Commits to `entry`, found current for `commit.expectRev` (or not: then the check says why). */
  function commitTo(id: string, entry: Entry | undefined, commit: Commit): Promise<FlowRecord> {
    checkCommit(id, entry?.log.record, commit);
    const line: LogLine = {
      op: "commit",
      rev: commit.expectRev + 1,
      nonce: nonce(),
      ...recordPatch(entry!.log.record!, commit.record),
      ...(commit.steps?.length ? { steps: commit.steps } : {}),
      ...(commit.truncateFrom !== undefined ? { truncateFrom: commit.truncateFrom } : {}),
      ...(commit.events?.length ? { events: commit.events } : {}),
    };
    return append(entry!, line, commit.durableWithNext).then((won) => {
      if (!won) throw new ConflictError(id, entry!.log.deleted ? "the flow was deleted" : `another writer committed rev ${commit.expectRev + 1} first`);
      return commit.record; // the caller's own object: the store keeps a copy of its own
    });
  }

  /** Replaces a deleted generation's file by a stub holding only a delete line. Safe to repeat or race. */
  async function reclaim(file: string, line: LogLine): Promise<void> {
    const temp = await temps.write(encodeLine(line).bytes, sync);
    closeFd(temp.fd);
    try {
      await renameOver(temp.file, file);
    } catch (err) {
      await removeQuietly(temp.file);
      throw err;
    }
    if (sync) await group.syncDir();
  }

  async function reclaimAll(files: string[]): Promise<void> {
    for (const file of files) await reclaim(file, { op: "delete", rev: 0, nonce: nonce() });
  }

  return {
    maxValueBytes: options.maxValueBytes ?? 4 * 1024 * 1024,

    create(record: FlowRecord, events: HistoryEvent[] = []) {
      return locked(record.id, async () => {
        const id = record.id;
        const line: LogLine = { op: "create", rev: record.rev, nonce: nonce(), record, ...(events.length ? { events } : {}) };
        const { bytes } = encodeLine(line);
        let temp: TempFile | undefined;
        // An id this process does not know is most likely new: its first generation is linked without
        // looking first (the link fails if that file exists, and then we look).
        let generation: number | undefined = files.has(id) ? undefined : 0;
        temps.begin();
        try {
          for (;;) {
            if (generation === undefined) {
              const found = await files.find(id);
              if (found.entry) return { created: false, record: cloneData(found.entry.log.record!) };
              await reclaimAll(found.unreclaimed);
              generation = found.generation;
            }
            temp ??= await temps.write(bytes, false, true);
            const file = files.fileOf(id, generation);
            if (!(await linkExclusive(temp.file, file))) {
              generation = undefined; // taken: by another creator (then read theirs) or an older generation
              continue;
            }
            const e: Entry = { id, generation, file, fd: temp.fd, ino: temp.ino, closed: false, durable: 0, log: emptyLog(id, path.basename(file), true) };
            // The file is the entry's now. Its temporary name goes before the durable write, which then
            // commits that too, rather than leaving it to the flow's next write.
            await removeQuietly(temp.file);
            temp = undefined;
            foldOwnLine(e.log, line, bytes.length);
            files.remember(e);
            if (sync) await files.guarded(e, () => makeDurable(e, 0, bytes, true));
            return { created: true, record: cloneData(e.log.record!) };
          }
        } finally {
          if (temp) await discard(temp);
          temps.end();
        }
      });
    },

    get(id) {
      return locked(id, async () => {
        const { entry } = await files.find(id);
        return entry ? cloneData(entry.log.record!) : undefined;
      });
    },

    load(id): Promise<LoadedFlow | undefined> {
      return locked(id, async () => {
        const { entry } = await files.find(id);
        return entry ? { record: cloneData(entry.log.record!), steps: entry.log.steps.slice() } : undefined;
      });
    },

    commit(id, commit: Commit) {
      // A step's commit to a flow this store holds current, with nothing else under way on it, takes its lock
      // and slot at once: the same as below without the three async functions around it.
      const cached = files.current(id, commit.expectRev);
      if (initialized && cached) {
        const release = locks.tryHold(id);
        if (release && working.tryEnter()) {
          const done = () => (working.leave(), release());
          files.remember(cached);
          let committed: Promise<FlowRecord>;
          try {
            committed = commitTo(id, cached, commit);
          } catch (err) {
            committed = Promise.reject(err);
          }
          return committed.then(
            (record) => (done(), record),
            (err: unknown) => {
              done();
              throw err;
            },
          );
        }
        release?.();
      }
      return locked(id, async () => {
        const current = files.current(id, commit.expectRev);
        if (current) files.remember(current);
        return commitTo(id, current ?? (await files.find(id)).entry, commit);
      });
    },

    history(id) {
      return locked(id, async () => {
        const { entry } = await files.find(id);
        return entry ? cloneData(currentHistory(entry.log)) : [];
      });
    },

    async list(query: ListQuery): Promise<ListPage> {
      if (!initialized) await init();
      return listing.list(query);
    },

    delete(id, expectRev) {
      return locked(id, async () => {
        const { entry } = await files.find(id);
        if (!entry) return;
        if (entry.log.record!.rev !== expectRev) throw new ConflictError(id, `expected rev ${expectRev}, found ${entry.log.record!.rev}`);
        const line: LogLine = { op: "delete", rev: expectRev + 1, nonce: nonce() };
        const won = await append(entry, line);
        if (!won && !entry.log.deleted) throw new ConflictError(id, `another writer committed rev ${expectRev + 1} first`);
        files.forget(entry);
        if (won) await reclaim(entry.file, line);
      });
    },

    async close() {
      await locks.idle();
      await Promise.all([group.close(), temps.close()]);
      listing.clear();
      files.closeAll();
    },
  };
}
