/**
 * Benchmark scenarios, each run in its own process by bench/main.ts so peak RSS belongs to one scenario.
 *   node dist/bench/scenarios.js <scenario> <memory|file> [arg]
 * Prints one JSON line of figures. "cold" figures include the first run in a fresh process (module loading
 * and JIT warm-up); the others are taken after a warm-up run, as a long-lived runtime would see them.
 * Waiting never reads flows' journals: it waits for the local queue to go idle and then reads records only.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { createEmbeddedRuntime, createFileStore, createMemoryStore, defineFlow, interrupt, run, sleep, sleepUntil, type EmbeddedRuntime, type FlowStore } from "../src/index.js";

/** The figures a file store counts (see FileStoreStats). */
interface FileStoreStats {
  bytesRead: number;
  bytesWritten: number;
  syncs: number;
  groupCommits: number;
}

const [scenario = "", storeKind = "memory", arg = ""] = process.argv.slice(2);

function makeStore(): { store: FlowStore; dir?: string; stats?: FileStoreStats } {
  if (storeKind === "memory") return { store: createMemoryStore() };
  const dir = mkdtempSync(join(tmpdir(), "firestep-bench-"));
  const stats: FileStoreStats = { bytesRead: 0, bytesWritten: 0, syncs: 0, groupCommits: 0 };
  const options: Parameters<typeof createFileStore>[0] & { stats?: FileStoreStats } = { dir, stats };
  return { store: createFileStore(options), dir, stats };
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

/** Sleeps until the given time (epoch ms), then runs one step: many of them wake at the same instant. */
const sleeper = defineFlow({ name: "sleeper", input: z.number(), output: z.number() }, async (at) => {
  await sleepUntil("nap", at);
  return run("after", () => 1);
});

/** Waits until every flow in `ids` has finished, reading records only (never journals or history). */
async function untilDone(rt: EmbeddedRuntime, ids: string[]): Promise<void> {
  let open = ids;
  for (;;) {
    await rt.idle();
    const records = await Promise.all(open.map((id) => rt.core.store.get(id)));
    open = open.filter((_, i) => !["succeeded", "failed", "cancelled"].includes(records[i]!.status));
    if (open.length === 0) return;
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function timeFlows(rt: EmbeddedRuntime, flows: number, steps: number): Promise<number> {
  const t0 = performance.now();
  const ops = await Promise.all([...Array(flows).keys()].map(() => rt.scheduleFlow(manySteps, steps)));
  await untilDone(rt, ops.map((o) => o.name));
  return performance.now() - t0;
}

async function main(): Promise<Record<string, number | string>> {
  const { store, dir, stats } = makeStore();
  const rt = createEmbeddedRuntime({ store, recover: false });
  const io = () => ({ ...(stats ?? { bytesRead: 0, bytesWritten: 0, syncs: 0, groupCommits: 0 }) });
  try {
    switch (scenario) {
      case "one-flow-1000": {
        const coldMs = await timeFlows(rt, 1, 1000);
        const warm: number[] = [];
        const before = io();
        const cpu0 = process.cpuUsage();
        for (let i = 0; i < 3; i++) warm.push(await timeFlows(rt, 1, 1000));
        const cpu = process.cpuUsage(cpu0);
        const after = io();
        const ms = median(warm);
        return {
          steps: 1000, ms, stepsPerSec: 1000 / (ms / 1000), usPerStep: ms, cpuUsPerStep: (cpu.user + cpu.system) / 3000, coldMs, coldStepsPerSec: 1000 / (coldMs / 1000),
          syncsPerStep: (after.syncs - before.syncs) / 3000, bytesWrittenPerStep: (after.bytesWritten - before.bytesWritten) / 3000,
        };
      }
      case "flows-x10": {
        const flows = Number(arg || 500);
        const coldMs = await timeFlows(rt, flows, 10);
        const before = io();
        const cpu0 = process.cpuUsage();
        const ms = await timeFlows(rt, flows, 10);
        const cpu = process.cpuUsage(cpu0);
        const after = io();
        return {
          flows, steps: flows * 10, ms, cpuMs: (cpu.user + cpu.system) / 1000, flowsPerSec: flows / (ms / 1000), stepsPerSec: (flows * 10) / (ms / 1000), coldMs,
          syncs: after.syncs - before.syncs, groupCommits: after.groupCommits - before.groupCommits,
        };
      }
      case "latency": {
        const sleepMs: number[] = [];
        const resumeMs: number[] = [];
        for (let i = 0; i < 220; i++) {
          const t0 = performance.now();
          const op = await rt.scheduleFlow(sleepZero, undefined);
          await untilDone(rt, [op.name]);
          const t1 = performance.now();
          const w = await rt.scheduleFlow(waitsForPerson, undefined);
          for (;;) {
            await rt.idle();
            if ((await rt.getFlowState(waitsForPerson, w.name)).blockedOnStep) break;
            await new Promise((r) => setTimeout(r, 0));
          }
          const t2 = performance.now();
          await rt.resumeFlow(waitsForPerson, w.name, { ok: true });
          await untilDone(rt, [w.name]);
          const t3 = performance.now();
          if (i < 20) continue; // warm-up
          sleepMs.push(t1 - t0);
          resumeMs.push(t3 - t2);
        }
        return { sleep0MedianMs: median(sleepMs), sleep0P95Ms: p95(sleepMs), resumeMedianMs: median(resumeMs), resumeP95Ms: p95(resumeMs) };
      }
      case "replay": {
        const n = Number(arg || 100);
        const t0 = performance.now();
        const op = await rt.scheduleFlow(sleepyEachStep, n);
        await untilDone(rt, [op.name]);
        const s = io();
        return {
          n, ms: performance.now() - t0, msPerWake: (performance.now() - t0) / (n + 1),
          bytesRead: s.bytesRead, bytesWritten: s.bytesWritten, syncs: s.syncs,
          bytesReadPerStep: s.bytesRead / n, bytesWrittenPerStep: s.bytesWritten / n,
        };
      }
      case "sleeping-10k": {
        // Scheduled 100 at a time; all wake at the same instant, once every flow is asleep and memory settled.
        const flows = Number(arg || 10_000);
        global.gc?.();
        const rssBeforeMb = process.memoryUsage().rss / 1e6;
        const wakeAt = Date.now() + 60_000;
        const t0 = performance.now();
        const ids: string[] = [];
        let finished = 0;
        rt.subscribe((e) => {
          if (e.type === "flow.succeeded") finished++;
        });
        for (let i = 0; i < flows; i += 100) {
          const ops = await Promise.all([...Array(Math.min(100, flows - i)).keys()].map(() => rt.scheduleFlow(sleeper, wakeAt)));
          ids.push(...ops.map((o) => o.name));
        }
        await rt.idle();
        const scheduledMs = performance.now() - t0;
        await new Promise((r) => setTimeout(r, 3_000)); // all asleep, nothing running
        global.gc?.();
        const mem = process.memoryUsage();
        const rssSleepingMb = mem.rss / 1e6;
        const heapSleepingMb = mem.heapUsed / 1e6;
        if (Date.now() > wakeAt - 1000) throw new Error(`scheduling took ${Math.round(scheduledMs)} ms: move wakeAt later`);
        await new Promise((r) => setTimeout(r, wakeAt - Date.now()));
        const t1 = performance.now();
        while (finished < flows) await new Promise((r) => setTimeout(r, 5));
        const wakeAllMs = performance.now() - t1;
        await untilDone(rt, ids);
        return { flows, scheduledMs, rssBeforeMb, rssSleepingMb, heapSleepingMb, wakeAllMs, wakeUpsPerSec: flows / (wakeAllMs / 1000) };
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
