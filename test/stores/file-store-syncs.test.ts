/**
 * The file store's durability, observed at the file-system calls it makes: node:fs is wrapped (and the
 * wrappers pushed into the store's `import * as fs` with syncBuiltinESMExports), and every write, sync and
 * unlink is logged with the inode it touched (a flow file is written through the descriptor of the
 * temporary file linked into its place, so paths do not tell) and whether its descriptor was opened
 * O_DSYNC. A sync is logged when it has finished. Linux only: the store's write-ahead segments need a
 * boot id, and /proc tells a descriptor's flags.
 */
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { FlowStore } from "../../src/ports.js";
import type { FlowRecord } from "../../src/schemas.js";
import { flowFileName } from "../../src/stores/file-names.js";
import { createFileStore } from "../../src/stores/file-store.js";
import { sampleRecord, sampleStep } from "../../src/testing/store-contract.js";

const work = fs.realpathSync(fs.mkdtempSync(path.join(tmpdir(), "firestep-syncs-"))); // /proc names real paths
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface DiskCall {
  op: "write" | "sync" | "unlink" | "resolved";
  /** The path the descriptor was opened by (for the messages). */
  file: string;
  ino: number;
  /** A write through a descriptor opened O_DSYNC: durable when it returns. */
  dsync?: boolean;
}

type Fs = typeof fs;
const WRAPPED = ["writeSync", "writevSync", "writev", "fdatasyncSync", "fdatasync", "fsyncSync", "fsync", "unlinkSync"] as const;

/** Logs the disk calls made on files under `dir` until `restore()`. */
function watchDisk(dir: string) {
  const calls: DiskCall[] = [];
  const real = Object.fromEntries(WRAPPED.map((k) => [k, fs[k]])) as Pick<Fs, (typeof WRAPPED)[number]>;
  const fdPath = (fd: unknown) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${String(fd)}`);
    } catch {
      return "";
    }
  };
  const isDsync = (fd: unknown) => {
    const flags = /^flags:\s*(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${String(fd)}`, "utf8"))?.[1];
    return (parseInt(flags ?? "0", 8) & fs.constants.O_DSYNC) !== 0;
  };
  const inoOf = (fd: unknown) => {
    try {
      return fs.fstatSync(fd as number).ino;
    } catch {
      return -1;
    }
  };
  const ours = (file: string) => file.startsWith(dir + path.sep) || file === dir;
  const log = (op: DiskCall["op"], file: string, ino: number, dsync?: boolean) => {
    if (ours(file)) calls.push({ op, file, ino, ...(dsync !== undefined ? { dsync } : {}) });
  };
  const wrapSync = <K extends (typeof WRAPPED)[number]>(k: K, op: "write" | "sync") =>
    ((fd: number, ...rest: unknown[]) => {
      const file = fdPath(fd);
      const ino = ours(file) ? inoOf(fd) : -1;
      const dsync = op === "write" && ours(file) ? isDsync(fd) : undefined;
      const out = (real[k] as (...a: unknown[]) => unknown)(fd, ...rest);
      log(op, file, ino, dsync);
      return out;
    }) as unknown as Fs[K];
  const wrapAsync = <K extends (typeof WRAPPED)[number]>(k: K, op: "write" | "sync") =>
    ((fd: number, ...rest: unknown[]) => {
      const file = fdPath(fd);
      const ino = ours(file) ? inoOf(fd) : -1;
      const dsync = op === "write" && ours(file) ? isDsync(fd) : undefined;
      const cb = rest.pop() as (e: unknown, ...r: unknown[]) => void;
      return (real[k] as (...a: unknown[]) => unknown)(fd, ...rest, (e: unknown, ...r: unknown[]) => {
        if (!e) log(op, file, ino, dsync);
        cb(e, ...r);
      });
    }) as unknown as Fs[K];
  Object.assign(fs, {
    writeSync: wrapSync("writeSync", "write"),
    writevSync: wrapSync("writevSync", "write"),
    writev: wrapAsync("writev", "write"),
    fdatasyncSync: wrapSync("fdatasyncSync", "sync"),
    fsyncSync: wrapSync("fsyncSync", "sync"),
    fdatasync: wrapAsync("fdatasync", "sync"),
    fsync: wrapAsync("fsync", "sync"),
    unlinkSync: ((p: fs.PathLike) => {
      let ino = -1;
      try {
        ino = fs.statSync(p).ino;
      } catch {
        // gone already: the call fails below as it would have
      }
      const out = real.unlinkSync(p);
      log("unlink", path.resolve(String(p)), ino);
      return out;
    }) as Fs["unlinkSync"],
  });
  syncBuiltinESMExports();
  return {
    calls,
    resolved: (what: string) => calls.push({ op: "resolved", file: what, ino: -1 }),
    restore() {
      Object.assign(fs, real);
      syncBuiltinESMExports();
    },
  };
}

let disk: ReturnType<typeof watchDisk> | undefined;
const stores: FlowStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close?.();
  disk?.restore();
  disk = undefined;
});

function open(name: string, fsync?: boolean): { dir: string; store: FlowStore } {
  const dir = fs.mkdtempSync(path.join(work, `${name}-`));
  const store = createFileStore({ dir, ...(fsync !== undefined ? { fsync } : {}) });
  stores.push(store);
  return { dir, store };
}

const bump = (r: FlowRecord, over: Partial<FlowRecord> = {}): FlowRecord => ({ ...r, rev: r.rev + 1, updatedAt: r.updatedAt + 1, ...over });
const isSegment = (file: string) => path.basename(file).startsWith(".wal.");
/** Index of the last call matching `match` before index `before`. */
const lastBefore = (calls: DiskCall[], before: number, match: (c: DiskCall) => boolean) => calls.slice(0, before).findLastIndex(match);

describe.runIf(process.platform === "linux")("the file store's syncs", () => {
  it("fdatasyncs a step too large for the write-ahead segment in its own file, after writing it and before its commit resolves", async () => {
    const { dir, store } = open("large");
    const created = await store.create(sampleRecord({ id: "large" }));
    const { ino } = fs.statSync(path.join(dir, flowFileName("large", 0)));
    disk = watchDisk(dir);
    const value = "x".repeat(1536 * 1024); // over the 1 MiB a segment record takes
    await store.commit("large", { expectRev: 0, record: bump(created.record, { stepCount: 1 }), steps: [sampleStep(0, { value })] });
    disk.resolved("commit");

    const { calls } = disk;
    const resolvedAt = calls.findIndex((c) => c.op === "resolved");
    const wroteAt = lastBefore(calls, resolvedAt, (c) => c.op === "write" && c.ino === ino);
    const syncedAt = lastBefore(calls, resolvedAt, (c) => c.op === "sync" && c.ino === ino);
    expect(wroteAt, JSON.stringify(calls)).toBeGreaterThanOrEqual(0);
    expect(syncedAt, `no sync of the flow file between its write and the commit's resolution: ${JSON.stringify(calls)}`).toBeGreaterThan(wroteAt);
    expect((await store.load("large"))!.steps[0]!.value).toBe(value);
  });

  it("makes a small committed step durable by an O_DSYNC write to the write-ahead segment before its commit resolves", async () => {
    const { dir, store } = open("small");
    const created = await store.create(sampleRecord({ id: "small" }));
    const { ino } = fs.statSync(path.join(dir, flowFileName("small", 0)));
    disk = watchDisk(dir);
    await store.commit("small", { expectRev: 0, record: bump(created.record, { stepCount: 1 }), steps: [sampleStep(0)] });
    disk.resolved("commit");

    const { calls } = disk;
    const resolvedAt = calls.findIndex((c) => c.op === "resolved");
    const wroteAt = lastBefore(calls, resolvedAt, (c) => c.op === "write" && c.ino === ino);
    const durableAt = lastBefore(calls, resolvedAt, (c) => (c.op === "write" && isSegment(c.file) && c.dsync === true) || (c.op === "sync" && c.ino === ino));
    expect(wroteAt, JSON.stringify(calls)).toBeGreaterThanOrEqual(0);
    expect(durableAt, `nothing made the step durable before the commit resolved: ${JSON.stringify(calls)}`).toBeGreaterThan(wroteAt);
  });

  it("checkpoints a segment by syncing every flow file it names, and the directory, before removing it", async () => {
    const { dir, store } = open("checkpoint");
    const ids = ["cp-a", "cp-b", "cp-c"];
    for (const id of ids) {
      const created = await store.create(sampleRecord({ id }));
      await store.commit(id, { expectRev: 0, record: bump(created.record, { stepCount: 1 }), steps: [sampleStep(0)] });
    }
    const segments = fs.readdirSync(dir).filter((n) => n.startsWith(".wal."));
    expect(segments).toHaveLength(1);
    const segment = path.join(dir, segments[0]!);
    const flowInodes = new Map(ids.map((id) => [id, fs.statSync(path.join(dir, flowFileName(id, 0))).ino]));
    const dirIno = fs.statSync(dir).ino;
    disk = watchDisk(dir);
    await store.close?.(); // checkpoints the open segment
    stores.splice(0);

    const { calls } = disk;
    const removedAt = calls.findIndex((c) => c.op === "unlink" && c.file === segment);
    expect(removedAt, `the segment was not removed: ${JSON.stringify(calls)}`).toBeGreaterThanOrEqual(0);
    expect(fs.existsSync(segment)).toBe(false);
    for (const [id, ino] of flowInodes) {
      expect(lastBefore(calls, removedAt, (c) => c.op === "sync" && c.ino === ino), `${id}'s file was not synced before the segment was removed`).toBeGreaterThanOrEqual(0);
    }
    expect(lastBefore(calls, removedAt, (c) => c.op === "sync" && c.ino === dirIno), "the directory was not synced before the segment was removed").toBeGreaterThanOrEqual(0);
  });

  it("with fsync: false makes no sync and no write-ahead segment, for creates, small and large commits and close", async () => {
    const { dir, store } = open("unsynced", false);
    disk = watchDisk(dir);
    const created = await store.create(sampleRecord({ id: "unsynced" }));
    let r = await store.commit("unsynced", { expectRev: 0, record: bump(created.record, { stepCount: 1 }), steps: [sampleStep(0)] });
    r = await store.commit("unsynced", { expectRev: 1, record: bump(r, { stepCount: 2 }), steps: [sampleStep(1, { value: "x".repeat(1536 * 1024) })] });
    await store.close?.();
    stores.splice(0);

    const { calls } = disk;
    expect(calls.filter((c) => c.op === "write").length, "the watch saw no write: it observes nothing").toBeGreaterThan(0);
    expect(calls.filter((c) => c.op === "sync")).toEqual([]);
    expect(calls.filter((c) => c.op === "write" && (c.dsync || isSegment(c.file)))).toEqual([]);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith(".wal."))).toEqual([]);
  });
});
