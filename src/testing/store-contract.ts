/**
 * The flow store contract: one suite every backend must pass (memory, files, Firestore, and yours).
 * Call `describeStoreContract("my store", () => createMyStore())` from a vitest test file.
 */
import { describe, expect, it, afterEach } from "vitest";
import { ConflictError } from "../errors.js";
import { HISTORY_LIMIT, type FlowStore } from "../ports.js";
import type { FlowRecord, HistoryEvent, StepRecord } from "../schemas.js";

export interface StoreUnderTest {
  store: FlowStore;
  cleanup?: () => Promise<void>;
}

let counter = 0;
export function sampleRecord(over: Partial<FlowRecord> = {}): FlowRecord {
  counter++;
  return {
    id: `flow-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}`,
    flowName: "contractFlow",
    status: "scheduled",
    input: { n: counter, nested: { ok: true, list: [1, "two", null] } },
    waits: [],
    wakeAt: 1_700_000_000_000,
    rev: 0,
    epoch: 0,
    stepCount: 0,
    progress: {},
    createdAt: 1_700_000_000_000 + counter,
    updatedAt: 1_700_000_000_000 + counter,
    ...over,
  };
}

export function sampleStep(seq: number, over: Partial<StepRecord> = {}): StepRecord {
  return { seq, call: seq, key: `step-${seq}`, name: `step-${seq}`, kind: "run", ok: true, value: { seq }, attempts: 1, startedAt: 1, endedAt: 2, ...over };
}

function bump(r: FlowRecord, over: Partial<FlowRecord> = {}): FlowRecord {
  return { ...r, rev: r.rev + 1, updatedAt: r.updatedAt + 1, ...over };
}

export function describeStoreContract(name: string, make: () => Promise<StoreUnderTest> | StoreUnderTest): void {
  describe(`FlowStore contract: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    const open = async () => (current = await make()).store;
    afterEach(async () => {
      await current?.store.close?.();
      await current?.cleanup?.();
      current = undefined;
    });

    it("creates a flow once; a second create returns the first record and writes nothing", async () => {
      const store = await open();
      const r = sampleRecord();
      const ev: HistoryEvent[] = [{ at: 1, type: "flow.scheduled" }];
      expect(await store.create(r, ev)).toEqual({ created: true, record: r });
      const again = await store.create({ ...r, input: "different" });
      expect(again.created).toBe(false);
      expect(again.record).toEqual(r);
      expect(await store.get(r.id)).toEqual(r);
      expect(await store.history(r.id)).toEqual(ev);
    });

    it("returns undefined for a flow that does not exist", async () => {
      const store = await open();
      expect(await store.get("no-such-flow")).toBeUndefined();
      expect(await store.load("no-such-flow")).toBeUndefined();
      expect(await store.history("no-such-flow")).toEqual([]);
    });

    it("applies a commit whose expected rev matches, and rejects a stale one without changing anything", async () => {
      const store = await open();
      const r = sampleRecord();
      await store.create(r);
      const next = bump(r, { status: "running", epoch: 1 });
      expect(await store.commit(r.id, { expectRev: 0, record: next, steps: [sampleStep(0)] })).toEqual(next);
      await expect(store.commit(r.id, { expectRev: 0, record: bump(r, { status: "failed" }), steps: [sampleStep(1)] })).rejects.toBeInstanceOf(ConflictError);
      const loaded = await store.load(r.id);
      expect(loaded?.record).toEqual(next);
      expect(loaded?.steps).toEqual([sampleStep(0)]);
    });

    it("reads a commit made durable with the next back at once, and keeps it when the next commit follows", async () => {
      const store = await open();
      const r = sampleRecord();
      await store.create(r);
      const claimed = bump(r, { status: "running", epoch: 1 });
      await store.commit(r.id, { expectRev: 0, record: claimed, durableWithNext: true });
      expect(await store.get(r.id)).toEqual(claimed);
      const next = bump(claimed, { stepCount: 1 });
      await expect(store.commit(r.id, { expectRev: 0, record: bump(r), durableWithNext: true })).rejects.toBeInstanceOf(ConflictError);
      await store.commit(r.id, { expectRev: 1, record: next, steps: [sampleStep(0)] });
      const loaded = await store.load(r.id);
      expect(loaded?.record).toEqual(next);
      expect(loaded?.steps).toEqual([sampleStep(0)]);
    });

    it("rejects a commit to a flow that does not exist", async () => {
      const store = await open();
      const r = sampleRecord();
      await expect(store.commit(r.id, { expectRev: 0, record: bump(r) })).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get(r.id)).toBeUndefined();
    });

    it("round-trips falsy and nested step values exactly, with undefined kept as an absent value", async () => {
      const store = await open();
      const r = sampleRecord();
      await store.create(r);
      const values: unknown[] = [0, false, "", null, undefined, [], {}, [0, false, "", null], { a: 0, b: { c: "" } }, -1.5, "ünïcødé ✓"];
      const steps = values.map((v, i) => {
        const s = sampleStep(i);
        delete s.value;
        return v === undefined ? s : { ...s, value: v };
      });
      await store.commit(r.id, { expectRev: 0, record: bump(r, { stepCount: steps.length }), steps });
      const loaded = (await store.load(r.id))!;
      expect(loaded.steps.map((s) => s.value)).toEqual(values);
      expect("value" in loaded.steps[4]!).toBe(false);
      expect(loaded.steps[3]!.value).toBeNull();
    });

    it("keeps what it stored safe from readers: changing what a load handed back throws or changes nothing stored", async () => {
      const store = await open();
      const r = sampleRecord();
      await store.create(r);
      const step = sampleStep(0, { value: { list: [1, 2] } });
      const next = bump(r, { stepCount: 1 });
      const stored = structuredClone(next);
      // A commit takes over what it is given (the caller must not change it); a load hands out copies, except
      // journal entries, which may be frozen and shared.
      await store.commit(r.id, { expectRev: 0, record: next, steps: [step] });
      const loaded = (await store.load(r.id))!;
      changeOrThrow(() => (loaded.steps[0]!.value as { list: number[] }).list.push(4));
      loaded.steps.push(sampleStep(1));
      loaded.record.stepCount = 99;
      const again = (await store.load(r.id))!;
      expect(again.steps).toEqual([sampleStep(0, { value: { list: [1, 2] } })]);
      expect(again.record).toEqual(stored);
    });

    it("keeps the journal in order across many commits and truncates from a seq", async () => {
      const store = await open();
      let r = sampleRecord();
      await store.create(r);
      for (let i = 0; i < 50; i++) {
        const next = bump(r, { stepCount: i + 1 });
        r = await store.commit(r.id, { expectRev: r.rev, record: next, steps: [sampleStep(i)] });
      }
      expect((await store.load(r.id))!.steps.map((s) => s.seq)).toEqual([...Array(50).keys()]);
      r = await store.commit(r.id, { expectRev: r.rev, record: bump(r, { stepCount: 40 }), truncateFrom: 40 });
      expect((await store.load(r.id))!.steps.map((s) => s.seq)).toEqual([...Array(40).keys()]);
      r = await store.commit(r.id, { expectRev: r.rev, record: bump(r, { stepCount: 41 }), steps: [sampleStep(40, { value: "again" })] });
      const steps = (await store.load(r.id))!.steps;
      expect(steps).toHaveLength(41);
      expect(steps[40]!.value).toBe("again");
    });

    it("stores step keys that are not safe as paths or document ids", async () => {
      const store = await open();
      const r = sampleRecord();
      await store.create(r);
      const keys = ["a/b", ".", "..", "__x__", "x".repeat(1600), "with space#2", "ключ", "$now"];
      const steps = keys.map((k, i) => sampleStep(i, { key: k, name: k }));
      await store.commit(r.id, { expectRev: 0, record: bump(r), steps });
      expect((await store.load(r.id))!.steps.map((s) => s.key)).toEqual(keys);
    });

    it("lets exactly one of several racing commits with the same expected rev win", async () => {
      const store = await open();
      const r = sampleRecord();
      await store.create(r);
      const results = await Promise.allSettled(
        [...Array(8).keys()].map((i) => store.commit(r.id, { expectRev: 0, record: bump(r, { epoch: i + 1 }), steps: [sampleStep(0, { value: i })] })),
      );
      const won = results.filter((x) => x.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const x of results) if (x.status === "rejected") expect(x.reason).toBeInstanceOf(ConflictError);
      const loaded = (await store.load(r.id))!;
      expect(loaded.steps).toHaveLength(1);
      expect(loaded.steps[0]!.value).toBe(loaded.record.epoch - 1);
    });

    it("appends history and keeps only the newest events", async () => {
      const store = await open();
      let r = sampleRecord();
      await store.create(r, [{ at: 0, type: "flow.scheduled" }]);
      const batch = (from: number, n: number): HistoryEvent[] => [...Array(n).keys()].map((i) => ({ at: from + i, type: "step.completed", step: `s${from + i}` }));
      r = await store.commit(r.id, { expectRev: r.rev, record: bump(r), events: batch(1, 10) });
      expect((await store.history(r.id)).map((e) => e.at)).toEqual([...Array(11).keys()]);
      for (let i = 0; i < 3; i++) r = await store.commit(r.id, { expectRev: r.rev, record: bump(r), events: batch(11 + i * 200, 200) });
      const h = await store.history(r.id);
      expect(h).toHaveLength(HISTORY_LIMIT);
      expect(h[h.length - 1]!.at).toBe(610);
      expect(h[0]!.at).toBe(611 - HISTORY_LIMIT);
    });

    it("lists newest first, filters by name and status, and pages with a cursor without gaps or repeats", async () => {
      const store = await open();
      const base = 1_800_000_000_000 + Math.floor(Math.random() * 1e6) * 1000;
      const flowName = `listed${Math.random().toString(36).slice(2, 8)}`;
      const made: FlowRecord[] = [];
      for (let i = 0; i < 23; i++) {
        const r = sampleRecord({ flowName, createdAt: base + Math.floor(i / 2), status: i % 3 === 0 ? "succeeded" : "waiting" });
        made.push(r);
        await store.create(r);
      }
      await store.create(sampleRecord({ flowName: `${flowName}x` }));
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ flowName, limit: 5, ...(cursor ? { cursor } : {}) });
        seen.push(...page.flows.map((f) => f.id));
        cursor = page.cursor;
        pages++;
      } while (cursor && pages < 20);
      const expected = [...made].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).map((r) => r.id);
      expect(seen).toEqual(expected);
      const done = await store.list({ flowName, status: "succeeded", limit: 100 });
      expect(done.flows.map((f) => f.id).sort()).toEqual(made.filter((r) => r.status === "succeeded").map((r) => r.id).sort());
      const both = await store.list({ flowName, status: ["succeeded", "waiting"], limit: 100 });
      expect(both.flows).toHaveLength(23);
    });

    it("deletes a flow with its journal and history, only at the expected rev", async () => {
      const store = await open();
      const r = sampleRecord();
      await store.create(r, [{ at: 0, type: "flow.scheduled" }]);
      const next = await store.commit(r.id, { expectRev: 0, record: bump(r, { status: "succeeded" }), steps: [sampleStep(0)] });
      await expect(store.delete(r.id, 0)).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get(r.id)).toEqual(next);
      await store.delete(r.id, next.rev);
      expect(await store.get(r.id)).toBeUndefined();
      expect(await store.load(r.id)).toBeUndefined();
      expect(await store.history(r.id)).toEqual([]);
      expect((await store.create(r)).created).toBe(true);
      expect((await store.load(r.id))!.steps).toEqual([]);
    });

    it("holds a journal of 1,000 steps", async () => {
      const store = await open();
      let r = sampleRecord();
      await store.create(r);
      for (let i = 0; i < 1000; i += 100) {
        const steps = [...Array(100).keys()].map((j) => sampleStep(i + j, { value: { i: i + j, pad: "x".repeat(50) } }));
        r = await store.commit(r.id, { expectRev: r.rev, record: bump(r, { stepCount: i + 100 }), steps });
      }
      const loaded = (await store.load(r.id))!;
      expect(loaded.steps).toHaveLength(1000);
      expect(loaded.steps[999]!.value).toEqual({ i: 999, pad: "x".repeat(50) });
      expect(loaded.record.stepCount).toBe(1000);
    });

    // The runtime stores steps that complete together by one commit carrying up to `maxValueBytes` of values.
    it("takes one commit of many steps whose values add up to the largest value, after others", async () => {
      const store = await open();
      let r = sampleRecord();
      await store.create(r);
      r = await store.commit(r.id, { expectRev: 0, record: bump(r, { stepCount: 3 }), steps: [0, 1, 2].map((i) => sampleStep(i)) });
      const k = 24;
      const value = (i: number) => `${i}:`.padEnd(Math.floor(store.maxValueBytes / k) - 16, "v");
      const steps = [...Array(k).keys()].map((j) => sampleStep(3 + j, { value: value(j) }));
      r = await store.commit(r.id, { expectRev: r.rev, record: bump(r, { stepCount: 3 + k }), steps });
      r = await store.commit(r.id, { expectRev: r.rev, record: bump(r, { stepCount: 4 + k }), steps: [sampleStep(3 + k)] });
      const loaded = (await store.load(r.id))!;
      expect(loaded.steps.map((s) => s.seq)).toEqual([...Array(4 + k).keys()]);
      expect(loaded.steps.slice(3, 3 + k).map((s) => s.value)).toEqual([...Array(k).keys()].map(value));
      expect(loaded.record.stepCount).toBe(4 + k);
    });

    it("declares a positive value size limit", async () => {
      const store = await open();
      expect(store.maxValueBytes).toBeGreaterThan(1000);
    });
  });
}

/** Makes a change to data a store may have frozen: it either lands (on the caller's own copy) or throws a TypeError. */
function changeOrThrow(change: () => unknown): void {
  try {
    change();
  } catch (e) {
    expect(e).toBeInstanceOf(TypeError);
  }
}
