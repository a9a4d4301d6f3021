import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createEmbeddedRuntime, createRuntime, defineFlow, interrupt, run, sleep, type FlowStore, type QueuedTask } from "../../src/index.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { cancelRecord, newFlowRecord } from "../../src/engine/transitions.js";
import { createFakeClock } from "../../src/testing/index.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";

const sideEffects: string[] = [];
const slow = defineFlow({ name: "slowSteps", input: z.string(), output: z.string() }, async (tag) => {
  const a = await run("a", async () => {
    sideEffects.push(`${tag}:a`);
    await new Promise((r) => setTimeout(r, 15));
    return "A";
  });
  await sleep("nap", 5);
  const b = await run("b", async () => {
    sideEffects.push(`${tag}:b`);
    await new Promise((r) => setTimeout(r, 15));
    return "B";
  });
  return a + b;
});

function recordingQueue() {
  const tasks: QueuedTask[] = [];
  return { tasks, queue: { enqueue: async (t: QueuedTask) => void tasks.push(t) } };
}

let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
  sideEffects.length = 0;
});

describe("delivery", () => {
  it("the embedded runtime runs at most maxConcurrentDeliveries flows at once, and refuses a bad value", async () => {
    let inside = 0;
    let most = 0;
    const gates: Array<() => void> = [];
    const gated = defineFlow({ name: "gated", input: z.number(), output: z.number() }, async (n) =>
      run("wait for the gate", async () => {
        most = Math.max(most, ++inside);
        await new Promise<void>((r) => gates.push(r));
        inside--;
        return n;
      }),
    );
    const rt = createEmbeddedRuntime({ store: createMemoryStore(), recover: false, maxConcurrentDeliveries: 2 });
    const ops = await Promise.all([1, 2, 3, 4, 5].map((n) => rt.scheduleFlow(gated, n)));
    for (let released = 0; released < ops.length; released++) {
      while (gates.length === 0) await new Promise((r) => setTimeout(r, 5));
      gates.shift()!();
    }
    await rt.idle();
    const states = await Promise.all(ops.map((op) => rt.getFlowState(gated, op.name)));
    expect(states.map((s) => s.result)).toEqual([1, 2, 3, 4, 5].map((n) => ({ response: n })));
    expect(most).toBe(2);
    await rt.close();
    for (const bad of [0, 1.5, -1, Number.NaN]) {
      expect(() => createEmbeddedRuntime({ store: createMemoryStore(), maxConcurrentDeliveries: bad })).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/maxConcurrentDeliveries must be a whole number of at least 1/) }),
      );
    }
  });

  it("runs a step once when eight deliveries of one flow arrive at once", async () => {
    const clock = createFakeClock();
    const store = createMemoryStore();
    const { tasks, queue } = recordingQueue();
    const rt = createRuntime({ store, queue, clock });
    const op = await rt.scheduleFlow(slow, "x");
    const start = tasks[0]!.task;
    const results = await Promise.all([...Array(8)].map(() => rt.deliver(start)));
    expect(results.filter((r) => r.result === "ran")).toHaveLength(1);
    expect(results.filter((r) => r.result === "deferred")).toHaveLength(7);
    expect(sideEffects).toEqual(["x:a"]);
    clock.set(clock.now() + 10_000);
    const wake = { ...start, reason: "wake" as const, at: clock.now() };
    const again = await Promise.all([...Array(8)].map(() => rt.deliver(wake)));
    expect(again.filter((r) => r.result === "ran")).toHaveLength(1);
    expect(sideEffects).toEqual(["x:a", "x:b"]);
    expect((await rt.getFlowState(slow, op.name)).result).toEqual({ response: "AB" });
  });

  it("ignores deliveries for finished, paused, unknown and interrupt-blocked flows", async () => {
    t = createTestRuntime();
    const h = await t.start(slow, "y");
    const op = await h.settle();
    expect(op.done).toBe(true);
    const before = await h.record();
    const task = { flowId: h.id, flowName: slow.name, reason: "wake" as const, at: t.clock.now() };
    expect(await t.runtime.deliver(task)).toMatchObject({ result: "ignored", why: "flow is succeeded" });
    expect(await t.runtime.deliver({ ...task, flowId: "nope" })).toMatchObject({ result: "ignored", why: "no such flow" });
    expect(await h.record()).toEqual(before);
  });

  it("takes over a flow whose runner died once its lease expires, fencing the old runner out", async () => {
    const clock = createFakeClock();
    const store = createMemoryStore();
    const { tasks, queue } = recordingQueue();
    const rt = createRuntime({ store, queue, clock, leaseSeconds: 30 });
    const op = await rt.scheduleFlow(slow, "z");
    // A runner claims the flow and "dies": simulate with a claim commit and no further writes.
    const r = (await store.get(op.name))!;
    await store.commit(op.name, { expectRev: r.rev, record: { ...r, rev: r.rev + 1, epoch: 1, status: "running", lease: { owner: "dead", until: clock.now() + 30_000 } } });
    const early = await rt.deliver(tasks[0]!.task);
    expect(early).toMatchObject({ result: "deferred", why: "another runner holds the lease" });
    clock.set(clock.now() + 31_000);
    const late = await rt.deliver(tasks[0]!.task);
    expect(late).toMatchObject({ result: "ran", outcome: "suspended" });
    expect((await store.get(op.name))!.epoch).toBe(2);
    const stale = (await store.get(op.name))!;
    await expect(store.commit(op.name, { expectRev: r.rev + 1, record: { ...stale, rev: r.rev + 2 } })).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("stops a runner at the next step when the flow is cancelled mid-run, keeping the finished step", async () => {
    const store: FlowStore = createMemoryStore();
    const clock = createFakeClock();
    const { queue } = recordingQueue();
    const rt = createRuntime({ store, queue, clock });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ran: string[] = [];
    const flow = defineFlow({ name: "cancelMidRun", input: z.void(), output: z.string() }, async () => {
      await run("one", async () => {
        ran.push("one");
        await gate;
        return 1;
      });
      await run("two", () => void ran.push("two"));
      return "done";
    });
    const op = await rt.scheduleFlow(flow, undefined);
    const delivery = rt.deliver({ flowId: op.name, flowName: flow.name, reason: "start", at: clock.now() });
    await new Promise((r) => setTimeout(r, 5));
    await rt.cancelFlow(flow, op.name, "changed my mind");
    release();
    expect(await delivery).toMatchObject({ result: "ran", outcome: "stopped" });
    expect(ran).toEqual(["one"]);
    const state = await rt.getFlowState(flow, op.name);
    expect(state).toMatchObject({ done: true, result: { error: { code: "FLOW_CANCELLED" } } });
    expect((await store.load(op.name))!.steps.map((s) => s.key)).toEqual(["one"]);
  });
  describe("control calls while a step runs", () => {
    const tick = () => new Promise((r) => setImmediate(r));
    const gated = (name: string, ran: string[], undo?: string[]) => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const flow = defineFlow({ name, input: z.void(), output: z.string() }, async () => {
        await run({ name: "slow", ...(undo ? { compensate: () => void undo.push("undo slow") } : {}) }, async () => {
          ran.push("slow");
          await gate;
          return 1;
        });
        await run("next", () => void ran.push("next"));
        return "done";
      });
      return { flow, release: () => release() };
    };
    const untilRan = async (ran: string[]) => {
      for (let i = 0; i < 50 && ran.length === 0; i++) await tick();
    };

    it("a flow paused and continued while its step runs keeps its runner: no second runner starts the step", async () => {
      const ran: string[] = [];
      const { flow, release } = gated("pauseContinueMidStep", ran);
      t = createTestRuntime();
      const h = await t.start(flow, undefined);
      await untilRan(ran);
      await t.runtime.pauseFlow(flow, h.id);
      await t.runtime.continueFlow(flow, h.id);
      for (let i = 0; i < 20; i++) await tick();
      expect(ran).toEqual(["slow"]);
      release();
      expect((await h.settle()).result).toEqual({ response: "done" });
      expect(ran).toEqual(["slow", "next"]);
    });

    it("a runner stopped by a pause lets go of the flow, so a continue runs it at once, not after the lease", async () => {
      const ran: string[] = [];
      const { flow, release } = gated("pauseMidStep", ran);
      t = createTestRuntime();
      const h = await t.start(flow, undefined);
      await untilRan(ran);
      await t.runtime.pauseFlow(flow, h.id);
      release();
      await t.runtime.idle();
      expect(await h.record()).toMatchObject({ status: "paused" });
      expect((await h.record()).lease).toBeUndefined();
      const at = t.clock.now();
      await t.runtime.continueFlow(flow, h.id);
      await t.runtime.idle();
      expect(await h.record()).toMatchObject({ status: "succeeded", finishedAt: at });
      expect(ran).toEqual(["slow", "next"]);
    });

    it("a flow continued while a runner that has since died holds it is taken over once that runner's lease ends", async () => {
      const ran: string[] = [];
      const flow = defineFlow({ name: "continueDeadRunner", input: z.void(), output: z.string() }, async () => {
        await run("only", () => void ran.push("only"));
        return "done";
      });
      t = createTestRuntime();
      const now = t.clock.now();
      // Paused while a runner of another process ran it; that process is gone, its lease still runs 60 s.
      const paused = { ...newFlowRecord({ id: "orphan-1", flowName: flow.name, input: undefined, now, startAt: now }), status: "paused" as const, pausedFrom: "scheduled" as const, epoch: 1, lease: { owner: "gone", until: now + 60_000 } };
      await t.store.create(paused);
      await t.runtime.continueFlow(flow, "orphan-1");
      expect(await t.store.get("orphan-1")).toMatchObject({ status: "running", lease: { owner: "gone" } });
      await t.runtime.idle();
      expect(ran).toEqual([]);
      const op = await t.handle(flow, "orphan-1").settle();
      expect(op.result).toEqual({ response: "done" });
      expect(ran).toEqual(["only"]);
      expect((await t.store.get("orphan-1"))!.finishedAt).toBeGreaterThanOrEqual(now + 60_000);
    });

    it("cancelling a flow while its first step runs undoes that step once it is stored", async () => {
      const ran: string[] = [];
      const undo: string[] = [];
      const { flow, release } = gated("cancelFirstStep", ran, undo);
      t = createTestRuntime();
      const h = await t.start(flow, undefined);
      await untilRan(ran);
      await t.runtime.cancelFlow(flow, h.id);
      release();
      await h.settle();
      await t.runtime.idle();
      expect(ran).toEqual(["slow"]);
      expect(undo).toEqual(["undo slow"]);
      expect(await h.record()).toMatchObject({ status: "cancelled" });
      expect((await h.record()).compensating).toBeUndefined();
    });

    it("deleteFlow refuses a cancelled flow whose compensations have not run yet, and they still run", async () => {
      const undo: string[] = [];
      const flow = defineFlow({ name: "deleteCompensating", input: z.void(), output: z.number() }, async () => {
        await run({ name: "book", compensate: () => void undo.push("unbook") }, () => 1);
        return interrupt("ask", z.number());
      });
      t = createTestRuntime();
      const h = await t.start(flow, undefined);
      await h.settle();
      await t.runtime.cancelFlow(flow, h.id);
      await expect(t.runtime.deleteFlow(flow, h.id)).rejects.toMatchObject({ code: "INVALID_FLOW_STATE" });
      await t.runtime.idle();
      expect(undo).toEqual(["unbook"]);
      await t.runtime.deleteFlow(flow, h.id);
      await expect(t.runtime.getFlow(h.id)).rejects.toMatchObject({ code: "FLOW_NOT_FOUND" });
    });

    it("a cancelled flow none of whose steps has an undo is finished at once, and deletable with no process running its code", async () => {
      const flow = defineFlow({ name: "cancelNoUndo", input: z.void(), output: z.number() }, async () => {
        await run("book", () => 1);
        return interrupt("ask", z.number());
      });
      t = createTestRuntime();
      const h = await t.start(flow, undefined);
      await h.settle();
      expect(await h.record()).toMatchObject({ stepCount: 1, undoable: false });
      await t.runtime.cancelFlow(flow, h.id);
      expect((await h.record()).compensating).toBeUndefined();
      await t.runtime.deleteFlow(flow, h.id);
      await expect(t.runtime.getFlow(h.id)).rejects.toMatchObject({ code: "FLOW_NOT_FOUND" });
    });

    it("a step with an undo marks the flow undoable; a record from before that was kept is treated as one", async () => {
      const flow = defineFlow({ name: "cancelOldRecord", input: z.void(), output: z.number() }, async () => {
        await run({ name: "book", compensate: () => undefined }, () => 1);
        return interrupt("ask", z.number());
      });
      t = createTestRuntime();
      const h = await t.start(flow, undefined);
      await h.settle();
      expect(await h.record()).toMatchObject({ undoable: true });
      expect((await t.runtime.core.store.load(h.id))!.steps[0]).toMatchObject({ key: "book", undo: true });

      const unknown = { ...(await h.record()) };
      delete unknown.undoable;
      expect(cancelRecord(unknown, t.clock.now())).toMatchObject({ compensating: true });
    });
  });
});
