/**
 * Benchmark scenarios, each run in its own process by bench/main.ts so peak RSS belongs to one scenario.
 *   node dist/bench/scenarios.js <scenario> <memory|file> [arg]
 * Prints one JSON line of figures. "cold" figures include the first run in a fresh process (module loading
 * and JIT warm-up); the others are taken after a warm-up run, as a long-lived runtime would see them.
 * Waiting never reads flows' journals: it waits for the local queue to go idle and then reads records only.
 */
import { getHeapSpaceStatistics } from "node:v8";
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { emptyStats } from "../src/stores/file-stats.js";
import { SegmentFile } from "../src/stores/file-wal-segment.js";
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

const { store, dir, stats } = makeStore();
/** A snapshot of the file store's I/O counters (all zero on the memory store). */
const io = (): FileStoreStats => ({ ...(stats ?? { bytesRead: 0, bytesWritten: 0, syncs: 0, groupCommits: 0 }) });

/** Benchmark 1's flow body: `n` `run` steps, each returning a small object. */
async function nSteps(n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (await run(`s${i}`, () => ({ i, ok: true }))).i;
  return sum;
}

const manySteps = defineFlow({ name: "manySteps", input: z.number(), output: z.number() }, nSteps);

/** The same with a document in its input, as an AI pipeline's flow carries: benchmark 1 with `arg` bytes of it. */
const manyStepsWithDocument = defineFlow({ name: "manyStepsWithDocument", input: z.object({ n: z.number(), document: z.string() }), output: z.number() }, ({ n }) => nSteps(n));
const documentBytes = scenario === "one-flow-1000" ? Number(arg || 0) : 0;
const document = "d".repeat(documentBytes);

/** Benchmark 1 in rounds of `width` parallel `run` steps (`Promise.all`), as a fan-out does. */
const parallelSteps = defineFlow({ name: "parallelSteps", input: z.object({ n: z.number(), width: z.number() }), output: z.number() }, async ({ n, width }) => {
  let sum = 0;
  for (let i = 0; i < n; i += width) {
    const round = await Promise.all([...Array(Math.min(width, n - i)).keys()].map((j) => run(`s${i + j}`, () => ({ i: i + j, ok: true }))));
    for (const v of round) sum += v.i;
  }
  return sum;
});
const width = scenario === "parallel-1000" ? Number(arg || 10) : 0;

/** The flow benchmark 1 and 2 run: plain steps, with a document in the input, or steps in parallel rounds. */
const timedFlow = width ? parallelSteps : documentBytes ? manyStepsWithDocument : manySteps;

function startTimedFlow(rt: EmbeddedRuntime, steps: number) {
  if (width) return rt.scheduleFlow(parallelSteps, { n: steps, width });
  return documentBytes ? rt.scheduleFlow(manyStepsWithDocument, { n: steps, document }) : rt.scheduleFlow(manySteps, steps);
}

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

/** Benchmark 6's control: the same two steps' worth of writes as `sleeper`, with no wait, so nothing is left asleep. */
const finisher = defineFlow({ name: "finisher", input: z.number(), output: z.number() }, async () => {
  await run("nap", () => 0);
  return run("after", () => 1);
});

/** Schedules `flows` flows of `flow`, 100 at a time, and waits until the runtime is idle. */
async function scheduleBurst(rt: EmbeddedRuntime, flow: typeof sleeper, flows: number, input: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < flows; i += 100) {
    const ops = await Promise.all([...Array(Math.min(100, flows - i)).keys()].map(() => rt.scheduleFlow(flow, input)));
    ids.push(...ops.map((o) => o.name));
  }
  await rt.idle();
  return ids;
}

/** Memory in MB, read right after a full collection (when the process runs with --expose-gc). */
function memory() {
  global.gc?.();
  const mem = process.memoryUsage();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((sp) => [sp.space_name, sp.space_size / 1e6]));
  return { rss: mem.rss / 1e6, heapUsed: mem.heapUsed / 1e6, heapTotal: mem.heapTotal / 1e6, newSpace: spaces.new_space ?? 0, oldSpace: spaces.old_space ?? 0, external: mem.external / 1e6 };
}

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

/**
 * µs taken by each of `n` durable appends of a 700-byte record to a new write-ahead segment in `dir`: what a
 * durable step's write costs the store (file-wal-segment.ts). With `direct`, written directly where the file
 * system allows, as the store does; `direct` in the result says whether it was.
 */
async function segmentWriteUs(dir: string, direct: boolean, n: number): Promise<{ us: number[]; direct: boolean }> {
  const file = join(dir, `probe.${direct ? "direct" : "cached"}.${probes++}`);
  const seg = await SegmentFile.create(file, 16 << 20, emptyStats(), async () => undefined, direct);
  const us: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await seg.append([PROBE_RECORD]);
      us.push((performance.now() - t) * 1000);
    }
  } finally {
    await seg.close();
    rmSync(file, { force: true });
  }
  return { us, direct: seg.direct };
}

/** µs taken by each of `n` appends of a 700-byte record to a plain file, each followed by fdatasync: the textbook durable write. */
function appendSyncUs(dir: string, n: number): number[] {
  const file = join(dir, `probe.append.${probes++}`);
  const fd = openSync(file, "a");
  const us: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      writeSync(fd, PROBE_RECORD);
      fdatasyncSync(fd);
      us.push((performance.now() - t) * 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return us;
}

const PROBE_RECORD = Buffer.alloc(700, 97);
let probes = 0;

interface Timed {
  ms: number;
  /** The store's I/O counters over the timed part only. */
  io: FileStoreStats;
  /** CPU time (user + system) over the timed part only, in µs. */
  cpuUs: number;
}

/** Runs `flows` flows of `steps` steps at once and times them until all finished; then deletes them. */
async function timeFlows(rt: EmbeddedRuntime, flows: number, steps: number): Promise<Timed> {
  const before = io();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ops = await Promise.all([...Array(flows).keys()].map(() => startTimedFlow(rt, steps)));
  await untilDone(rt, ops.map((o) => o.name));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const after = io();
  // A long-lived runtime's store does not keep every flow it ever ran in its heap: neither does the benchmark.
  for (const o of ops) await rt.deleteFlow(timedFlow, o.name);
  return { ms, cpuUs: cpu.user + cpu.system, io: { bytesRead: after.bytesRead - before.bytesRead, bytesWritten: after.bytesWritten - before.bytesWritten, syncs: after.syncs - before.syncs, groupCommits: after.groupCommits - before.groupCommits } };
}

function sum(ts: Timed[], k: keyof FileStoreStats): number {
  return ts.reduce((a, t) => a + t.io[k], 0);
}

/**
 * Runs flows until the process has spent `budgetMs` on them (at least `min` runs), so V8 has compiled the
 * hot paths with its optimizing tier, as in a runtime that has been up for a while.
 */
async function warmUp(rt: EmbeddedRuntime, flows: number, steps: number, budgetMs: number, min: number): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < min || performance.now() - t0 < budgetMs; i++) await timeFlows(rt, flows, steps);
}

async function main(): Promise<Record<string, number | string>> {
  // "replay-cold" keeps no execution warm, so every wake-up replays the journal, as after a restart.
  const rt = createEmbeddedRuntime({ store, recover: false, ...(scenario === "replay-cold" ? { warmExecutions: 0 } : {}) });
  try {
    switch (scenario) {
      case "disk": {
        // The disk's own price of one durable write, for reading the file-store figures against: a 700-byte
        // record appended to a write-ahead segment (what a durable step costs the store; file-wal-segment.ts),
        // written directly as the store does where the file system allows, and through the page cache; and,
        // for comparison, an append plus fdatasync to a plain file.
        if (!dir) throw new Error('the "disk" scenario probes the file store\'s directory: run it with "file"');
        const cachedUs = median((await segmentWriteUs(dir, false, 400)).us);
        const direct = await segmentWriteUs(dir, true, 400);
        const directUs = direct.direct ? median(direct.us) : undefined;
        return {
          segmentWriteUs: cachedUs, ...(directUs !== undefined ? { segmentDirectWriteUs: directUs } : {}),
          appendSyncUs: median(appendSyncUs(dir, 400)), ceilingStepsPerSec: 1e6 / (directUs ?? cachedUs),
        };
      }
      case "one-flow-1000":
      case "parallel-1000": {
        const coldMs = (await timeFlows(rt, 1, 1000)).ms;
        await warmUp(rt, 1, 1000, 2_000, 2);
        const warm: Timed[] = [];
        // On the file store, the disk's price of one durable write is probed right before each timed run, so
        // the steps can be read against the disk as it was at that moment (it moves by half from minute to
        // minute). Means, as a run's time includes its writes' slow ones.
        const writeUs: number[] = [];
        const fsyncUs: number[] = [];
        const runs = 7;
        for (let i = 0; i < runs; i++) {
          if (dir) {
            writeUs.push(...(await segmentWriteUs(dir, true, 40)).us);
            fsyncUs.push(...appendSyncUs(dir, 40));
          }
          warm.push(await timeFlows(rt, 1, 1000));
        }
        const ms = median(warm.map((t) => t.ms));
        const stepsPerSec = 1000 / (ms / 1000);
        const [write, fsync] = [mean(writeUs), mean(fsyncUs)];
        // The ceilings are those of one durable write per step: for steps in parallel rounds, which share
        // writes, only the disk's figures mean anything.
        const disk: Record<string, number> = !dir
          ? {}
          : width
            ? { writeUs: write, fsyncUs: fsync }
            : { writeUs: write, fsyncUs: fsync, usOutsideWrite: ms - write, ofWriteCeiling: stepsPerSec / (1e6 / write), ofFsyncCeiling: stepsPerSec / (1e6 / fsync) };
        return {
          steps: 1000, ms, stepsPerSec, usPerStep: ms, bestStepsPerSec: 1000 / (Math.min(...warm.map((t) => t.ms)) / 1000),
          cpuUsPerStep: warm.reduce((a, t) => a + t.cpuUs, 0) / (runs * 1000), coldMs, coldStepsPerSec: 1000 / (coldMs / 1000),
          syncsPerStep: sum(warm, "syncs") / (runs * 1000), bytesWrittenPerStep: sum(warm, "bytesWritten") / (runs * 1000), ...disk,
        };
      }
      case "flows-x10": {
        const flows = Number(arg || 500);
        const coldMs = (await timeFlows(rt, flows, 10)).ms;
        await warmUp(rt, flows, 10, 2_000, 2);
        const runs = 3;
        const timed: Timed[] = [];
        for (let i = 0; i < runs; i++) timed.push(await timeFlows(rt, flows, 10));
        const ms = median(timed.map((t) => t.ms));
        return {
          flows, steps: flows * 10, ms, bestMs: Math.min(...timed.map((t) => t.ms)), flowsPerSec: flows / (ms / 1000), stepsPerSec: (flows * 10) / (ms / 1000), coldMs,
          syncs: sum(timed, "syncs") / runs, groupCommits: sum(timed, "groupCommits") / runs,
        };
      }
      case "latency": {
        const sleepMs: number[] = [];
        const resumeMs: number[] = [];
        // The disk's durable write, probed every 50 rounds (see one-flow-1000), and the durable writes each flow made.
        const writeUs: number[] = [];
        let [sleepSyncs, resumeSyncs] = [0, 0];
        for (let i = 0; i < 220; i++) {
          if (dir && i % 50 === 20) writeUs.push(...(await segmentWriteUs(dir, true, 20)).us);
          const s0 = io().syncs;
          const t0 = performance.now();
          const op = await rt.scheduleFlow(sleepZero, undefined);
          await untilDone(rt, [op.name]);
          const t1 = performance.now();
          const s1 = io().syncs;
          const w = await rt.scheduleFlow(waitsForPerson, undefined);
          for (;;) {
            await rt.idle();
            if ((await rt.getFlowState(waitsForPerson, w.name)).blockedOnStep) break;
            await new Promise((r) => setTimeout(r, 0));
          }
          const [t2, s2] = [performance.now(), io().syncs];
          await rt.resumeFlow(waitsForPerson, w.name, { ok: true });
          await untilDone(rt, [w.name]);
          const t3 = performance.now();
          if (i < 20) continue; // warm-up
          sleepMs.push(t1 - t0);
          resumeMs.push(t3 - t2);
          sleepSyncs += s1 - s0;
          resumeSyncs += io().syncs - s2;
        }
        return {
          sleep0MedianMs: median(sleepMs), sleep0P95Ms: p95(sleepMs), resumeMedianMs: median(resumeMs), resumeP95Ms: p95(resumeMs),
          ...(dir ? { writeUs: mean(writeUs), sleep0Syncs: sleepSyncs / sleepMs.length, resumeSyncs: resumeSyncs / resumeMs.length } : {}),
        };
      }
      case "replay":
      case "replay-cold": {
        const n = Number(arg || 100);
        // Warmed up on short flows of the same kind first, so N = 10 is not all JIT compilation.
        const warmUntil = performance.now() + 1_500;
        while (performance.now() < warmUntil) {
          const w = await rt.scheduleFlow(sleepyEachStep, 20);
          await untilDone(rt, [w.name]);
          await rt.deleteFlow(sleepyEachStep, w.name);
        }
        const counted = (name: string) => rt.core.metrics.value(name, { flow: sleepyEachStep.name });
        const before = io();
        const [continuedBefore, replayedBefore] = [counted("invocations_continued_total"), counted("steps_replayed_total")];
        const t0 = performance.now();
        const op = await rt.scheduleFlow(sleepyEachStep, n);
        await untilDone(rt, [op.name]);
        const ms = performance.now() - t0;
        const after = io();
        const continued = counted("invocations_continued_total") - continuedBefore;
        const replayedSteps = counted("steps_replayed_total") - replayedBefore;
        const bytesRead = after.bytesRead - before.bytesRead;
        const bytesWritten = after.bytesWritten - before.bytesWritten;
        return {
          n, ms, msPerWake: ms / (n + 1), continued, replayedSteps, bytesRead, bytesWritten, syncs: after.syncs - before.syncs,
          bytesReadPerStep: bytesRead / n, bytesWrittenPerStep: bytesWritten / n,
        };
      }
      case "sleeping-10k": {
        // Scheduled 100 at a time; all wake at the same instant. Memory is read twice while they sleep: 3 s
        // after the scheduling burst, and again after at least 40 s idle, once V8's memory reducer (which
        // runs when a process goes quiet) has given back the heap the burst grew into.
        const flows = Number(arg || 10_000);
        global.gc?.();
        const rssBeforeMb = process.memoryUsage().rss / 1e6;
        const wakeAt = Date.now() + 80_000;
        const [io0, cpu0] = [io(), process.cpuUsage()];
        const t0 = performance.now();
        let finished = 0;
        let allDoneAt = 0;
        rt.subscribe((e) => {
          if (e.type === "flow.succeeded" && ++finished === flows) allDoneAt = Date.now();
        });
        const ids = await scheduleBurst(rt, sleeper, flows, wakeAt);
        const scheduledMs = performance.now() - t0;
        const [io1, cpu1] = [io(), process.cpuUsage(cpu0)];
        // What scheduling cost per flow: its create and first invocation, with more flows under way than the file store's cache holds.
        const scheduled = {
          scheduledCpuUsPerFlow: (cpu1.user + cpu1.system) / flows,
          scheduledBytesReadPerFlow: (io1.bytesRead - io0.bytesRead) / flows,
          scheduledSyncsPerFlow: (io1.syncs - io0.syncs) / flows,
        };
        const idleSince = Date.now();
        if (idleSince > wakeAt - 42_000) throw new Error(`scheduling took ${Math.round(scheduledMs)} ms: move wakeAt later`);
        await new Promise((r) => setTimeout(r, 3_000)); // all asleep, nothing running
        const burst = memory();
        await new Promise((r) => setTimeout(r, wakeAt - 2_000 - Date.now()));
        const settled = memory();
        const idleSecondsSettled = (Date.now() - idleSince) / 1000;
        // Timed from the instant they are all due (the flows' own timers may fire before this process's).
        while (finished < flows) await new Promise((r) => setTimeout(r, 5));
        const wakeAllMs = allDoneAt - wakeAt;
        const peakRssAwakeMb = peakRssMb();
        // Checked 100 at a time, as they were scheduled: reading 10,000 records at once would set a peak of its own.
        for (let i = 0; i < ids.length; i += 100) await untilDone(rt, ids.slice(i, i + 100));
        return {
          flows, scheduledMs, ...scheduled, rssBeforeMb,
          rssAfterBurstMb: burst.rss, heapAfterBurstMb: burst.heapUsed, heapTotalAfterBurstMb: burst.heapTotal, newSpaceAfterBurstMb: burst.newSpace, oldSpaceAfterBurstMb: burst.oldSpace,
          rssSettledMb: settled.rss, heapSettledMb: settled.heapUsed, heapTotalSettledMb: settled.heapTotal, externalSettledMb: settled.external, idleSecondsSettled,
          wakeAllMs, wakeUpsPerSec: flows / (wakeAllMs / 1000), peakRssAwakeMb,
        };
      }
      case "finished-10k": {
        // Benchmark 6's control: the same burst, of flows that finish instead of sleeping, read the same way.
        // What it reads 3 s after the burst is what the burst leaves, with no flow waiting.
        const flows = Number(arg || 10_000);
        global.gc?.();
        const rssBeforeMb = process.memoryUsage().rss / 1e6;
        const t0 = performance.now();
        const ids = await scheduleBurst(rt, finisher, flows, 0);
        const scheduledMs = performance.now() - t0;
        await new Promise((r) => setTimeout(r, 3_000));
        const burst = memory();
        for (let i = 0; i < ids.length; i += 100) await untilDone(rt, ids.slice(i, i + 100));
        return {
          flows, scheduledMs, rssBeforeMb,
          rssAfterBurstMb: burst.rss, heapAfterBurstMb: burst.heapUsed, heapTotalAfterBurstMb: burst.heapTotal, newSpaceAfterBurstMb: burst.newSpace, oldSpaceAfterBurstMb: burst.oldSpace,
        };
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
/** The process's peak RSS in MB (10^6 bytes, as every memory figure here): the kernel counts it in KiB. */
function peakRssMb(): number {
  return (process.resourceUsage().maxRSS * 1024) / 1e6;
}
function mean(xs: number[]): number {
  return xs.reduce((a, x) => a + x, 0) / xs.length;
}
function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length * 0.95)]!;
}

const figures = await main();
process.stdout.write(JSON.stringify({ scenario, store: storeKind, arg, ...figures, peakRssMb: peakRssMb() }) + "\n");
