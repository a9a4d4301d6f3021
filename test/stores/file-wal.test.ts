/**
 * The file store's write-ahead segments after a crash: every acknowledged commit survives a machine crash
 * (flow files lost what the segment covers), whether it shared its segment write with other flows' or was
 * logged alone, and a commit made durable with the next is logged with it; a process crash adopts the
 * dead process's segment without rewriting anything, a live process's segment is left alone, and a torn
 * record in a segment is ignored without resurrecting a deleted flow.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createFileStore } from "../../src/stores/file-store.js";
import { flowFileName } from "../../src/stores/file-names.js";
import { decodeRecords } from "../../src/stores/file-wal-recovery.js";

const root = path.join(import.meta.dirname, "..", "..");
const storeModule = path.join(root, "dist", "src", "stores", "file-store.js");
const child = path.join(import.meta.dirname, "fixtures", "wal-writer.mjs");
const work = fs.mkdtempSync(path.join(tmpdir(), "firestep-wal-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const OTHER_BOOT = ".wal.00000000-0000-0000-0000-000000000000";

async function runWriter(dir: string, flows: number, mode = ""): Promise<string> {
  expect(fs.existsSync(storeModule), "dist/ is missing: run `npm run build` (npm test does it first)").toBe(true);
  const proc = spawn(process.execPath, [child, storeModule, dir, String(flows), mode], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  await new Promise<void>((resolve) => proc.stdout.on("data", (d) => ((out += d), out.includes("done\n") && resolve())));
  proc.kill("SIGKILL");
  await new Promise((r) => proc.once("exit", r));
  return out;
}

const wals = (dir: string) => fs.readdirSync(dir).filter((n) => n.startsWith(".wal."));
/** Where a segment's records end: segments are zero-filled ahead, and a record ends with a newline. */
const recordsEnd = (segment: Buffer) => {
  let end = segment.length;
  while (end > 0 && segment[end - 1] === 0) end--;
  return end;
};
const asOtherBoot = (dir: string) => {
  for (const w of wals(dir)) fs.renameSync(path.join(dir, w), path.join(dir, w.replace(/^\.wal\.[0-9a-f-]{36}/, OTHER_BOOT)));
};
const acked = (out: string) => out.split("\n").filter((l) => l.startsWith("acked ")).map((l) => l.split(" ").slice(1) as [string, string]);
const rec = (id: string) => ({ id, flowName: "f", status: "scheduled" as const, input: 1, waits: [], rev: 0, epoch: 0, stepCount: 0, progress: {}, createdAt: 1, updatedAt: 1 });

describe("file store write-ahead segments after a crash", () => {
  it("recovers every acknowledged commit after a machine crash that lost the flow files' tails", async () => {
    const dir = fs.mkdtempSync(path.join(work, "machine-"));
    const out = await runWriter(dir, 50);
    expect(wals(dir).length).toBeGreaterThanOrEqual(1);
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(".log"))) {
      const file = path.join(dir, name);
      const buf = fs.readFileSync(file);
      fs.truncateSync(file, buf.indexOf(0x0a, 1) + 1);
    }
    fs.unlinkSync(path.join(dir, flowFileName("flow-7", 0)));
    asOtherBoot(dir);
    const store = createFileStore({ dir });
    const commits = acked(out);
    expect(commits.length).toBe(250);
    for (const [id, seq] of commits) expect((await store.load(id))?.steps.some((s) => s.seq === Number(seq)), `${id} step ${seq}`).toBe(true);
    expect(wals(dir)).toEqual([]);
    await store.close?.();
  });

  it("recovers a lone flow's create and commits, each logged alone in a zero-filled segment, after a machine crash lost its file", async () => {
    const dir = fs.mkdtempSync(path.join(work, "lone-"));
    const out = await runWriter(dir, 1);
    expect(acked(out)).toHaveLength(5);
    const [wal] = wals(dir);
    const segment = fs.readFileSync(path.join(dir, wal!));
    const end = recordsEnd(segment);
    expect(segment.length - end, "zeros ahead of the records").toBeGreaterThan(0);
    const records = decodeRecords(segment);
    expect(records.map((r) => r.created)).toEqual([true, false, false, false, false, false]); // one write each
    expect(Buffer.concat(records.map((r) => r.bytes))).toEqual(fs.readFileSync(path.join(dir, flowFileName("flow-0", 0))));

    fs.unlinkSync(path.join(dir, flowFileName("flow-0", 0))); // neither its name nor its content reached the disk
    asOtherBoot(dir);
    const store = createFileStore({ dir });
    expect((await store.load("flow-0"))!.steps.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(wals(dir)).toEqual([]);
    await store.close?.();
  });

  it("logs a commit made durable with the next together with that next one, so both survive a machine crash", async () => {
    const dir = fs.mkdtempSync(path.join(work, "deferred-"));
    const out = await runWriter(dir, 1, "defer");
    expect(acked(out)).toHaveLength(5);
    const [wal] = wals(dir);
    const records = decodeRecords(fs.readFileSync(path.join(dir, wal!)));
    // The create, commit 0, commits 1 + 2 in one record, commits 3 + 4 in one record: three syncs for five commits.
    expect(records.map((r) => r.created)).toEqual([true, false, false, false]);
    expect(Buffer.concat(records.map((r) => r.bytes))).toEqual(fs.readFileSync(path.join(dir, flowFileName("flow-0", 0))));

    fs.unlinkSync(path.join(dir, flowFileName("flow-0", 0)));
    asOtherBoot(dir);
    const store = createFileStore({ dir });
    expect((await store.load("flow-0"))!.steps.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4]);
    await store.close?.();
  });

  it("adopts a dead process's segment without rewriting anything", async () => {
    const dir = fs.mkdtempSync(path.join(work, "process-"));
    await runWriter(dir, 30);
    expect(wals(dir).length).toBeGreaterThanOrEqual(1);
    const stats = { bytesRead: 0, bytesWritten: 0, syncs: 0, groupCommits: 0 };
    const store = createFileStore({ dir, stats });
    for (let f = 0; f < 30; f++) expect((await store.load(`flow-${f}`))!.steps).toHaveLength(5);
    expect(wals(dir)).toEqual([]);
    expect(stats.bytesWritten).toBe(0);
    await store.close?.();
  });

  it("leaves a live process's segment alone and checkpoints it on close", async () => {
    const dir = fs.mkdtempSync(path.join(work, "live-"));
    const a = createFileStore({ dir });
    await Promise.all([...Array(20).keys()].map((i) => a.create(rec(`x${i}`))));
    const [wal] = wals(dir);
    expect(wal).toBeDefined();
    const b = createFileStore({ dir });
    await b.get("x1");
    expect(fs.existsSync(path.join(dir, wal!))).toBe(true);
    await a.close?.();
    expect(fs.existsSync(path.join(dir, wal!))).toBe(false);
    await b.close?.();
  });

  it("ignores a torn record in an orphaned segment and does not resurrect a deleted flow", async () => {
    const dir = fs.mkdtempSync(path.join(work, "torn-"));
    await runWriter(dir, 20);
    const segments = wals(dir);
    const hidden = `${dir}-hidden`;
    fs.mkdirSync(hidden);
    for (const w of segments) fs.renameSync(path.join(dir, w), path.join(hidden, w));
    const s0 = createFileStore({ dir });
    const r3 = (await s0.get("flow-3"))!;
    await s0.delete("flow-3", r3.rev);
    await s0.close?.();
    for (const w of segments) fs.renameSync(path.join(hidden, w), path.join(dir, w));
    asOtherBoot(dir);
    // A record torn by the crash, right after the last intact one (in the zeros filled ahead).
    const torn = path.join(dir, wals(dir)[0]!);
    const fd = fs.openSync(torn, "r+");
    fs.writeSync(fd, '{"f":"flow-1@0.log","o":0,"n":50,"c":123}\n' + "x".repeat(50) + "\n", recordsEnd(fs.readFileSync(torn)));
    fs.closeSync(fd);
    const stub = fs.readFileSync(path.join(dir, flowFileName("flow-3", 0)));
    const store = createFileStore({ dir });
    expect(await store.get("flow-3")).toBeUndefined();
    expect(fs.readFileSync(path.join(dir, flowFileName("flow-3", 0)))).toEqual(stub);
    expect((await store.load("flow-1"))!.steps).toHaveLength(5);
    await store.close?.();
  });
});
