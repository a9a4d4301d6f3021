/**
 * Flow documents written by earlier versions of the Firestore store, kept under test/fixtures/firestore-docs,
 * must read the same with today's code, take new commits, and let their flows finish. Each fixture holds
 * the flow document of an "order" flow (a run, a sleep, then an interrupt it waits on) as the store left
 * it, and what that store read back. `layout-1` holds its record as one JSON string and its history sizes
 * in the layout; `layout-2` holds the record as a map of keys and the sizes beside the history.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createFirestoreStore, type FirestoreStoreStats } from "../../src/firebase/firestore-store.js";
import { createEmbeddedRuntime, defineFlow, interrupt, run, sleep } from "../../src/index.js";
import type { FlowRecord, HistoryEvent, StepRecord } from "../../src/schemas.js";
import { sampleStep } from "../../src/testing/store-contract.js";
import { testFirestore, uniqueCollection } from "../support/firestore.js";

const fixtures = join(import.meta.dirname, "..", "fixtures", "firestore-docs");
const names = (await readdir(fixtures)).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -".json".length));

interface Saved {
  id: string;
  document: Record<string, unknown>;
  record: FlowRecord;
  steps: StepRecord[];
  history: HistoryEvent[];
}

const client = testFirestore();
const db = client.firestore;
afterAll(() => client.close());

async function saved(name: string): Promise<Saved & { collection: string }> {
  const s = JSON.parse(await readFile(join(fixtures, `${name}.json`), "utf8")) as Saved;
  const collection = uniqueCollection("saved");
  await db.collection(collection).doc(s.id).set(s.document);
  return { ...s, collection };
}

const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

let priced = 0;
const order = defineFlow(
  { name: "order", input: z.object({ sku: z.string(), qty: z.number(), note: z.string() }), output: z.object({ total: z.number() }) },
  async (input) => {
    const price = await run("price", () => (priced++, { unit: 12.5, currency: "EUR" }));
    await sleep("settle", 0);
    const ok = await interrupt("approve", z.object({ approved: z.boolean() }));
    return { total: ok.approved ? price.unit * input.qty : 0 };
  },
);

describe("saved Firestore flow documents", () => {
  it("has both layouts to read", () => expect(names.sort()).toEqual(["layout-1-waiting", "layout-2-waiting"]));

  it.each(names)("%s: reads back as the store that wrote it did, lists, and takes a commit that leaves it in layout 2", async (name) => {
    const s = await saved(name);
    const store = createFirestoreStore({ firestore: db, collection: s.collection });
    const loaded = (await store.load(s.id))!;
    expect(plain(loaded)).toEqual({ record: s.record, steps: s.steps });
    expect(plain(await store.history(s.id))).toEqual(s.history);
    expect(plain((await store.list({})).flows)).toEqual([s.record]);

    const next: FlowRecord = { ...loaded.record, rev: loaded.record.rev + 1, stepCount: loaded.record.stepCount + 1, updatedAt: loaded.record.updatedAt + 1 };
    const event: HistoryEvent = { at: next.updatedAt, type: "step.completed", step: "extra" };
    await store.commit(s.id, { expectRev: loaded.record.rev, record: next, steps: [{ ...sampleStep(9), seq: s.steps.length }], events: [event] });

    const cold = createFirestoreStore({ firestore: db, collection: s.collection });
    const again = (await cold.load(s.id))!;
    expect(again.record).toEqual(plain(next));
    expect(again.steps.map((x) => x.key)).toEqual([...s.steps.map((x) => x.key), sampleStep(9).key]);
    expect(plain(await cold.history(s.id))).toEqual([...s.history, event]);

    const doc = (await db.collection(s.collection).doc(s.id).get()).data()!;
    expect(doc.v).toBe(2);
    expect(doc.rec).toBeUndefined();
    expect(Object.keys(doc.r as object).sort()).toEqual(Object.keys(plain(next)).sort());
    expect(Object.keys(doc.hs as object)).toHaveLength(s.history.length + 1);
  });

  it.each(names)("%s: the waiting flow finishes when resumed, without running its completed step again", async (name) => {
    const s = await saved(name);
    const stats: FirestoreStoreStats = { reads: 0, writes: 0 };
    const rt = createEmbeddedRuntime({ store: createFirestoreStore({ firestore: db, collection: s.collection, stats }), flows: [order], recover: false });
    try {
      priced = 0;
      await rt.resumeFlow(order, s.id, { approved: true });
      await rt.idle();
      const op = await rt.getFlowState(order, s.id);
      expect(op.done).toBe(true);
      expect(op.result).toEqual({ response: { total: 37.5 } });
      expect(priced).toBe(0);
    } finally {
      await rt.close();
    }
  });
});
