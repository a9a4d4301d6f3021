/**
 * Benchmark scenarios, each run in its own process by bench/main.ts so peak RSS belongs to one scenario.
 *   node dist/bench/scenarios.js <scenario> <memory|file>
 * Prints one JSON line of figures.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { createEmbeddedRuntime, createFileStore, createMemoryStore, defineFlow, interrupt, run, sleep, type EmbeddedRuntime, type FlowStore } from "../src/index.js";

const [scenario = "", storeKind = "memory", arg = ""] = process.argv.slice(2);

/** Counts bytes a store is asked to write and hands back on reads (JSON size). */
function metered(store: FlowStore) {
  const bytes = { read: 0, written: 0 };
  const size = (v: unknown) => (v === undefined ? 0 : Buffer.byteLength(JSON.stringify(v)));
  const wrapped: FlowStore = {
    ...store,
    maxValueBytes: store.maxValueBytes,
    create: async (r, e) => ((bytes.written += size(r) + size(e)), store.create(r, e)),
    get: async (id) => {
      const r = await store.get(id);
      bytes.read += size(r);
      return r;
    },
    load: async (id) => {
      const r = await store.load(id);
      bytes.read += size(r);
      return r;
    },
    commit: async (id, c) => ((bytes.written += size(c)), store.commit(id, c)),
    ...(store.close ? { close: () => store.close!() } : {}),
  };
  return { store: wrapped, bytes };
}

function makeStore(): { store: FlowStore; dir?: string } {
  if (storeKind === "memory") return { store: createMemoryStore() };
  const dir = mkdtempSync(join(tmpdir(), "firestep-bench-"));
  return { store: createFileStore({ dir }), dir };
}

const manySteps = defineFlow({ name: "manySteps", input: z.number(), output: z.number() }, async (n) => {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (await run(`s${i}`, () => ({ i, ok: true }))).i;
  return sum;
});

const sleepyEachStep = defineFlow({ name: "sleepyEachStep", input: z.number(), output: z.number() }, async (n) => {
  for (let i = 0; i < n; i++) {
    await run(`s${i}`, () => ({ i }));
    await sleep(`z${i}`, 0);
  }
  return n;
});

const sleepZero = defineFlow({ name: "sleepZero", input: z.void(), output: z.boolean() }, async () => {
  await sleep("zero", 0);
  return true;
});

const waitsForPerson = defineFlow({ name: "waitsForPerson", input: z.void(), output: z.boolean() }, async () => {
  return (await interrupt("ok?", z.object({ ok: z.boolean() }))).ok;
});

const sleeper = defineFlow({ name: "sleeper", input: z.number(), output: z.number() }, async (ms) => {
  await sleep("nap", ms / 1000);
  return run("after", () => 1);
});

async function untilDone(rt: EmbeddedRuntime, ids: string[]): Promise<void> {
  for (;;) {
    await rt.idle();
    let open = 0;
    for (const id of ids) if (!(await rt.getFlow(id)).operation.done) open++;
    if (open === 0) return;
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function main(): Promise<Record<string, number | string>> {
  const { store: raw, dir } = makeStore();
  const { store, bytes } = metered(raw);
  const rt = createEmbeddedRuntime({ store, recover: false });
  try {
    switch (scenario) {
      case "one-flow-1000": {
        const t0 = performance.now();
        const op = await rt.scheduleFlow(manySteps, 1000);
        await untilDone(rt, [op.name]);
        const ms = performance.now() - t0;
        return { steps: 1000, ms, stepsPerSec: 1000 / (ms / 1000) };
      }
      case "flows-x10": {
        const flows = Number(arg || 500);
        const t0 = performance.now();
        const ops = await Promise.all([...Array(flows).keys()].map(() => rt.scheduleFlow(manySteps, 10)));
        await untilDone(rt, ops.map((o) => o.name));
        const ms = performance.now() - t0;
        return { flows, steps: flows * 10, ms, flowsPerSec: flows / (ms / 1000), stepsPerSec: (flows * 10) / (ms / 1000) };
      }
      case "latency": {
        const sleepMs: number[] = [];
        const resumeMs: number[] = [];
        for (let i = 0; i < 200; i++) {
          const t0 = performance.now();
          const op = await rt.scheduleFlow(sleepZero, undefined);
          await untilDone(rt, [op.name]);
          sleepMs.push(performance.now() - t0);
          const w = await rt.scheduleFlow(waitsForPerson, undefined);
          for (;;) {
            await rt.idle();
            if ((await rt.getFlowState(waitsForPerson, w.name)).blockedOnStep) break;
            await new Promise((r) => setTimeout(r, 0));
          }
          const t1 = performance.now();
          await rt.resumeFlow(waitsForPerson, w.name, { ok: true });
          await untilDone(rt, [w.name]);
          resumeMs.push(performance.now() - t1);
        }
        return { sleep0MedianMs: median(sleepMs), sleep0P95Ms: p95(sleepMs), resumeMedianMs: median(resumeMs), resumeP95Ms: p95(resumeMs) };
      }
      case "replay": {
        const n = Number(arg || 100);
        const t0 = performance.now();
        const op = await rt.scheduleFlow(sleepyEachStep, n);
        await untilDone(rt, [op.name]);
        return { n, ms: performance.now() - t0, bytesRead: bytes.read, bytesWritten: bytes.written };
      }
      case "sleeping-10k": {
        const flows = Number(arg || 10_000);
        const wakeIn = 15_000;
        const t0 = performance.now();
        const ids: string[] = [];
        for (let i = 0; i < flows; i += 500) {
          const ops = await Promise.all([...Array(Math.min(500, flows - i)).keys()].map(() => rt.scheduleFlow(sleeper, wakeIn)));
          ids.push(...ops.map((o) => o.name));
        }
        await rt.idle();
        const scheduledMs = performance.now() - t0;
        global.gc?.();
        const rssSleepingMb = process.memoryUsage().rss / 1e6;
        await new Promise((r) => setTimeout(r, Math.max(0, wakeIn - (performance.now() - t0)) + 50));
        const t1 = performance.now();
        await untilDone(rt, ids);
        return { flows, scheduledMs, rssSleepingMb, wakeAllMs: performance.now() - t1 };
      }
      default:
        throw new Error(`unknown scenario "${scenario}"`);
    }
  } finally {
    await rt.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length * 0.95)]!;
}

const figures = await main();
process.stdout.write(JSON.stringify({ scenario, store: storeKind, arg, ...figures, peakRssMb: process.resourceUsage().maxRSS / 1024 }) + "\n");
