import { describe, expect, it } from "vitest";
import { createLocalQueue, DEFAULT_MAX_CONCURRENT } from "../../src/queues/local-queue.js";
import { DueHeap, type DueEntry } from "../../src/queues/due-heap.js";
import { createFakeClock } from "../../src/testing/fake-clock.js";
import { systemClock } from "../../src/runtime/runtime-core.js";
import type { WakeTask } from "../../src/schemas.js";

const task = (flowId: string, at: number): WakeTask => ({ flowId, flowName: "f", reason: "wake", at });

describe("local queue", () => {
  it("hands tasks for later to the listener in due order, ties in enqueue order, under a single timer", async () => {
    const clock = createFakeClock(0);
    const q = createLocalQueue({ clock });
    const got: string[] = [];
    q.listen(async (t) => void got.push(`${t.flowId}@${clock.now()}`));
    for (const [id, at] of [["c", 300], ["a", 100], ["b1", 200], ["b2", 200], ["d", 5_000]] as const) await q.enqueue({ task: task(id, at), dedupeKey: id });
    expect(clock.pendingTimers()).toBe(1);
    expect(q.pending()).toBe(5);
    await clock.advance(1_000);
    expect(got).toEqual(["a@100", "b1@200", "b2@200", "c@300"]);
    expect(q.pending()).toBe(1);
  });

  it("re-arms for a task due before the one it waits for, and drops a repeated dedupe key", async () => {
    const clock = createFakeClock(0);
    const q = createLocalQueue({ clock });
    const got: string[] = [];
    q.listen(async (t) => void got.push(t.flowId));
    await q.enqueue({ task: task("late", 10_000), dedupeKey: "late" });
    await q.enqueue({ task: task("soon", 50), dedupeKey: "soon" });
    await q.enqueue({ task: task("soon-again", 60), dedupeKey: "soon" });
    await clock.advance(100);
    expect(got).toEqual(["soon"]);
    await clock.advance(10_000);
    expect(got).toEqual(["soon", "late"]);
  });

  it("remembers a dedupe key while its task waits, runs or backs off, and forgets it once the task has finished", async () => {
    const clock = createFakeClock(0);
    const q = createLocalQueue({ clock });
    const got: string[] = [];
    let failFirst = true;
    let release = () => {};
    q.listen(async (t) => {
      got.push(`${t.flowId}@${clock.now()}`);
      if (t.flowId === "flaky" && failFirst) {
        failFirst = false;
        throw new Error("store down");
      }
      if (t.flowId === "slow") await new Promise<void>((r) => (release = r));
    });
    await q.enqueue({ task: task("slow", 0), dedupeKey: "slow" });
    await clock.advance(1);
    expect(got).toEqual(["slow@0"]);
    await q.enqueue({ task: task("slow", 0), dedupeKey: "slow" }); // still running
    await q.enqueue({ task: task("flaky", 10), dedupeKey: "flaky" });
    await clock.advance(20); // the first attempt fails; the retry waits 100 ms
    await q.enqueue({ task: task("flaky", 30), dedupeKey: "flaky" }); // backing off
    await clock.advance(200);
    expect(got).toEqual(["slow@0", "flaky@10", "flaky@110"]);
    release();
    await q.idle();
    // Both have finished: the same keys make new deliveries (at-least-once allows it; the runtime expects it).
    await q.enqueue({ task: task("slow", 0), dedupeKey: "slow" });
    await q.enqueue({ task: task("flaky", 0), dedupeKey: "flaky" });
    await clock.advance(1);
    release();
    await q.idle();
    expect(got).toEqual(["slow@0", "flaky@10", "flaky@110", "slow@221", "flaky@221"]);
  });

  it("retries a handler that throws, with back-off, and cancels everything on close", async () => {
    const clock = createFakeClock(0);
    const q = createLocalQueue({ clock });
    let calls = 0;
    q.listen(async () => {
      calls++;
      if (calls < 3) throw new Error("store down");
    });
    await q.enqueue({ task: task("x", 0), dedupeKey: "x" });
    await clock.advance(1_000);
    expect(calls).toBe(3);
    await q.enqueue({ task: task("y", 5_000), dedupeKey: "y" });
    await q.close?.();
    await clock.advance(10_000);
    expect(calls).toBe(3);
    expect(q.pending()).toBe(0);
  });

  it("gives up on a handler that fails 1 + maxRetries times, backing off from 100 ms, doubling, up to a minute; onDrop gets the task and the last error, and its key is forgotten", async () => {
    const clock = createFakeClock(0);
    const dropped: Array<[WakeTask, unknown]> = [];
    const q = createLocalQueue({ clock, maxRetries: 11, onDrop: (t, e) => void dropped.push([t, e]) });
    const calls: number[] = [];
    q.listen(async () => {
      calls.push(clock.now());
      throw new Error(`store down (call ${calls.length})`);
    });
    const doomed = task("doomed", 0);
    await q.enqueue({ task: doomed, dedupeKey: "doomed" });
    await clock.advance(60 * 60_000);
    await q.idle();
    expect(calls.slice(1).map((at, i) => at - calls[i]!)).toEqual([100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 51_200, 60_000]);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]![0]).toEqual(doomed);
    expect(dropped[0]![1]).toMatchObject({ message: "store down (call 12)" });
    expect(q.pending()).toBe(0);
    // Forgotten: the same key is delivered again.
    await q.enqueue({ task: doomed, dedupeKey: "doomed" });
    await clock.advance(1);
    expect(calls).toHaveLength(13);
    await q.close?.();
  });

  it("retries a failing handler 10 times by default before dropping the task", async () => {
    const clock = createFakeClock(0);
    const dropped: WakeTask[] = [];
    const q = createLocalQueue({ clock, onDrop: (t) => void dropped.push(t) });
    let calls = 0;
    q.listen(async () => {
      calls++;
      throw new Error("store down");
    });
    await q.enqueue({ task: task("x", 0), dedupeKey: "x" });
    await clock.advance(60 * 60_000);
    await q.idle();
    expect(calls).toBe(11);
    expect(dropped.map((t) => t.flowId)).toEqual(["x"]);
    await q.close?.();
  });

  it("runs at most maxConcurrent handlers at once (100 by default); the others start in order as slots free up", async () => {
    for (const [limit, tasks] of [[3, 10], [undefined, DEFAULT_MAX_CONCURRENT + 20]] as const) {
      const clock = createFakeClock(0);
      const q = createLocalQueue({ clock, ...(limit ? { maxConcurrent: limit } : {}) });
      let running = 0;
      let most = 0;
      const started: string[] = [];
      const release: Array<() => void> = [];
      q.listen(async (t) => {
        started.push(t.flowId);
        most = Math.max(most, ++running);
        await new Promise<void>((r) => release.push(r));
        running--;
      });
      const ids = [...Array(tasks).keys()].map((i) => `t${i}`);
      for (const id of ids) await q.enqueue({ task: task(id, 0), dedupeKey: id });
      await new Promise((r) => setImmediate(r));
      const max = limit ?? DEFAULT_MAX_CONCURRENT;
      expect(started).toEqual(ids.slice(0, max));
      while (release.length) {
        release.shift()!();
        await new Promise((r) => setImmediate(r));
      }
      await q.idle();
      expect(started).toEqual(ids);
      expect(most).toBe(max);
      await q.close?.();
    }
  });
});

describe("DueHeap", () => {
  it("pops what is due, earliest first and in insertion order among equals, over many random entries", () => {
    const heap = new DueHeap<DueEntry & { id: number }>();
    const entries = Array.from({ length: 2_000 }, (_, id) => ({ at: Math.floor(Math.random() * 100), seq: 0, id }));
    for (const e of entries) heap.push({ ...e });
    const expected = [...entries].sort((a, b) => a.at - b.at || a.id - b.id).filter((e) => e.at <= 60).map((e) => e.id);
    const popped: number[] = [];
    for (let e = heap.popDue(60); e; e = heap.popDue(60)) popped.push(e.id);
    expect(popped).toEqual(expected);
    expect(heap.peekAt()).toBeGreaterThan(60);
  });
});

describe("local queue on the system clock", () => {
  it("waits quietly for a task due in 30 days: one timer, not one re-armed every millisecond", async () => {
    let armed = 0;
    const clock = { now: () => systemClock.now(), setTimer: (ms: number, fn: () => void) => (armed++, systemClock.setTimer(ms, fn)) };
    const q = createLocalQueue({ clock });
    const got: string[] = [];
    q.listen(async (t) => void got.push(t.flowId));
    try {
      await q.enqueue({ task: task("napper", Date.now() + 30 * 86_400_000), dedupeKey: "napper" });
      await new Promise((r) => setTimeout(r, 50));
      expect(got).toEqual([]);
      expect(armed).toBe(1);
      expect(q.pending()).toBe(1);
    } finally {
      await q.close?.();
    }
  });
});
