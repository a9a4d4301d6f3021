import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConflictError, CorruptRecordError, StoreUnavailableError } from "../../src/errors.js";
import type { FlowStore } from "../../src/ports.js";
import type { FlowRecord } from "../../src/schemas.js";
import { flowFileName } from "../../src/stores/file-names.js";
import { createFileStore } from "../../src/stores/file-store.js";
import { describeStoreContract, sampleRecord, sampleStep } from "../../src/testing/store-contract.js";

describeStoreContract("file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "firestep-file-store-"));
  return { store: createFileStore({ dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

/** The directory's flow files: not the dot files a store keeps while open (write-ahead segments, spare files). */
const listFiles = async (dir: string) => (await readdir(dir)).filter((n) => !n.startsWith("."));

const bump = (r: FlowRecord, over: Partial<FlowRecord> = {}): FlowRecord => ({ ...r, rev: r.rev + 1, updatedAt: r.updatedAt + 1, ...over });

describe("file store", () => {
  const dirs: string[] = [];
  const stores: FlowStore[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), "firestep-file-store-"));
    dirs.push(dir);
    return dir;
  };
  const open = (dir: string) => {
    const store = createFileStore({ dir });
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close?.();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  /** A flow with `n` one-step commits; returns it and its log file. */
  async function flowWithSteps(store: FlowStore, dir: string, n: number) {
    let r = sampleRecord();
    await store.create(r, [{ at: 0, type: "flow.scheduled" }]);
    for (let i = 0; i < n; i++) r = await store.commit(r.id, { expectRev: r.rev, record: bump(r, { stepCount: i + 1 }), steps: [sampleStep(i)] });
    return { record: r, file: join(dir, flowFileName(r.id, 0)) };
  }

  it("ignores a torn trailing line, and later commits land after it", async () => {
    const dir = await tempDir();
    const writer = open(dir);
    const { record, file } = await flowWithSteps(writer, dir, 3);
    await appendFile(file, `\n{"op":"commit","rev":4,"nonce":"torn","record":{"id":"${record.id}","fl`);

    const reader = open(dir);
    expect((await reader.load(record.id))!.record).toEqual(record);
    const next = await writer.commit(record.id, { expectRev: 3, record: bump(record, { stepCount: 4 }), steps: [sampleStep(3)] });
    const again = await reader.commit(record.id, { expectRev: 4, record: bump(next, { stepCount: 5 }), steps: [sampleStep(4)] });

    const fresh = (await open(dir).load(record.id))!;
    expect(fresh.record).toEqual(again);
    expect(fresh.steps.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it("reads every crash point of a log: a cut anywhere after the first line gives a consistent earlier state", async () => {
    const dir = await tempDir();
    const { record, file } = await flowWithSteps(open(dir), dir, 3);
    const bytes = await readFile(file);
    const firstLineEnd = bytes.indexOf(0x0a, 1) + 1;
    const cutDir = await tempDir();
    const cutFile = join(cutDir, flowFileName(record.id, 0));
    for (let cut = firstLineEnd; cut <= bytes.length; cut++) {
      await writeFile(cutFile, bytes.subarray(0, cut));
      const store = createFileStore({ dir: cutDir });
      const loaded = (await store.load(record.id))!;
      await store.close?.();
      expect(loaded.steps.map((s) => s.seq)).toEqual([...Array(loaded.record.rev).keys()]);
    }
  });

  it("fails with CorruptRecordError naming the flow when a line parses but is not a valid record", async () => {
    const dir = await tempDir();
    const writer = open(dir);
    const { record, file } = await flowWithSteps(writer, dir, 2);
    await appendFile(file, `\n{"op":"commit","rev":3,"nonce":"bad","record":{"id":"${record.id}","status":"exploded"}}\n`);
    await appendFile(file, `\n{"op":"commit","rev":4,"nonce":"later","record":${JSON.stringify(bump(bump(record)))}}\n`);

    const error = await open(dir).load(record.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect((error as Error).message).toContain(record.id);
    await expect(writer.get(record.id)).rejects.toBeInstanceOf(CorruptRecordError);
  });

  it("fails with CorruptRecordError when a commit's record patch makes an invalid record", async () => {
    const dir = await tempDir();
    const { record, file } = await flowWithSteps(open(dir), dir, 2);
    await appendFile(file, `\n{"op":"commit","rev":3,"nonce":"bad","set":{"rev":3,"status":"exploded"}}\n`);
    const error = await open(dir).load(record.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect((error as Error).message).toContain("status");
  });

  it("writes a flow's input once, not again with every commit", async () => {
    const dir = await tempDir();
    const store = open(dir);
    let r = sampleRecord({ input: { document: "x".repeat(100_000) } });
    await store.create(r);
    for (let i = 0; i < 20; i++) r = await store.commit(r.id, { expectRev: r.rev, record: bump(r, { stepCount: i + 1 }), steps: [sampleStep(i)] });
    const size = (await readFile(join(dir, flowFileName(r.id, 0)))).length;
    expect(size).toBeGreaterThan(100_000);
    expect(size).toBeLessThan(110_000);
    expect((await open(dir).get(r.id))!.input).toEqual(r.input);
  });

  it("fails with CorruptRecordError when a line is JSON but not a log line at all", async () => {
    const dir = await tempDir();
    const { record, file } = await flowWithSteps(open(dir), dir, 1);
    await appendFile(file, `\n[1,2,3]\n`);
    await expect(open(dir).get(record.id)).rejects.toThrow(new RegExp(`flow "${record.id}"`));
  });

  it("keeps every id inside the directory, distinct from ids differing only in case or escaping", async () => {
    const dir = await tempDir();
    const store = open(dir);
    const ids = ["../escape", "a/b", "..", ".", "CON", "con", "Aa", "aa", "%61a", "x:y.z", "ключ", "~x", "L".repeat(128), "l".repeat(300)];
    for (const id of ids) expect((await store.create(sampleRecord({ id }))).created).toBe(true);
    for (const id of ids) expect((await store.get(id))!.id).toBe(id);
    const names = await listFiles(dir);
    expect(names).toHaveLength(ids.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9_%~-]+@0\.log$/);
    expect(await readdir(join(dir, ".."))).not.toContain("escape@0.log");
  });

  /** Two stores on one directory, and a flow created through `a` that `b` has read (and holds open). */
  async function sharedFlow() {
    const dir = await tempDir();
    const a = open(dir);
    const b = open(dir);
    const r = sampleRecord();
    await a.create(r);
    expect(await b.get(r.id)).toEqual(r);
    return { dir, a, b, r };
  }

  it("a writer with a stale cache loses to a commit made through another store on the same directory", async () => {
    const { dir, a, b, r } = await sharedFlow();
    await a.commit(r.id, { expectRev: 0, record: bump(r, { epoch: 1 }), steps: [sampleStep(0, { value: "a" })] });
    await expect(b.commit(r.id, { expectRev: 0, record: bump(r, { epoch: 2 }), steps: [sampleStep(0, { value: "b" })] })).rejects.toBeInstanceOf(ConflictError);
    for (const s of [a, b, open(dir)]) {
      const loaded = (await s.load(r.id))!;
      expect(loaded.record.epoch).toBe(1);
      expect(loaded.steps.map((x) => x.value)).toEqual(["a"]);
    }
  });

  it("reads what another store appended, a few bytes (on the event loop) or more than 64 KB (in the thread pool), as it was written", async () => {
    const { a, b, r: created } = await sharedFlow(); // b reads only what is new from here on
    let r = created;
    const values = ["small", "L".repeat(70_000), "small again", "M".repeat(200_000)];
    for (const [i, value] of values.entries()) {
      r = await a.commit(r.id, { expectRev: r.rev, record: bump(r, { stepCount: i + 1 }), steps: [sampleStep(i, { value })] });
      const loaded = (await b.load(r.id))!;
      expect(loaded.record).toEqual(r);
      expect(loaded.steps.map((s) => s.value)).toEqual(values.slice(0, i + 1));
    }
  });

  it("of two stores on one directory creating the same id at once, exactly one creates it", async () => {
    const dir = await tempDir();
    const id = sampleRecord().id;
    const [ra, rb] = [sampleRecord({ id, input: "a" }), sampleRecord({ id, input: "b" })];
    const results = await Promise.all([open(dir).create(ra), open(dir).create(rb)]);
    expect(results.filter((x) => x.created)).toHaveLength(1);
    const winner = results.find((x) => x.created)!.record;
    for (const x of results) expect(x.record).toEqual(winner);
    expect(await open(dir).get(id)).toEqual(winner);
  });

  it("of a delete and a commit racing through two stores at the same rev, exactly one takes effect", async () => {
    for (let round = 0; round < 10; round++) {
      const dir = await tempDir();
      const a = open(dir);
      const b = open(dir);
      const r = sampleRecord();
      await a.create(r);
      await b.get(r.id);
      const [deleted, committed] = await Promise.allSettled([a.delete(r.id, 0), b.commit(r.id, { expectRev: 0, record: bump(r), steps: [sampleStep(0)] })]);
      expect([deleted.status, committed.status].sort()).toEqual(["fulfilled", "rejected"]);
      const after = await open(dir).load(r.id);
      if (deleted.status === "fulfilled") expect(after).toBeUndefined();
      else expect(after).toEqual({ record: bump(r), steps: [sampleStep(0)] });
    }
  });

  it("a writer still holding a deleted flow's file cannot resurrect it, and a re-created flow starts empty", async () => {
    const dir = await tempDir();
    const a = open(dir);
    const b = open(dir);
    const { record, file } = await flowWithSteps(a, dir, 2);
    expect((await b.get(record.id))!.rev).toBe(2);
    await b.delete(record.id, 2);
    expect((await readFile(file, "utf8")).includes('"record"')).toBe(false); // the data is gone, only a stub is left

    await expect(a.commit(record.id, { expectRev: 2, record: bump(record), steps: [sampleStep(2)] })).rejects.toBeInstanceOf(ConflictError);
    expect(await a.get(record.id)).toBeUndefined();

    const again = sampleRecord({ id: record.id });
    expect((await a.create(again)).created).toBe(true);
    await expect(b.commit(record.id, { expectRev: 2, record: bump(record), steps: [sampleStep(2)] })).rejects.toBeInstanceOf(ConflictError);
    expect(await b.load(record.id)).toEqual({ record: again, steps: [] });
    expect((await b.create(sampleRecord({ id: record.id }))).created).toBe(false);
    expect(await listFiles(dir)).toEqual([flowFileName(record.id, 0), flowFileName(record.id, 1)].sort());
  });

  it("leaves no working files behind once closed: files made ahead for creates and segments are removed", async () => {
    const dir = await tempDir();
    const store = createFileStore({ dir });
    const ids = await Promise.all([...Array(20).keys()].map(async (i) => (await store.create(sampleRecord({ id: `f${i}` }))).record.id));
    await store.close?.();
    expect((await readdir(dir)).sort()).toEqual(ids.map((id) => flowFileName(id, 0)).sort());
  });

  it("keeps working with more flows in use than descriptors it keeps open", async () => {
    const dir = await tempDir();
    const small = createFileStore({ dir, maxOpenFlows: 2 });
    stores.push(small);
    const other = open(dir);
    const flows = [sampleRecord(), sampleRecord(), sampleRecord()];
    for (const f of flows) await small.create(f);
    await other.commit(flows[0]!.id, { expectRev: 0, record: bump(flows[0]!), steps: [sampleStep(0)] });
    for (const f of flows) expect((await small.load(f.id))!.record.rev).toBe(f === flows[0] ? 1 : 0);
  });

  it("rejects an unusable directory with StoreUnavailableError naming the path and what to do", async () => {
    const parent = await tempDir();
    const file = join(parent, "a-file");
    await writeFile(file, "not a directory");
    const store = open(join(file, "flows"));
    const error = await store.create(sampleRecord()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toContain(join(file, "flows"));
    expect((error as Error).message).toMatch(/ENOTDIR.*pass a `dir`/);
    await expect(store.get("x")).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
