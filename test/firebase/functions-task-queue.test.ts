import type { getFunctions, TaskOptions } from "firebase-admin/functions";
import { describe, expect, expectTypeOf, it, vi } from "vitest";
import { isFirestepError } from "../../src/errors.js";
import { createFunctionsTaskQueue, type FunctionsLike, type FunctionsTaskQueueOptions } from "../../src/firebase/functions-task-queue.js";
import { MAX_SCHEDULE_AHEAD_MS } from "../../src/firebase/task-ids.js";
import type { WakeTask } from "../../src/schemas.js";

const NOW = Date.UTC(2030, 0, 1);
const DAY = 86_400_000;

interface Enqueued {
  queue: string;
  data: WakeTask;
  opts: TaskOptions;
}

/** Stands in for getFunctions(): records enqueues and refuses a reused id as firebase-admin does. */
function fakeFunctions() {
  const ids = new Set<string>();
  const enqueued: Enqueued[] = [];
  const calls: Enqueued[] = [];
  const failures: unknown[] = [];
  const functions: FunctionsLike = {
    taskQueue(queue) {
      return {
        async enqueue(data, opts) {
          calls.push({ queue, data, opts: opts! });
          const next = failures.shift();
          if (next !== undefined) throw next;
          if (opts?.id !== undefined && ids.has(opts.id)) {
            throw Object.assign(new Error(`A task with ID ${opts.id} already exists`), { code: "functions/task-already-exists" });
          }
          if (opts?.id !== undefined) ids.add(opts.id);
          enqueued.push({ queue, data, opts: opts! });
        },
      };
    },
  };
  return { functions, enqueued, calls, failures };
}

function makeQueue(fake: ReturnType<typeof fakeFunctions>, over: Partial<FunctionsTaskQueueOptions> = {}) {
  return createFunctionsTaskQueue({ functions: fake.functions, now: () => NOW, retry: { baseDelayMs: 1 }, ...over });
}

const wake = (over: Partial<WakeTask> = {}): WakeTask => ({ flowId: "order-1", flowName: "approveOrder", reason: "wake", at: NOW + 60_000, ...over });

describe("createFunctionsTaskQueue", () => {
  it("accepts firebase-admin's Functions service as it is", () => {
    expectTypeOf<ReturnType<typeof getFunctions>>().toExtend<FunctionsLike>();
  });

  it("enqueues the WakeTask to the flow's task function with a hashed id and the wake-up time", async () => {
    const fake = fakeFunctions();
    await makeQueue(fake).enqueue({ task: wake(), dedupeKey: "order-1|3|wake|1" });
    expect(fake.enqueued).toHaveLength(1);
    const [{ queue, data, opts }] = fake.enqueued;
    expect(queue).toBe("approveOrder");
    expect(data).toEqual(wake());
    expect(opts.id).toMatch(/^[0-9a-f]{64}$/);
    expect(opts.scheduleTime).toEqual(new Date(NOW + 60_000));
  });

  it("routes flows to the queue queueFor names", async () => {
    const fake = fakeFunctions();
    await makeQueue(fake, { queueFor: (flowName) => `locations/europe-west1/functions/firestep-${flowName}` }).enqueue({ task: wake(), dedupeKey: "k" });
    expect(fake.enqueued[0].queue).toBe("locations/europe-west1/functions/firestep-approveOrder");
  });

  it("asks Cloud Tasks to wait for a delivery as long as dispatchDeadlineFor says, and leaves its default otherwise", async () => {
    const fake = fakeFunctions();
    await makeQueue(fake, { dispatchDeadlineFor: (flowName) => (flowName === "approveOrder" ? 1200 : undefined) }).enqueue({ task: wake(), dedupeKey: "a" });
    await makeQueue(fake, { dispatchDeadlineFor: () => undefined }).enqueue({ task: wake(), dedupeKey: "b" });
    expect(fake.enqueued[0].opts.dispatchDeadlineSeconds).toBe(1200);
    expect(fake.enqueued[1].opts).not.toHaveProperty("dispatchDeadlineSeconds");
  });

  it("derives the same id from the same dedupe key and different ids from different keys", async () => {
    const fake = fakeFunctions();
    const queue = makeQueue(fake);
    await queue.enqueue({ task: wake(), dedupeKey: "order-1|3|wake|1" });
    await queue.enqueue({ task: wake(), dedupeKey: "order-1|4|wake|1" });
    await queue.enqueue({ task: wake(), dedupeKey: "order-1|3|wake|1" });
    const [first, other, again] = fake.calls.map((c) => c.opts.id);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(fake.enqueued).toHaveLength(2);
  });

  it("treats functions/task-already-exists as success", async () => {
    const fake = fakeFunctions();
    const queue = makeQueue(fake);
    await queue.enqueue({ task: wake(), dedupeKey: "k" });
    await expect(queue.enqueue({ task: wake(), dedupeKey: "k" })).resolves.toBeUndefined();
    expect(fake.enqueued).toHaveLength(1);
  });

  it("caps a wake-up more than 30 days out at the 29-day horizon and keeps the real time in the payload", async () => {
    const fake = fakeFunctions();
    const at = NOW + 45 * DAY;
    await makeQueue(fake).enqueue({ task: wake({ at }), dedupeKey: "far" });
    const [{ data, opts }] = fake.enqueued;
    expect(opts.scheduleTime).toEqual(new Date(NOW + MAX_SCHEDULE_AHEAD_MS));
    expect(data.at).toBe(at);
  });

  it("does not cap a wake-up within the horizon", async () => {
    const fake = fakeFunctions();
    const at = NOW + MAX_SCHEDULE_AHEAD_MS;
    await makeQueue(fake).enqueue({ task: wake({ at }), dedupeKey: "near" });
    expect(fake.enqueued[0].opts.scheduleTime).toEqual(new Date(at));
  });

  it("sends only the WakeTask's fields", async () => {
    const fake = fakeFunctions();
    const task = { ...wake(), journal: [{ value: "secret" }] } as unknown as WakeTask;
    await makeQueue(fake).enqueue({ task, dedupeKey: "k" });
    expect(fake.enqueued[0].data).toEqual(wake());
  });

  it("retries transient errors, then surfaces a FirestepError naming the flow", async () => {
    const fake = fakeFunctions();
    fake.failures.push(
      Object.assign(new Error("Error while making request: socket hang up. Error code: ECONNRESET"), { code: "app/network-error" }),
      Object.assign(new Error("Unexpected response with status: 503 and body: busy"), { code: "functions/unknown-error" }),
    );
    await makeQueue(fake).enqueue({ task: wake(), dedupeKey: "k" });
    expect(fake.calls).toHaveLength(3);
    expect(fake.enqueued).toHaveLength(1);

    for (let i = 0; i < 10; i++) fake.failures.push(Object.assign(new Error("internal"), { code: "functions/internal-error" }));
    const err = await makeQueue(fake, { retry: { attempts: 2, baseDelayMs: 1 } })
      .enqueue({ task: wake(), dedupeKey: "k2" })
      .catch((e: unknown) => e);
    expect(isFirestepError(err)).toBe(true);
    expect((err as Error).message).toMatch(/flow "order-1".*after 2 attempts/);
    expect(fake.calls).toHaveLength(5);
  });

  it("waits at most about 30 s between two tries, however many tries are allowed", async () => {
    vi.useFakeTimers();
    try {
      const fake = fakeFunctions();
      for (let i = 0; i < 25; i++) fake.failures.push(Object.assign(new Error("internal"), { code: "functions/internal-error" }));
      const settled = makeQueue(fake, { retry: { attempts: 25, baseDelayMs: 1000 } })
        .enqueue({ task: wake(), dedupeKey: "k" })
        .catch((e: unknown) => e);
      // 24 waits of at most 30 s plus 25 % jitter; doubling from 1 s without a cap would take days.
      await vi.advanceTimersByTimeAsync(24 * 37_500);
      expect(fake.calls).toHaveLength(25);
      expect(isFirestepError(await settled) && (await settled as { code: string }).code).toBe("QUEUE_UNAVAILABLE");
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not retry a permanent error", async () => {
    const fake = fakeFunctions();
    fake.failures.push(Object.assign(new Error("Queue does not exist"), { code: "functions/not-found" }));
    const err = await makeQueue(fake).enqueue({ task: wake(), dedupeKey: "k" }).catch((e: unknown) => e);
    expect(isFirestepError(err)).toBe(true);
    expect(fake.calls).toHaveLength(1);
  });
});
