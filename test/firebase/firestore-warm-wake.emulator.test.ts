import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createFirestoreStore, type FirestoreStoreStats } from "../../src/firebase/firestore-store.js";
import { createEmbeddedRuntime, defineFlow, run, sleep } from "../../src/index.js";
import { createFakeClock } from "../../src/testing/fake-clock.js";
import { testFirestore, uniqueCollection } from "../support/firestore.js";

const client = testFirestore();
const other = testFirestore();
afterAll(async () => {
  await client.close();
  await other.close();
});

const ran: string[] = [];
const napper = defineFlow({ name: "warmWakeNapper", input: z.number(), output: z.number() }, async (n) => {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await run(`before-${i}`, () => i);
  await sleep("nap", 60);
  return sum + (await run("after", () => (ran.push("after"), 1)));
});

describe("Firestore: a warm wake-up", () => {
  it("reads no document when this process wrote the flow last, at 1 and at 200 completed steps", async () => {
    for (const n of [1, 200]) {
      const stats: FirestoreStoreStats = { reads: 0, writes: 0 };
      const clock = createFakeClock();
      const rt = createEmbeddedRuntime({ store: createFirestoreStore({ firestore: client.firestore, collection: uniqueCollection(), stats }), clock, recover: false });
      try {
        const op = await rt.scheduleFlow(napper, n);
        await rt.idle();
        const asleep = stats.reads;
        await clock.advance(61_000);
        await rt.idle();
        expect(stats.reads - asleep).toBe(0);
        expect(stats.reads).toBe(0);
        expect((await rt.getFlowState(napper, op.name)).result).toEqual({ response: (n * (n - 1)) / 2 + 1 });
      } finally {
        await rt.close();
      }
    }
  });

  it("does not trust what it holds once another process changed the flow: the claim fails and the wake-up reads again", async () => {
    const collection = uniqueCollection();
    const clock = createFakeClock();
    const stats: FirestoreStoreStats = { reads: 0, writes: 0 };
    const here = createEmbeddedRuntime({ store: createFirestoreStore({ firestore: client.firestore, collection, stats }), clock, recover: false });
    const elsewhere = createEmbeddedRuntime({ store: createFirestoreStore({ firestore: other.firestore, collection }), clock, recover: false });
    try {
      ran.length = 0;
      const op = await here.scheduleFlow(napper, 3);
      await here.idle();
      expect((await elsewhere.pauseFlow(napper, op.name)).metadata.status).toBe("paused");
      const before = stats.reads;
      await clock.advance(61_000);
      await here.idle();
      expect(stats.reads).toBeGreaterThan(before);
      expect(ran).toEqual([]);
      expect((await here.getFlowState(napper, op.name)).metadata.status).toBe("paused");
    } finally {
      await here.close();
      await elsewhere.close();
    }
  });
});
