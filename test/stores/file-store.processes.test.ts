/**
 * The file store in child processes: two sharing one directory, and one under a limit of open files. The
 * child scripts are plain JavaScript, so the store is compiled first (with tsc, into a temporary folder
 * under node_modules/.cache, so it is never stale).
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFileStore } from "../../src/stores/file-store.js";
import { sampleRecord } from "../../src/testing/store-contract.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
const racer = join(import.meta.dirname, "fixtures/file-store-racer.mjs");
const burst = join(import.meta.dirname, "fixtures/file-store-burst.mjs");

let build: string;
let dir: string;

beforeAll(async () => {
  await mkdir(join(root, "node_modules/.cache"), { recursive: true });
  build = await mkdtemp(join(root, "node_modules/.cache/firestep-file-store-"));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [
    tsc, "--outDir", build, "--rootDir", root, "--module", "NodeNext", "--moduleResolution", "NodeNext", "--target", "ES2022",
    "--strict", "--skipLibCheck", "--types", "node", "--declaration", "false", "--sourceMap", "false",
    join(root, "src/stores/file-store.ts"),
  ], { cwd: root, stdio: "pipe" });
  dir = await mkdtemp(join(tmpdir(), "firestep-file-procs-"));
});

afterAll(async () => {
  await rm(build, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
});

describe("file store shared by two processes", () => {
  it("racing commits to one flow lose no step, duplicate none, and each process wins exactly the steps it wrote", async () => {
    const store = createFileStore({ dir });
    const flow = sampleRecord();
    await store.create(flow);
    const total = 300;
    const startAt = Date.now() + 500;
    const module = join(build, "src/stores/file-store.js");
    const outputs = await Promise.all(
      ["a", "b"].map((tag) => run(process.execPath, [racer, module, dir, flow.id, tag, String(total), String(startAt)]).then((r) => JSON.parse(r.stdout) as { tag: string; won: number[]; conflicts: number })),
    );
    const loaded = (await store.load(flow.id))!;
    await store.close?.();

    expect(loaded.record.rev).toBe(total);
    expect(loaded.record.stepCount).toBe(total);
    expect(loaded.steps.map((s) => s.seq)).toEqual([...Array(total).keys()]);
    const wonBy = new Map<number, string>();
    for (const o of outputs) for (const seq of o.won) {
      expect(wonBy.has(seq)).toBe(false);
      wonBy.set(seq, o.tag);
    }
    expect(wonBy.size).toBe(total);
    for (const s of loaded.steps) expect((s.value as { by: string }).by).toBe(wonBy.get(s.seq));
    // Both made progress (a run where one process finished before the other started proves little).
    for (const o of outputs) expect(o.won.length).toBeGreaterThan(0);
  });
});

describe("file store in a process with a limit of open files", () => {
  it("a burst of calls on 3,000 different flows at once fits in the usual limit of 1,024 open files", async () => {
    // Each call holds a descriptor or two while it runs: with no bound on the calls under way at once,
    // this burst failed with EMFILE (its creates first).
    const burstDir = await mkdtemp(join(tmpdir(), "firestep-file-burst-"));
    try {
      const module = join(build, "src/stores/file-store.js");
      const { stdout } = await run("bash", ["-c", 'ulimit -n 1024 && exec "$0" "$@"', process.execPath, burst, module, burstDir, "3000"]);
      expect(JSON.parse(stdout)).toEqual({ created: 3000, read: 3000, committed: 3000, left: 0 });
    } finally {
      await rm(burstDir, { recursive: true, force: true });
    }
  }, 60_000);
});
