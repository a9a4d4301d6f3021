import { afterAll, describe, expect, it } from "vitest";
import { FieldValue, type DocumentReference } from "firebase-admin/firestore";
import { ConflictError, CorruptRecordError, ValueTooLargeError } from "../../src/errors.js";
import { createFirestoreStore, type FirestoreStoreStats } from "../../src/firebase/firestore-store.js";
import type { FlowStore } from "../../src/ports.js";
import type { FlowRecord, StepRecord } from "../../src/schemas.js";
import { sampleRecord, sampleStep } from "../../src/testing/store-contract.js";
import { testFirestore, uniqueCollection } from "../support/firestore.js";

const client = testFirestore();
const db = client.firestore;
afterAll(() => client.close());

function open(collection = uniqueCollection()) {
  const stats: FirestoreStoreStats = { reads: 0, writes: 0 };
  return { store: createFirestoreStore({ firestore: db, collection, stats }), stats, collection };
}

function bump(r: FlowRecord, over: Partial<FlowRecord> = {}): FlowRecord {
  return { ...r, rev: r.rev + 1, updatedAt: r.updatedAt + 1, ...over };
}

/** Appends `count` steps from seq `from`, `perCommit` at a time. */
async function append(store: FlowStore, r: FlowRecord, from: number, count: number, perCommit: number, value: (seq: number) => unknown): Promise<FlowRecord> {
  for (let i = from; i < from + count; i += perCommit) {
    const steps = [...Array(Math.min(perCommit, from + count - i)).keys()].map((k) => sampleStep(i + k, { value: value(i + k) }));
    r = await store.commit(r.id, { expectRev: r.rev, record: bump(r, { stepCount: i + steps.length }), steps });
  }
  return r;
}

/** A document's size as Firestore counts it (https://firebase.google.com/docs/firestore/storage-size). */
function docSize(ref: DocumentReference, data: Record<string, unknown>): number {
  const valueSize = (v: unknown): number => {
    if (v === null || typeof v === "boolean") return 1;
    if (typeof v === "number") return 8;
    if (typeof v === "string") return Buffer.byteLength(v) + 1;
    if (Array.isArray(v)) return v.reduce((n: number, x) => n + valueSize(x), 0);
    if (typeof v === "object" && v.constructor?.name === "Timestamp") return 8;
    return Object.entries(v as object).reduce((n, [k, x]) => n + Buffer.byteLength(k) + 1 + valueSize(x), 0);
  };
  return ref.path.split("/").reduce((n, s) => n + Buffer.byteLength(s) + 1, 16) + 32 + valueSize(data);
}

async function documentsOf(store: { collection: string }, id: string) {
  const ref = db.collection(store.collection).doc(id);
  const flow = await ref.get();
  const pages = await ref.collection("firestep-pages").get();
  return { flow: flow.exists ? docSize(ref, flow.data()!) : 0, pages: pages.docs.map((d) => docSize(d.ref, d.data())) };
}

describe("Firestore store: cost", () => {
  it("stores a one-step commit with one document write and no read", async () => {
    const { store, stats } = open();
    let r = sampleRecord();
    await store.create(r);
    expect(stats).toEqual({ reads: 0, writes: 1 });
    r = await append(store, r, 0, 100, 1, (seq) => ({ seq, text: "a small result" }));
    expect(stats.writes).toBeLessThanOrEqual(101);
    expect(stats.reads).toBe(0);
    expect((await store.load(r.id))!.steps).toHaveLength(100);
  });

  it("writes a flow's input once: a step's commit sets only the record keys that changed", async () => {
    const { store, stats, collection } = open();
    stats.bytesWritten = 0;
    let r = sampleRecord({ input: { document: "x".repeat(100_000) } });
    await store.create(r);
    expect(stats.bytesWritten).toBeGreaterThan(100_000);
    r = await append(store, r, 0, 20, 1, (seq) => ({ seq }));
    expect(stats.bytesWritten).toBeLessThan(100_000 + 20 * 1_000);
    expect(await open(collection).store.get(r.id)).toEqual(r);
  });

  it("appends an event with one size beside it, not the list of every kept event's size", async () => {
    const { store, stats, collection } = open();
    let r = sampleRecord();
    await store.create(r);
    for (let i = 0; i < 60; i++) {
      const events = [...Array(10).keys()].map((k) => ({ at: i * 10 + k, type: "step.completed" as const, step: `s${i * 10 + k}` }));
      r = await store.commit(r.id, { expectRev: r.rev, record: bump(r), events });
    }
    stats.bytesWritten = 0;
    r = await store.commit(r.id, { expectRev: r.rev, record: bump(r), events: [{ at: 600, type: "step.completed", step: "s600" }] });
    expect(stats.bytesWritten).toBeLessThan(600);
    const history = await open(collection).store.history(r.id);
    expect(history).toHaveLength(500);
    expect(history.at(-1)!.step).toBe("s600");
  });

  it.each([10, 100, 1000])("loads a flow of %i small steps with one document read", async (n) => {
    const { store, collection } = open();
    const r = sampleRecord();
    await store.create(r);
    await append(store, r, 0, n, 50, (seq) => ({ seq, pad: "x".repeat(50) }));
    const cold = open(collection);
    const loaded = (await cold.store.load(r.id))!;
    expect(loaded.steps.map((s) => s.seq)).toEqual([...Array(n).keys()]);
    expect(cold.stats.reads).toBeLessThanOrEqual(3);
    expect(cold.stats.reads).toBe(1);
  });
});

describe("Firestore store: document limits", () => {
  it("spreads a long journal over sealed pages, never over 1 MiB per document, and truncates across them", async () => {
    const { store, stats, collection } = open();
    let r = sampleRecord();
    await store.create(r);
    const value = (seq: number) => ({ seq, pad: "p".repeat(300) });
    r = await append(store, r, 0, 6000, 250, value);
    const docs = await documentsOf({ collection }, r.id);
    expect(docs.pages.length).toBeGreaterThanOrEqual(1);
    for (const size of [docs.flow, ...docs.pages]) expect(size).toBeLessThanOrEqual(1_048_576);
    expect(stats.writes).toBeLessThanOrEqual(1 + 24 + docs.pages.length);

    const cold = open(collection);
    const loaded = (await cold.store.load(r.id))!;
    expect(loaded.steps.map((s) => s.seq)).toEqual([...Array(6000).keys()]);
    expect(loaded.steps[4321]!.value).toEqual(value(4321));
    expect(cold.stats.reads).toBe(1 + docs.pages.length);

    // Truncate into the first sealed page, from a store that never saw the flow.
    r = await cold.store.commit(r.id, { expectRev: r.rev, record: bump(r, { stepCount: 101 }), truncateFrom: 100, steps: [sampleStep(100, { value: "again" })] });
    const after = (await store.load(r.id))!;
    expect(after.steps.map((s) => s.seq)).toEqual([...Array(101).keys()]);
    expect(after.steps[100]!.value).toBe("again");
    expect(after.steps[99]!.value).toEqual(value(99));
    expect((await documentsOf({ collection }, r.id)).pages.length).toBe(1);
  });

  it("truncates most of a large open page by rewriting it, from a store that never saw the flow", async () => {
    const { store, collection } = open();
    let r = sampleRecord();
    await store.create(r);
    r = await append(store, r, 0, 1000, 100, (seq) => seq);
    const cold = open(collection);
    r = await cold.store.commit(r.id, { expectRev: r.rev, record: bump(r, { stepCount: 201 }), truncateFrom: 200, steps: [sampleStep(200, { value: "again" })] });
    expect(cold.stats).toEqual({ reads: 2, writes: 1 });
    const loaded = (await store.load(r.id))!;
    expect(loaded.steps.map((s) => s.seq)).toEqual([...Array(201).keys()]);
    expect(loaded.steps.map((s) => s.value)).toEqual([...[...Array(200).keys()], "again"]);
  });

  it("keeps steps of the largest allowed value, with long keys, each within a document", async () => {
    const { store, collection } = open();
    let r = sampleRecord();
    await store.create(r);
    const big = (seq: number) => ({ seq, blob: String(seq % 10).repeat(store.maxValueBytes - 40) });
    for (let seq = 0; seq < 5; seq++) {
      const step = sampleStep(seq, { key: `${"k".repeat(1600)}/${seq}`, value: big(seq) });
      expect(Buffer.byteLength(JSON.stringify(step.value))).toBeLessThanOrEqual(store.maxValueBytes);
      r = await store.commit(r.id, { expectRev: r.rev, record: bump(r, { stepCount: seq + 1 }), steps: [step], events: [{ at: seq, type: "step.completed", step: step.key }] });
    }
    r = await append(store, r, 5, 20, 1, (seq) => seq);
    const docs = await documentsOf({ collection }, r.id);
    for (const size of [docs.flow, ...docs.pages]) expect(size).toBeLessThanOrEqual(1_048_576);
    const loaded = (await open(collection).store.load(r.id))!;
    expect(loaded.steps.map((s) => s.seq)).toEqual([...Array(25).keys()]);
    expect(loaded.steps[3]!.value).toEqual(big(3));
    expect(loaded.steps[3]!.key).toBe(`${"k".repeat(1600)}/3`);
  });

  it("refuses a step too large for any document before writing anything", async () => {
    const { store } = open();
    const r = sampleRecord();
    await store.create(r);
    const huge: StepRecord = sampleStep(0, { value: "x".repeat(1_100_000) });
    await expect(store.commit(r.id, { expectRev: 0, record: bump(r), steps: [huge] })).rejects.toBeInstanceOf(ValueTooLargeError);
    expect((await store.get(r.id))!.rev).toBe(0);
  });

  it("keeps history bounded when events carry long step keys", async () => {
    const { store, collection } = open();
    let r = sampleRecord();
    await store.create(r);
    for (let i = 0; i < 5; i++) {
      const events = [...Array(100).keys()].map((k) => ({ at: i * 100 + k, type: "step.completed" as const, step: "s".repeat(3000) }));
      r = await store.commit(r.id, { expectRev: r.rev, record: bump(r), events });
    }
    const h = await store.history(r.id);
    expect(h[h.length - 1]!.at).toBe(499);
    expect((await documentsOf({ collection }, r.id)).flow).toBeLessThan(300_000);
  });
});

describe("Firestore store: integrity", () => {
  it("checks a commit against the stored rev when another client wrote since this store last looked", async () => {
    const a = open();
    const b = open(a.collection);
    let r = sampleRecord();
    await a.store.create(r);
    r = await b.store.commit(r.id, { expectRev: 0, record: bump(r), steps: [sampleStep(0)] });
    await expect(a.store.commit(r.id, { expectRev: 0, record: bump({ ...r, rev: 0 }), steps: [sampleStep(1)] })).rejects.toBeInstanceOf(ConflictError);
    r = await a.store.commit(r.id, { expectRev: 1, record: bump(r), steps: [sampleStep(1)] });
    expect((await b.store.load(r.id))!.steps.map((s) => s.seq)).toEqual([0, 1]);
  });

  it("fails with CorruptRecordError naming the flow when its document is corrupt", async () => {
    const { store, collection } = open();
    const r = sampleRecord();
    await store.create(r);
    const ref = db.collection(collection).doc(r.id);
    await ref.update({ "r.input": "{not json" });
    await expect(store.get(r.id)).rejects.toThrow(CorruptRecordError);
    await expect(store.get(r.id)).rejects.toThrow(r.id);
    await ref.update({ "r.input": JSON.stringify(r.input), "r.status": JSON.stringify("exploded") });
    await expect(store.load(r.id)).rejects.toThrow(/status/);
    await ref.update({ "r.status": JSON.stringify(r.status), hs: { 0: 40 }, m: JSON.stringify({ g: "x", o: [], ob: 0, hn: 3, pn: 0, pc: 0, ph: -1 }) });
    await expect(store.load(r.id)).rejects.toThrow(/history sizes/);
    await ref.update({ hs: {}, m: JSON.stringify({ g: "x", o: [], ob: 0, hn: 0, pn: 0, pc: 0, ph: -1 }), "j.0": JSON.stringify({ seq: 0 }) });
    await expect(store.load(r.id)).rejects.toThrow(CorruptRecordError);
    await ref.update({ "j.0": FieldValue.delete(), v: 99 });
    await expect(store.get(r.id)).rejects.toThrow(/layout 99, written by a newer Firestep/);
  });

  it("deletes the sealed pages with the flow, and a re-created flow starts empty", async () => {
    const { store, collection } = open();
    let r = sampleRecord();
    await store.create(r);
    r = await append(store, r, 0, 3, 1, (seq) => ({ seq, blob: "b".repeat(600_000) }));
    expect((await documentsOf({ collection }, r.id)).pages.length).toBeGreaterThanOrEqual(2);
    await store.delete(r.id, r.rev);
    expect(await documentsOf({ collection }, r.id)).toEqual({ flow: 0, pages: [] });
    const again = sampleRecord({ id: r.id });
    expect((await store.create(again)).created).toBe(true);
    expect((await store.load(r.id))!.steps).toEqual([]);
  });

  it("rejects appended steps that do not continue the journal", async () => {
    const { store } = open();
    let r = sampleRecord();
    await store.create(r);
    r = await store.commit(r.id, { expectRev: 0, record: bump(r), steps: [sampleStep(0), sampleStep(1)] });
    await expect(store.commit(r.id, { expectRev: 1, record: bump(r), steps: [sampleStep(1)] })).rejects.toThrow(/continue the journal/);
  });
});
