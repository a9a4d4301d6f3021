/**
 * The lease a runner holds on the flow it runs: claimed for `leaseSeconds` (default 60), and renewed by a
 * heartbeat every third of a lease while a step runs long, so another runtime on the same store sees the
 * runner alive and does not take the flow over. Time moves on a fake clock shared by both runtimes.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createRuntime, defineFlow, run, type QueuedTask, type WakeTask } from "../../src/index.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { createFakeClock } from "../../src/testing/index.js";

function recordingQueue() {
  const tasks: QueuedTask[] = [];
  return { tasks, queue: { enqueue: async (t: QueuedTask) => void tasks.push(t) } };
}

/** A flow whose one step runs until the test lets it finish. */
function gatedFlow(name: string) {
  const calls: number[] = [];
  let release = () => {};
  const flow = defineFlow({ name, input: z.void(), output: z.string() }, async () =>
    run("long step", async () => {
      calls.push(calls.length + 1);
      await new Promise<void>((r) => (release = r));
      return "done";
    }),
  );
  return { flow, calls, release: () => release() };
}

async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !ready(); i++) await new Promise((r) => setImmediate(r));
  expect(ready(), "the step never started").toBe(true);
}

describe("the runtime's lease", () => {
  it("claims a flow for leaseSeconds (in seconds), and for 60 s by default", async () => {
    for (const [leaseSeconds, expectedMs] of [[30, 30_000], [undefined, 60_000]] as const) {
      const clock = createFakeClock();
      const store = createMemoryStore();
      const { tasks, queue } = recordingQueue();
      const rt = createRuntime({ store, queue, clock, owner: "runner-a", ...(leaseSeconds ? { leaseSeconds } : {}) });
      const { flow, calls, release } = gatedFlow(`leaseLength${leaseSeconds ?? "Default"}`);
      const op = await rt.scheduleFlow(flow, undefined);
      const claimedAt = clock.now();
      const delivery = rt.deliver(tasks[0]!.task);
      await until(() => calls.length === 1);
      const r = (await store.get(op.name))!;
      expect(r.status).toBe("running");
      expect(r.lease).toEqual({ owner: "runner-a", until: claimedAt + expectedMs });
      release();
      expect(await delivery).toMatchObject({ result: "ran", outcome: "succeeded" });
      await rt.close();
    }
  });

  it("renews the lease while a step runs longer than a lease, so a second runtime on the same store cannot take the flow over", async () => {
    const clock = createFakeClock();
    const store = createMemoryStore();
    const a = recordingQueue();
    const b = recordingQueue();
    const rtA = createRuntime({ store, queue: a.queue, clock, owner: "runner-a", leaseSeconds: 30 });
    const rtB = createRuntime({ store, queue: b.queue, clock, owner: "runner-b", leaseSeconds: 30 });
    const { flow, calls, release } = gatedFlow("leaseHeartbeat");
    const op = await rtA.scheduleFlow(flow, undefined);
    const start = a.tasks[0]!.task;
    const delivery = rtA.deliver(start);
    await until(() => calls.length === 1);
    const claimed = (await store.get(op.name))!;

    // Two and a half minutes, five leases, in 5 s steps: the stored lease never runs out.
    const renewals = new Set<number>();
    for (let elapsed = 0; elapsed < 150_000; elapsed += 5_000) {
      await clock.advance(5_000);
      const r = (await store.get(op.name))!;
      expect(r.lease?.owner, `at +${elapsed + 5_000} ms`).toBe("runner-a");
      expect(r.lease!.until, `at +${elapsed + 5_000} ms the lease has run out`).toBeGreaterThan(clock.now());
      renewals.add(r.lease!.until);
      const took: WakeTask = { ...start, reason: "lease", at: clock.now() };
      expect(await rtB.deliver(took), `at +${elapsed + 5_000} ms`).toMatchObject({ result: "deferred", why: "another runner holds the lease" });
    }
    expect(renewals.size).toBeGreaterThanOrEqual(150 / 10 - 1); // renewed about every 10 s (a third of the lease)
    expect(calls).toEqual([1]);

    release();
    expect(await delivery).toMatchObject({ result: "ran", outcome: "succeeded" });
    const done = (await store.get(op.name))!;
    expect(done.status).toBe("succeeded");
    expect(done.epoch).toBe(claimed.epoch);
    expect(done.lease).toBeUndefined();
    // rtB's lease watches, now due, find the flow finished and leave it.
    for (const t of b.tasks) expect(await rtB.deliver({ ...t.task, at: clock.now() })).toMatchObject({ result: "ignored", why: "flow is succeeded" });
    expect(calls).toEqual([1]);
    expect(await rtA.getFlowState(flow, op.name)).toMatchObject({ done: true, result: { response: "done" } });
    await rtA.close();
    await rtB.close();
  });
});
