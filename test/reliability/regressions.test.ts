/**
 * Bugs the reliability tests found, each pinned by a small deterministic test: a manual queue (tasks are
 * delivered when the test says, and the test decides which enqueue fails), a memory store and a fake clock.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createRuntime, defineFlow, interrupt, QueueUnavailableError, run, sleep, StoreUnavailableError, type FlowStore, type QueuedTask } from "../../src/index.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { createFakeClock } from "../../src/testing/index.js";

const ran: string[] = [];
const approval = defineFlow({ name: "regressionApproval", input: z.void(), output: z.string() }, async () => {
  const { by } = await interrupt("approve", z.object({ by: z.string() }));
  return run("after", () => (ran.push("after"), `approved by ${by}`));
});
const napper = defineFlow({ name: "regressionNapper", input: z.void(), output: z.string() }, async () => {
  const a = await run("a", () => (ran.push("a"), "A"));
  await sleep("nap", 60);
  const b = await run("b", () => (ran.push("b"), "B"));
  return a + b;
});
let openGate: () => void = () => {};
const gated = defineFlow({ name: "regressionGated", input: z.void(), output: z.string() }, async () => {
  const napThenB = async () => {
    await sleep("nap", 10);
    return run("b", async () => {
      ran.push("b");
      await new Promise<void>((r) => (openGate = r));
      return "B";
    });
  };
  const [b, { by }] = await Promise.all([napThenB(), interrupt("approve", z.object({ by: z.string() }))]);
  return `${b} approved by ${by}`;
});
let failOnce = true;
const flaky = defineFlow({ name: "regressionFlaky", input: z.void(), output: z.string() }, async () =>
  run("flaky", () => {
    if (failOnce) {
      failOnce = false;
      throw new Error("the upstream said no");
    }
    return "ok";
  }),
);

/** A queue that holds tasks until `deliverAll`, and fails the next `failures` enqueues. */
function manualQueue() {
  const tasks: QueuedTask[] = [];
  const keys = new Set<string>();
  const q = {
    tasks,
    failures: 0,
    queue: {
      async enqueue(t: QueuedTask) {
        if (q.failures > 0) {
          q.failures--;
          throw new QueueUnavailableError("the queue is down (injected)");
        }
        if (keys.has(t.dedupeKey)) return;
        keys.add(t.dedupeKey);
        tasks.push(t);
      },
    },
  };
  return q;
}

function setup(store: FlowStore = createMemoryStore()) {
  const clock = createFakeClock();
  const q = manualQueue();
  const rt = createRuntime({ store, queue: q.queue, clock, leaseSeconds: 30, logger: () => {} });
  /** Delivers every queued task that is due, as the queue would; a delivery that throws stays queued. */
  const deliverDue = async () => {
    for (let i = 0; i < 50; i++) {
      const due = q.tasks.filter((t) => t.task.at <= clock.now());
      if (!due.length) return;
      for (const t of due) {
        await rt.deliver(t.task, { taskId: t.dedupeKey });
        q.tasks.splice(q.tasks.indexOf(t), 1);
      }
    }
  };
  return { clock, q, rt, store, deliverDue };
}

describe("a call cut short before it enqueued its wake-up is repaired by the caller's retry", () => {
  it("resumeFlow: the retry is refused (already answered) but re-enqueues the wake-up, and the flow finishes", async () => {
    const { q, rt, deliverDue } = setup();
    const op = await rt.scheduleFlow(approval, undefined);
    await deliverDue();
    q.failures = 1;
    await expect(rt.resumeFlow(approval, op.name, { by: "ann" })).rejects.toMatchObject({ code: "QUEUE_UNAVAILABLE" });
    expect(q.tasks).toHaveLength(0); // stored as answered, but nothing will wake it
    await expect(rt.resumeFlow(approval, op.name, { by: "ann" })).rejects.toMatchObject({ code: "NOT_BLOCKED_ON_INTERRUPT" });
    expect(q.tasks).toHaveLength(1);
    await deliverDue();
    expect(await rt.getFlowState(approval, op.name)).toMatchObject({ done: true, result: { response: "approved by ann" } });
  });

  it("continueFlow and retryFlow: the refused retry re-enqueues the wake-up", async () => {
    const { clock, q, rt, deliverDue } = setup();
    const op = await rt.scheduleFlow(napper, undefined);
    await deliverDue();
    await rt.pauseFlow(napper, op.name);
    clock.set(clock.now() + 61_000);
    await deliverDue(); // the wake-up finds the flow paused and is dropped
    q.failures = 1;
    await expect(rt.continueFlow(napper, op.name)).rejects.toMatchObject({ code: "QUEUE_UNAVAILABLE" });
    await expect(rt.continueFlow(napper, op.name)).rejects.toMatchObject({ code: "INVALID_FLOW_STATE" });
    await deliverDue();
    expect(await rt.getFlowState(napper, op.name)).toMatchObject({ done: true, result: { response: "AB" } });

    failOnce = true;
    const f = await rt.scheduleFlow(flaky, undefined);
    await deliverDue();
    expect((await rt.getFlowState(flaky, f.name)).metadata.status).toBe("failed");
    q.failures = 1;
    await expect(rt.retryFlow(flaky, f.name)).rejects.toMatchObject({ code: "QUEUE_UNAVAILABLE" });
    await expect(rt.retryFlow(flaky, f.name)).rejects.toMatchObject({ code: "INVALID_FLOW_STATE" });
    await deliverDue();
    expect(await rt.getFlowState(flaky, f.name)).toMatchObject({ done: true, result: { response: "ok" } });
  });
});

describe("a store error while storing a step's result fails the delivery, not the flow", () => {
  for (const landed of [false, true]) {
    it(`the flow is redelivered and finishes (the failed write ${landed ? "had landed" : "had not landed"})`, async () => {
      ran.length = 0;
      const inner = createMemoryStore();
      let failStepB = true;
      const store: FlowStore = {
        ...inner,
        maxValueBytes: inner.maxValueBytes,
        async commit(id, c) {
          if (failStepB && c.steps?.some((s) => s.key === "b")) {
            failStepB = false;
            if (landed) await inner.commit(id, c);
            throw new StoreUnavailableError("Firestore is unavailable (injected); try again later.");
          }
          return inner.commit(id, c);
        },
      };
      const { clock, q, rt, deliverDue } = setup(store);
      const op = await rt.scheduleFlow(napper, undefined);
      await deliverDue();
      clock.set(clock.now() + 61_000);
      const wake = q.tasks[0]!;
      await expect(rt.deliver(wake.task, { taskId: wake.dedupeKey })).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect((await store.get(op.name))!.status).toBe("running"); // not failed: the queue will redeliver
      expect(await rt.deliver(wake.task, { taskId: wake.dedupeKey })).toMatchObject({ result: "deferred", why: "another runner holds the lease" });
      clock.set(clock.now() + 31_000);
      await deliverDue();
      expect(await rt.getFlowState(napper, op.name)).toMatchObject({ done: true, result: { response: "AB" } });
      expect(ran).toEqual(landed ? ["a", "b"] : ["a", "b", "b"]);
    });
  }
});

describe("a lease watch that took a flow over is not ignored when it is redelivered", () => {
  it("stores the suspension, fails to enqueue the wake-up, and on redelivery enqueues it", async () => {
    ran.length = 0;
    const { clock, q, rt, store, deliverDue } = setup();
    const op = await rt.scheduleFlow(napper, undefined);
    const r = (await store.get(op.name))!;
    // A runner claims the flow and dies without writing again.
    await store.commit(op.name, { expectRev: r.rev, record: { ...r, rev: r.rev + 1, epoch: 1, status: "running", lease: { owner: "dead", until: clock.now() + 30_000 } } });
    await deliverDue(); // the start task finds the lease held and asks for a lease watch
    const watch = q.tasks.find((t) => t.task.reason === "lease")!;
    expect(watch).toBeDefined();
    clock.set(clock.now() + 31_000);
    q.failures = 1; // the wake-up of the nap cannot be enqueued
    await expect(rt.deliver(watch.task, { taskId: watch.dedupeKey })).rejects.toMatchObject({ code: "QUEUE_UNAVAILABLE" });
    expect((await store.get(op.name))!).toMatchObject({ status: "waiting", epoch: 2 });
    expect(await rt.deliver(watch.task, { taskId: watch.dedupeKey })).toMatchObject({ result: "deferred", why: "woken early" });
    q.tasks.splice(q.tasks.indexOf(watch), 1);
    clock.set(clock.now() + 61_000);
    await deliverDue();
    expect(await rt.getFlowState(napper, op.name)).toMatchObject({ done: true, result: { response: "AB" } });
    expect(ran).toEqual(["a", "b"]);
  });
});

describe("a resume that lands while the flow runs", () => {
  it("is not lost, and lets no second runner in", async () => {
    ran.length = 0;
    const { clock, q, rt, store, deliverDue } = setup();
    const op = await rt.scheduleFlow(gated, undefined);
    await deliverDue(); // naps and waits for the approval
    clock.set(clock.now() + 10_000);
    const wake = q.tasks.splice(0)[0]!;
    const running = rt.deliver(wake.task, { taskId: wake.dedupeKey }); // runs "b", which blocks
    while (!ran.includes("b")) await new Promise((r) => setTimeout(r, 1));
    await rt.resumeFlow(gated, op.name, { by: "ann" });
    expect((await store.get(op.name))!.status).toBe("running");
    for (const copy of [wake, ...q.tasks.splice(0)]) {
      expect(await rt.deliver(copy.task, { taskId: `${copy.dedupeKey}#copy` })).toMatchObject({ result: "deferred", why: "another runner holds the lease" });
    }
    openGate();
    await running; // stores "b", suspends on the interrupt it did not see answered: must be woken at once
    await deliverDue();
    expect(await rt.getFlowState(gated, op.name)).toMatchObject({ done: true, result: { response: "B approved by ann" } });
    expect(ran).toEqual(["b"]);
  });
});
