import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineFlow, run, sleep } from "../../src/index.js";
import type { Commit, FlowStore } from "../../src/ports.js";
import { interceptStore } from "../../src/stores/store-helpers.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";
import { allBackends } from "../support/backends.js";

const calls: number[] = [];
const fanOut = defineFlow({ name: "parallelFanOut", input: z.number(), output: z.array(z.number()) }, async (n) => {
  const squares = await Promise.all([...Array(n).keys()].map((i) => run(`square-${i}`, () => (calls.push(i), i * i))));
  await sleep("between", 60);
  const total = await run("total", () => squares.reduce((a, b) => a + b, 0));
  return [...squares, total];
});

/** `store`, with the commits made to it kept. */
function recording(store: FlowStore): { store: FlowStore; commits: Commit[] } {
  const commits: Commit[] = [];
  const through = interceptStore(store, (_op, call) => call());
  return { store: { ...through, commit: (id, c) => (commits.push(c), through.commit(id, c)) }, commits };
}

for (const backend of allBackends) {
  describe(`parallel steps on ${backend.name}`, () => {
    let t: TestRuntime;
    let cleanup: () => Promise<void>;
    afterEach(async () => {
      await t.close();
      await cleanup();
      calls.length = 0;
    });

    for (const warmExecutions of [0, 100]) {
      it(`steps that complete together are stored by fewer commits than steps, and each replays its own value (warm executions: ${warmExecutions})`, async () => {
        const o = backend.open();
        cleanup = o.cleanup;
        const { store, commits } = recording(o.store);
        t = createTestRuntime({ store, warmExecutions });
        const n = 12;
        const h = await t.start(fanOut, n);
        const done = await h.settle();
        const squares = [...Array(n).keys()].map((i) => i * i);
        expect(done.result).toEqual({ response: [...squares, squares.reduce((a, b) => a + b, 0)] });
        // Each step ran once, though the flow was woken after its sleep (and replayed, without warm executions).
        expect(calls.sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
        const fanOutCommits = commits.filter((c) => c.steps?.some((s) => s.key.startsWith("square-")));
        expect(fanOutCommits.length).toBeLessThan(n);
        expect(fanOutCommits.flatMap((c) => c.steps!.map((s) => s.key)).sort()).toEqual([...Array(n).keys()].map((i) => `square-${i}`).sort());
        const steps = await h.steps();
        expect(steps.map((s) => s.seq)).toEqual([...Array(n + 2).keys()]);
        expect((await h.record()).stepCount).toBe(n + 2);
      });
    }
  });
}
