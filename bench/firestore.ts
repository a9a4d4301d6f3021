/**
 * `npm run bench:firestore`: Firestore cost and time per step on the official emulator (started here).
 *   node dist/bench/firestore.js [--sizes 10,100,1000]
 *
 * For flows of N small `run` steps, run on the embedded runtime with the Firestore store:
 *   - straight: the flow runs its N steps in one invocation (also with a 10 KB document in its input);
 *   - suspending: the flow sleeps (0 s) after every step, so it is woken N times, by this warm process
 *     (which holds the journal) and, for comparison, by a store that keeps no journal (a cold instance).
 * Document reads, writes and field bytes come from the store's own counters; waiting uses runtime events,
 * so the benchmark itself reads nothing.
 */
import { randomUUID } from "node:crypto";
import { deleteApp, initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { z } from "zod";
import { createFirestoreStore, type FirestoreStoreStats } from "../src/firebase/firestore-store.js";
import { createEmbeddedRuntime, defineFlow, run, sleep, type EmbeddedRuntime } from "../src/index.js";
import { startEmulator } from "./firestore-emulator.js";

const args = process.argv.slice(2);
const sizes = (args.includes("--sizes") ? args[args.indexOf("--sizes") + 1]! : "10,100,1000").split(",").map(Number);

const straight = defineFlow({ name: "benchStraight", input: z.number(), output: z.number() }, async (n) => {
  for (let i = 0; i < n; i++) await run(`s${i}`, () => ({ i, ok: true }));
  return n;
});

/** The same steps with a 10 KB document in the input, which no step changes. */
const straightWithDocument = defineFlow({ name: "benchStraightDocument", input: z.object({ n: z.number(), document: z.string() }), output: z.number() }, async ({ n }) => {
  for (let i = 0; i < n; i++) await run(`s${i}`, () => ({ i, ok: true }));
  return n;
});

/** The same steps in rounds of 10 run in parallel (`Promise.all`): those that complete together share a commit. */
const parallel = defineFlow({ name: "benchParallel", input: z.number(), output: z.number() }, async (n) => {
  for (let i = 0; i < n; i += 10) await Promise.all([...Array(Math.min(10, n - i)).keys()].map((j) => run(`s${i + j}`, () => ({ i: i + j, ok: true }))));
  return n;
});

const suspending = defineFlow({ name: "benchSuspending", input: z.number(), output: z.number() }, async (n) => {
  for (let i = 0; i < n; i++) {
    await run(`s${i}`, () => ({ i, ok: true }));
    await sleep(`z${i}`, 0);
  }
  return n;
});

interface Row {
  scenario: string;
  n: number;
  wakeUps: number;
  ms: number;
  reads: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
}

async function runFlow(rt: EmbeddedRuntime, stats: Required<FirestoreStoreStats>, scenario: string, flow: typeof straight | typeof straightWithDocument | typeof parallel, n: number): Promise<Row> {
  const before = { ...stats };
  let wakeUps = 0;
  const t0 = performance.now();
  const op = flow === straightWithDocument ? await rt.scheduleFlow(straightWithDocument, { n, document: "x".repeat(10_000) }) : await rt.scheduleFlow(flow as typeof straight, n);
  await new Promise<void>((resolve, reject) => {
    const off = rt.subscribe((e) => {
      if (e.flowId !== op.name) return;
      if (e.type === "flow.started") wakeUps++;
      if (e.type === "flow.succeeded") off(), resolve();
      if (e.type === "flow.failed") off(), reject(new Error(`flow failed: ${e.detail}`));
    });
  });
  return {
    scenario, n, wakeUps, ms: performance.now() - t0,
    reads: stats.reads - before.reads, writes: stats.writes - before.writes,
    bytesRead: stats.bytesRead - before.bytesRead, bytesWritten: stats.bytesWritten - before.bytesWritten,
  };
}

async function main(): Promise<void> {
  const emulator = await startEmulator();
  process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
  process.env.METADATA_SERVER_DETECTION = "none";
  const app = initializeApp({ projectId: "demo-firestep-bench" }, `bench-${randomUUID()}`);
  const firestore = getFirestore(app);
  const rows: Row[] = [];
  try {
    for (const journalCacheBytes of [undefined, 0]) {
      const stats: Required<FirestoreStoreStats> = { reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0 };
      const store = createFirestoreStore({ firestore, collection: `bench-${randomUUID().slice(0, 8)}`, stats, ...(journalCacheBytes === 0 ? { journalCacheBytes } : {}) });
      const rt = createEmbeddedRuntime({ store, recover: false });
      await runFlow(rt, stats, "warm-up", straight, 20);
      for (const n of sizes) {
        if (journalCacheBytes === undefined) rows.push(await runFlow(rt, stats, "straight", straight, n));
        if (journalCacheBytes === undefined) rows.push(await runFlow(rt, stats, "straight, 10 KB input", straightWithDocument, n));
        if (journalCacheBytes === undefined) rows.push(await runFlow(rt, stats, "10 steps at a time", parallel, n));
        rows.push(await runFlow(rt, stats, journalCacheBytes === 0 ? "suspending, no journal held" : "suspending, journal held", suspending, n));
      }
      await rt.close();
    }
  } finally {
    await deleteApp(app);
    await emulator.stop();
  }
  console.log(`firestep Firestore bench (emulator) - ${new Date().toISOString()} - node ${process.version}\n`);
  console.log(
    ["flow", "N", "wake-ups", "ms/step", "writes/step", "writes/flow", "reads/wake-up", "reads/flow", "bytes written/step", "bytes read/wake-up"].join(" | "),
  );
  for (const r of rows) {
    console.log(
      [
        r.scenario, r.n, r.wakeUps, (r.ms / r.n).toFixed(2), (r.writes / r.n).toFixed(3), r.writes, (r.reads / r.wakeUps).toFixed(2), r.reads,
        Math.round(r.bytesWritten / r.n), Math.round(r.bytesRead / r.wakeUps),
      ].join(" | "),
    );
  }
  console.log(`\n${JSON.stringify(rows)}`);
}

await main();
