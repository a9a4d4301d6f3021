/**
 * `npm run bench:breakdown`: where the time of one durable step goes on the file store (benchmark 1).
 *   node dist/bench/step-breakdown.js [rounds]
 * Times the store's three system calls per step from inside the process, by wrapping them, and the gaps
 * between them, from the moment the step's function is called to the moment the next one's is:
 *   engine + store before the flow file write | write(2) to the flow file | pread that checks nothing else
 *   was appended | store + group commit up to the segment write | the durable segment write (O_DSYNC) |
 *   back to the engine and on to the next step's function.
 * Prints medians in µs per step for each round. The wrappers add a little to every gap; compare gaps within
 * one run, not with the figures of benchmark 1.
 */
import * as fs from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { createEmbeddedRuntime, createFileStore, defineFlow, run } from "../src/index.js";

const rounds = Number(process.argv[2] ?? 5);
/** A flat trace: tag, time, tag, time… Tags: S step called; W/w, R/r, V/v a write, read, writev begun/ended. */
const trace: Array<string | number> = [];
let tracing = false;

// The store calls node:fs through its module namespace, which syncBuiltinESMExports updates.
const cjsFs = createRequire(import.meta.url)("node:fs") as Record<string, (...a: unknown[]) => unknown>;
for (const [name, tag] of [["writeSync", "W"], ["readSync", "R"], ["writevSync", "V"]] as const) {
  const original = cjsFs[name]!;
  cjsFs[name] = function (this: unknown, ...a: unknown[]) {
    if (!tracing) return original.apply(this, a);
    trace.push(tag, performance.now());
    try {
      return original.apply(this, a);
    } finally {
      trace.push(tag.toLowerCase(), performance.now());
    }
  };
}
syncBuiltinESMExports();
if (fs.writevSync !== cjsFs.writevSync) throw new Error("could not wrap node:fs: the breakdown would be empty");

const dir = mkdtempSync(join(tmpdir(), "firestep-breakdown-"));
const store = createFileStore({ dir });
const rt = createEmbeddedRuntime({ store, recover: false });
const manySteps = defineFlow({ name: "manySteps", input: z.number(), output: z.number() }, async (n) => {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += (
      await run(`s${i}`, () => {
        if (tracing) trace.push("S", performance.now());
        return { i, ok: true };
      })
    ).i;
  }
  return sum;
});

const STEPS = 1000;

/** Runs one flow of STEPS steps; returns its time in ms. */
async function oneFlow(): Promise<number> {
  const t0 = performance.now();
  const op = await rt.scheduleFlow(manySteps, STEPS);
  for (;;) {
    await rt.idle();
    if ((await store.get(op.name))!.status === "succeeded") break;
    await new Promise((r) => setTimeout(r, 1));
  }
  const ms = performance.now() - t0;
  await rt.deleteFlow(manySteps, op.name);
  return ms;
}

const GAPS = ["before write", "write", "write to read", "read", "to segment write", "segment write", "to next step"] as const;
const PATTERN = "SWwRrVvS";

const warmUntil = performance.now() + 2_500;
while (performance.now() < warmUntil) await oneFlow();
for (let round = 1; round <= rounds; round++) {
  trace.length = 0;
  tracing = true;
  const ms = await oneFlow();
  tracing = false;
  const gaps: number[][] = GAPS.map(() => []);
  for (let i = 0; i + 2 * PATTERN.length <= trace.length; i += 2) {
    let tags = "";
    for (let j = 0; j < PATTERN.length; j++) tags += trace[i + 2 * j] as string;
    if (tags !== PATTERN) continue;
    for (let g = 0; g < GAPS.length; g++) gaps[g]!.push(((trace[i + 2 * g + 3] as number) - (trace[i + 2 * g + 1] as number)) * 1000);
  }
  const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1] ?? NaN;
  const figures = GAPS.map((name, g) => `${name} ${median(gaps[g]!).toFixed(1)}`).join(" | ");
  console.log(`round ${round}: ${((ms * 1000) / STEPS).toFixed(0)} µs/step over ${gaps[0]!.length} traced steps; median µs: ${figures}`);
}
await rt.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
