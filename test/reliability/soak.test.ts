/**
 * Soak: flows of 20 steps with random step failures and retries on the embedded runtime (file store, local
 * queue, real clock), a steady window of flows in flight. Zero lost or duplicated steps; memory does not
 * grow with the number of finished flows (heap and RSS sampled after a GC every 1,000 flows). The default
 * suite runs 200 flows; FIRESTEP_LONG=1 runs 10,000 and checks memory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createEmbeddedRuntime, createFileStore, defineFlow, run } from "../../src/index.js";
import { LONG } from "./support/crash-harness.js";

const FLOWS = LONG ? 10_000 : 200;
const STEPS = 20;
const WINDOW = 64;
const FAIL_RATE = 0.05;

v8.setFlagsFromString("--expose_gc");
const gc = vm.runInNewContext("gc") as () => void;

const work = mkdtempSync(join(tmpdir(), "firestep-soak-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Successful executions per (flow, step), and failed attempts. */
const done = new Uint8Array(FLOWS * STEPS);
let failures = 0;

/** A deterministic coin per (flow, step, attempt), so a failing run can be replayed. */
function fails(flow: number, step: number, attempt: number): boolean {
  let h = (flow * 73_856_093) ^ (step * 19_349_663) ^ (attempt * 83_492_791);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296 < FAIL_RATE;
}

const soakFlow = defineFlow({ name: "reliabilitySoak", input: z.object({ n: z.number().int() }), output: z.number() }, async ({ n }) => {
  let sum = 0;
  for (let i = 0; i < STEPS; i++) {
    sum += await run({ name: `step-${i}`, retryConfig: { maxAttempts: 12, minBackoffSeconds: 0.005, maxBackoffSeconds: 0.05 } }, ({ attempt }) => {
      if (fails(n, i, attempt)) {
        failures++;
        throw new Error(`random failure of step ${i}, attempt ${attempt}`);
      }
      done[n * STEPS + i]!++;
      return i;
    });
  }
  return sum;
});
const OUTPUT = (STEPS * (STEPS - 1)) / 2;

describe("soak", () => {
  it(`${FLOWS} flows of ${STEPS} steps with random failures and retries: no step lost or duplicated${LONG ? ", memory flat" : ""}`, async () => {
    const store = createFileStore({ dir: join(work, "flows") });
    const rt = createEmbeddedRuntime({ store, logger: () => {} });
    await rt.ready;
    const samples: Array<{ finished: number; heapMB: number; rssMB: number }> = [];
    const started = Date.now();
    let next = 0;
    let finished = 0;
    let failed = 0;
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    const startOne = () => {
      const n = next++;
      void rt.scheduleFlow(soakFlow, { n }, { flowId: `soak-${n}` });
    };
    rt.subscribe((e) => {
      if (e.type !== "flow.succeeded" && e.type !== "flow.failed") return;
      if (e.type === "flow.failed") failed++;
      finished++;
      if (finished % 1000 === 0) {
        gc();
        const m = process.memoryUsage();
        samples.push({ finished, heapMB: Math.round(m.heapUsed / 2 ** 20), rssMB: Math.round(m.rss / 2 ** 20) });
      }
      if (next < FLOWS) startOne();
      if (finished === FLOWS) resolveAll();
    });
    for (let i = 0; i < Math.min(WINDOW, FLOWS); i++) startOne();
    await all;
    const seconds = (Date.now() - started) / 1000;

    expect(failed).toBe(0);
    const page = await rt.listFlows({ status: "succeeded", limit: 1000 });
    expect(page.flows.every((f) => f.output?.value === OUTPUT)).toBe(true);
    for (let n = 0; n < FLOWS; n += Math.max(1, Math.floor(FLOWS / 200))) {
      const loaded = (await store.load(`soak-${n}`))!;
      expect(loaded.record.output).toEqual({ value: OUTPUT });
      expect(loaded.steps.map((s) => s.key)).toEqual(Array.from({ length: STEPS }, (_, i) => `step-${i}`));
    }
    const lost = done.filter((c) => c === 0).length;
    const duplicated = done.filter((c) => c > 1).length;
    expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(failures).toBeGreaterThan(0);
    await rt.close();
    const summary = { flows: FLOWS, steps: FLOWS * STEPS, failedAttempts: failures, lost, duplicated, seconds: Math.round(seconds), samples };
    if (LONG) {
      console.log(`[long-run] soak: ${JSON.stringify(summary)}`);
      // Memory must not grow with finished flows: from the 3,000th to the last, heap growth stays under
      // 2 KB per flow (a leak of one record, journal or timer per flow would be far more).
      const from = samples.find((s) => s.finished === 3000)!;
      const to = samples[samples.length - 1]!;
      expect((to.heapMB - from.heapMB) * 2 ** 20 / (to.finished - from.finished)).toBeLessThan(2048);
    }
  }, LONG ? 3 * 3600_000 : 120_000);
});
