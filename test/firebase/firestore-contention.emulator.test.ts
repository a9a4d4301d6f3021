import { afterAll, describe, expect, it } from "vitest";
import { ConflictError } from "../../src/errors.js";
import { createFirestoreStore, type FirestoreStoreStats } from "../../src/firebase/firestore-store.js";
import type { FlowStore } from "../../src/ports.js";
import type { FlowRecord } from "../../src/schemas.js";
import { sampleRecord, sampleStep } from "../../src/testing/store-contract.js";
import { testFirestore, uniqueCollection } from "../support/firestore.js";

// Two firebase-admin apps: two independent clients, as two Cloud Functions instances would be.
const clients = [testFirestore(), testFirestore()];
afterAll(() => Promise.all(clients.map((c) => c.close())));

function twoRunners() {
  const collection = uniqueCollection("contention");
  const stats: FirestoreStoreStats = { reads: 0, writes: 0 };
  return { stats, stores: clients.map((c) => createFirestoreStore({ firestore: c.firestore, collection, stats })) as [FlowStore, FlowStore] };
}

function claim(r: FlowRecord, runner: string, over: Partial<FlowRecord> = {}): FlowRecord {
  return { ...r, rev: r.rev + 1, updatedAt: r.updatedAt + 1, lease: { owner: runner, until: 0 }, ...over };
}

describe("Firestore store under contention", () => {
  it("lets exactly one of 8 racing commits win each of 20 rounds across two clients, and journals each win once", async () => {
    const { stores } = twoRunners();
    let r = sampleRecord();
    await stores[0].create(r);
    const winners: string[] = [];
    for (let round = 0; round < 20; round++) {
      // Every other round both clients have just read the flow, so their racers write without reading first.
      if (round % 2 === 0) await Promise.all(stores.map((s) => s.load(r.id)));
      const base = r;
      const results = await Promise.allSettled(
        [...Array(8).keys()].map((i) =>
          stores[i % 2]!.commit(base.id, {
            expectRev: base.rev,
            record: claim(base, `runner-${i}`, { stepCount: round + 1 }),
            steps: [sampleStep(round, { value: { round, runner: i } })],
            events: [{ at: round, type: "step.completed", step: `step-${round}`, detail: `runner-${i}` }],
          }),
        ),
      );
      const won = results.filter((x): x is PromiseFulfilledResult<FlowRecord> => x.status === "fulfilled");
      expect(won, `round ${round}`).toHaveLength(1);
      for (const x of results) if (x.status === "rejected") expect(x.reason).toBeInstanceOf(ConflictError);
      r = won[0]!.value;
      winners.push(r.lease!.owner);
    }
    for (const store of stores) {
      const loaded = (await store.load(r.id))!;
      expect(loaded.record).toEqual(r);
      expect(loaded.steps.map((s) => s.seq)).toEqual([...Array(20).keys()]);
      expect(loaded.steps.map((s) => `runner-${(s.value as { runner: number }).runner}`)).toEqual(winners);
      expect((await store.history(r.id)).map((e) => e.detail)).toEqual(winners);
    }
  });

  it("rejects a stale runner's write, losing and duplicating nothing", async () => {
    const { stores } = twoRunners();
    const [a, b] = stores;
    let r = sampleRecord();
    await a.create(r);
    r = await a.commit(r.id, { expectRev: 0, record: claim(r, "a"), steps: [sampleStep(0, { value: "a0" })] });
    const seenByB = (await b.load(r.id))!.record;
    r = await a.commit(r.id, { expectRev: r.rev, record: claim(r, "a"), steps: [sampleStep(1, { value: "a1" })] });

    // b still believes the flow is at the rev it loaded: its write, and an even older one, are refused.
    await expect(b.commit(r.id, { expectRev: seenByB.rev, record: claim(seenByB, "b"), steps: [sampleStep(1, { value: "b1" })] })).rejects.toBeInstanceOf(ConflictError);
    await expect(b.commit(r.id, { expectRev: 0, record: claim({ ...seenByB, rev: 0 }, "b"), steps: [sampleStep(0, { value: "b0" })], truncateFrom: 0 })).rejects.toBeInstanceOf(ConflictError);

    for (const store of stores) {
      const loaded = (await store.load(r.id))!;
      expect(loaded.record).toEqual(r);
      expect(loaded.steps.map((s) => s.value)).toEqual(["a0", "a1"]);
    }
    // Having re-read, b carries on from the current rev.
    const fresh = (await b.get(r.id))!;
    r = await b.commit(r.id, { expectRev: fresh.rev, record: claim(fresh, "b"), steps: [sampleStep(2, { value: "b2" })] });
    expect((await a.load(r.id))!.steps.map((s) => s.value)).toEqual(["a0", "a1", "b2"]);
  });
});
