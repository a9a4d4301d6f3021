import { describe, expect, it } from "vitest";
import { afterCheckpoint } from "../../src/engine/transitions.js";
import { StoreUnavailableError } from "../../src/errors.js";
import type { Commit, FlowStore } from "../../src/ports.js";
import { RunnerWriter } from "../../src/runtime/runner-writer.js";
import type { FlowRecord, StepRecord } from "../../src/schemas.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { sampleRecord, sampleStep } from "../../src/testing/store-contract.js";

const LEASE_MS = 60_000;

/**
 * A memory store that records every commit it is asked for, can be told to fail the next ones, and can
 * hold back the answer to a commit it has made until a gate opens.
 */
function countingStore() {
  const inner = createMemoryStore();
  const commits: Commit[] = [];
  let failNext = 0;
  let gate: Promise<void> | undefined;
  const store: FlowStore = {
    ...inner,
    maxValueBytes: inner.maxValueBytes,
    commit(id, commit) {
      commits.push(commit);
      if (failNext > 0) {
        failNext--;
        return Promise.reject(new StoreUnavailableError("the test store is down"));
      }
      const held = gate;
      return inner.commit(id, commit).then(async (r) => (await held, r));
    },
  };
  return { store, commits, failNextCommits: (n: number) => void (failNext = n), holdAnswers: (g: Promise<void> | undefined) => void (gate = g) };
}

/** A flow claimed by a runner at epoch 1, as delivery does before its writes. */
async function claimed(store: FlowStore): Promise<FlowRecord> {
  const r = sampleRecord();
  await store.create(r);
  const claim: FlowRecord = { ...r, status: "running", rev: 1, epoch: 1, lease: { owner: "me", until: 2_000_000_000_000 } };
  return store.commit(r.id, { expectRev: 0, record: claim });
}

const stepWrite = (w: RunnerWriter, step: StepRecord, onError?: (e: unknown) => void, valueBytes?: number) =>
  w.write((r) => afterCheckpoint(r, 1, 1_800_000_000_000, LEASE_MS), { steps: [step], events: [{ at: 1, type: "step.completed", step: step.key }] }, onError, valueBytes);

describe("the runner's writes", () => {
  it("writes queued behind the one in flight are stored by one commit, in order, each resolving once stored", async () => {
    const { store, commits } = countingStore();
    const record = await claimed(store);
    commits.length = 0;
    const w = new RunnerWriter(store, record, () => {});
    const writes = [0, 1, 2, 3, 4].map((seq) => stepWrite(w, sampleStep(seq)));
    const stored = await Promise.all(writes);
    expect(commits.map((c) => c.steps?.map((s) => s.seq))).toEqual([[0], [1, 2, 3, 4]]);
    expect(commits[1]!.events).toHaveLength(4);
    // The later writes resolve with the record of the commit that stored them.
    expect(stored.map((r) => r.rev)).toEqual([2, 3, 3, 3, 3]);
    const loaded = await store.load(record.id);
    expect(loaded!.record).toMatchObject({ rev: 3, stepCount: 5 });
    expect(loaded!.steps.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it("once a round's writes merged, the next round's first write waits for its siblings: one commit per round", async () => {
    const { store, commits } = countingStore();
    const record = await claimed(store);
    commits.length = 0;
    const w = new RunnerWriter(store, record, () => {});
    const round = (from: number) => Promise.all([0, 1, 2, 3, 4].map((i) => stepWrite(w, sampleStep(from + i))));
    await round(0);
    await round(5);
    await round(10);
    expect(commits.map((c) => c.steps?.map((s) => s.seq))).toEqual([[0], [1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14]]);
    // Back to one step at a time: the first waits for the rest of its turn (no sibling comes), the next go at once.
    let started = commits.length;
    const lone = stepWrite(w, sampleStep(15));
    expect(commits.length).toBe(started);
    await lone;
    started = commits.length;
    const next = stepWrite(w, sampleStep(16));
    expect(commits.length).toBe(started + 1);
    await next;
    expect((await store.load(record.id))!.steps.map((s) => s.seq)).toEqual([...Array(17).keys()]);
  });

  it("a flow writing one step at a time makes one commit per step, each started at once", async () => {
    const { store, commits } = countingStore();
    const record = await claimed(store);
    commits.length = 0;
    const w = new RunnerWriter(store, record, () => {});
    for (let seq = 0; seq < 3; seq++) await stepWrite(w, sampleStep(seq));
    expect(commits.map((c) => c.steps?.length)).toEqual([1, 1, 1]);
  });

  it("a merged commit carries no more step values than the store's largest value", async () => {
    const { store, commits } = countingStore();
    const record = await claimed(store);
    commits.length = 0;
    const w = new RunnerWriter(store, record, () => {}, 3_000);
    const big = (seq: number) => sampleStep(seq, { value: "x".repeat(700) });
    // Not told their size, each counts as its entry's JSON (about 810 bytes) and 512: two fit in 3,000 bytes, not three.
    await Promise.all([0, 1, 2, 3, 4, 5].map((seq) => stepWrite(w, big(seq))));
    expect(commits.map((c) => c.steps?.map((s) => s.seq))).toEqual([[0], [1, 2], [3, 4], [5]]);
    // A size the caller gives is taken as it is.
    commits.length = 0;
    await Promise.all([6, 7, 8, 9].map((seq) => stepWrite(w, big(seq), undefined, 1_000)));
    expect(commits.map((c) => c.steps?.map((s) => s.seq))).toEqual([[6], [7], [8], [9]]);
    commits.length = 0;
    await Promise.all([10, 11, 12, 13].map((seq) => stepWrite(w, big(seq), undefined, 400)));
    expect(commits.map((c) => c.steps?.map((s) => s.seq))).toEqual([[10], [11, 12, 13]]);
  });

  it("a write that truncates the journal is never merged with another", async () => {
    const { store, commits } = countingStore();
    const record = await claimed(store);
    commits.length = 0;
    const w = new RunnerWriter(store, record, () => {});
    const next = (r: FlowRecord) => afterCheckpoint(r, 0, 1_800_000_000_000, LEASE_MS);
    await Promise.all([stepWrite(w, sampleStep(0)), stepWrite(w, sampleStep(1)), w.write(next, { truncateFrom: 1 }), stepWrite(w, sampleStep(2))]);
    expect(commits.map((c) => [c.steps?.map((s) => s.seq), c.truncateFrom])).toEqual([
      [[0], undefined],
      [[1], undefined],
      [undefined, 1],
      [[2], undefined],
    ]);
  });

  it("a merged commit that fails rejects every write in it and tells each one's error handler", async () => {
    const { store, failNextCommits } = countingStore();
    const record = await claimed(store);
    const w = new RunnerWriter(store, record, () => {});
    const inFlight = stepWrite(w, sampleStep(0));
    failNextCommits(1); // the next commit: the merged one
    const seen: unknown[] = [];
    const merged = [1, 2, 3].map((seq) => stepWrite(w, sampleStep(seq), (e) => seen.push(e)));
    const results = await Promise.allSettled([inFlight, ...merged]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "rejected"]);
    expect(seen).toHaveLength(3);
    expect(seen.every((e) => e instanceof StoreUnavailableError)).toBe(true);
    // Nothing of the failed commit was stored; the writer goes on from the last stored record.
    expect((await store.load(record.id))!.steps.map((s) => s.seq)).toEqual([0]);
    await stepWrite(w, sampleStep(1));
    const loaded = (await store.load(record.id))!;
    expect(loaded.steps.map((s) => s.seq)).toEqual([0, 1]);
    expect(loaded.record.stepCount).toBe(2);
  });

  it("a merged commit that conflicts is built again, once, on the record it finds", async () => {
    const { store, commits, holdAnswers } = countingStore();
    const record = await claimed(store);
    const interference: FlowRecord[] = [];
    const w = new RunnerWriter(store, record, (fresh) => interference.push(fresh));
    let release!: () => void;
    holdAnswers(new Promise<void>((r) => (release = r)));
    const first = stepWrite(w, sampleStep(0)); // stored, but the writer does not hear so until release()
    holdAnswers(undefined);
    const merged = [1, 2].map((seq) => stepWrite(w, sampleStep(seq)));
    await new Promise((r) => setTimeout(r, 0));
    // Another writer of the same epoch (a pause, say) commits before the merged write starts.
    const current = (await store.get(record.id))!;
    expect(current.stepCount).toBe(1);
    await store.commit(record.id, { expectRev: current.rev, record: { ...current, rev: current.rev + 1, updatedAt: current.updatedAt + 1 } });
    commits.length = 0;
    release();
    await Promise.all([first, ...merged]);
    expect(commits.map((c) => c.steps?.map((s) => s.seq))).toEqual([[1, 2], [1, 2]]);
    expect(interference).toHaveLength(1);
    const loaded = (await store.load(record.id))!;
    expect(loaded.record).toMatchObject({ rev: current.rev + 2, stepCount: 3 });
    expect(loaded.steps.map((s) => s.seq)).toEqual([0, 1, 2]);
  });
});
