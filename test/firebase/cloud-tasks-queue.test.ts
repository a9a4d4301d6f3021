import type { CloudTasksClient } from "@google-cloud/tasks";
import { describe, expect, expectTypeOf, it } from "vitest";
import { isFirestepError } from "../../src/errors.js";
import { createCloudTasksQueue, type CloudTaskRequest, type CloudTasksClientLike, type CloudTasksQueueOptions } from "../../src/firebase/cloud-tasks-queue.js";
import { MAX_SCHEDULE_AHEAD_MS } from "../../src/firebase/task-ids.js";
import type { WakeTask } from "../../src/schemas.js";

type CreateTaskRequest = CloudTaskRequest;

const NOW = Date.UTC(2030, 0, 1);
const DAY = 86_400_000;

/** Records createTask calls, refuses a repeated task name as Cloud Tasks does, and can fail the next calls. */
function fakeClient() {
  const tasks = new Map<string, NonNullable<CreateTaskRequest>>();
  const calls: NonNullable<CreateTaskRequest>[] = [];
  const failures: unknown[] = [];
  const client: CloudTasksClientLike = {
    async createTask(request: CreateTaskRequest) {
      calls.push(request!);
      const next = failures.shift();
      if (next !== undefined) throw next;
      const name = request!.task!.name!;
      if (tasks.has(name)) throw Object.assign(new Error(`6 ALREADY_EXISTS: Requested entity already exists`), { code: 6 });
      tasks.set(name, request!);
      return [request!.task!, undefined, undefined];
    },
  };
  return { client, tasks, calls, failures };
}

function makeQueue(fake: ReturnType<typeof fakeClient>, over: Partial<CloudTasksQueueOptions> = {}) {
  return createCloudTasksQueue({
    client: fake.client,
    project: "demo-firestep",
    location: "europe-west1",
    queue: "firestep-wake",
    url: "https://example.test/firestep/tasks",
    serviceAccountEmail: "tasks@demo-firestep.iam.gserviceaccount.com",
    now: () => NOW,
    retry: { baseDelayMs: 1 },
    ...over,
  });
}

const wake = (over: Partial<WakeTask> = {}): WakeTask => ({ flowId: "order-1", flowName: "approveOrder", reason: "wake", at: NOW + 60_000, ...over });
const only = <T>(m: Map<string, T>): T => {
  expect(m.size).toBe(1);
  return [...m.values()][0];
};
const bodyOf = (req: NonNullable<CreateTaskRequest>) => JSON.parse(Buffer.from(req.task!.httpRequest!.body as string, "base64").toString("utf8"));

describe("createCloudTasksQueue", () => {
  it("accepts @google-cloud/tasks' CloudTasksClient as it is", () => {
    expectTypeOf<CloudTasksClient>().toExtend<CloudTasksClientLike>();
  });

  it("gives each task the dispatch deadline asked for, per flow, and refuses one outside Cloud Tasks' 15 s to 30 min", async () => {
    const fake = fakeClient();
    await makeQueue(fake, { dispatchDeadlineSeconds: 1200 }).enqueue({ task: wake(), dedupeKey: "a" });
    await makeQueue(fake, { dispatchDeadlineSeconds: (flowName) => (flowName === "other" ? 60 : undefined) }).enqueue({ task: wake(), dedupeKey: "b" });
    expect(fake.calls.map((c) => c.task.dispatchDeadline)).toEqual([{ seconds: 1200 }, undefined]);
    let error: unknown;
    try {
      makeQueue(fake, { dispatchDeadlineSeconds: 3600 });
    } catch (e) {
      error = e;
    }
    expect(isFirestepError(error) && error.code).toBe("INVALID_ARGUMENT");
    expect(String(error)).toMatch(/15 to 1800.*got 3600/);
  });

  it("creates a named HTTP task under the queue's path, signed with an OIDC token for the URL", async () => {
    const fake = fakeClient();
    await makeQueue(fake).enqueue({ task: wake(), dedupeKey: "order-1|3|wake|1" });
    const req = only(fake.tasks);
    const parent = "projects/demo-firestep/locations/europe-west1/queues/firestep-wake";
    expect(req.parent).toBe(parent);
    expect(req.task!.name).toMatch(new RegExp(`^${parent}/tasks/[A-Za-z0-9_-]{1,500}$`));
    expect(req.task!.scheduleTime).toEqual({ seconds: (NOW + 60_000) / 1000, nanos: 0 });
    expect(req.task!.httpRequest).toMatchObject({
      httpMethod: "POST",
      url: "https://example.test/firestep/tasks",
      headers: { "Content-Type": "application/json" },
      oidcToken: { serviceAccountEmail: "tasks@demo-firestep.iam.gserviceaccount.com", audience: "https://example.test/firestep/tasks" },
    });
  });

  it("gives each dedupe key its own task id", async () => {
    const fake = fakeClient();
    const queue = makeQueue(fake);
    for (let rev = 0; rev < 50; rev++) await queue.enqueue({ task: wake(), dedupeKey: `order-1|${rev}|wake|1` });
    await queue.enqueue({ task: wake(), dedupeKey: "order-1|0|wake|2" });
    expect(fake.tasks.size).toBe(51);
  });

  it("creates one task for a dedupe key enqueued twice, and the second enqueue succeeds", async () => {
    const fake = fakeClient();
    const queue = makeQueue(fake);
    await queue.enqueue({ task: wake(), dedupeKey: "order-1|3|wake|1" });
    await expect(queue.enqueue({ task: wake(), dedupeKey: "order-1|3|wake|1" })).resolves.toBeUndefined();
    expect(fake.calls).toHaveLength(2);
    expect(fake.tasks.size).toBe(1);
  });

  it("schedules a wake-up more than 30 days out at the 29-day horizon, keeping the real time in the payload", async () => {
    const fake = fakeClient();
    const at = NOW + 90 * DAY + 123;
    await makeQueue(fake).enqueue({ task: wake({ at }), dedupeKey: "order-1|3|wake|far" });
    const req = only(fake.tasks);
    expect(req.task!.scheduleTime).toEqual({ seconds: (NOW + MAX_SCHEDULE_AHEAD_MS) / 1000, nanos: 0 });
    expect(bodyOf(req).at).toBe(at);
  });

  it("gives each capped hop of a far wake-up its own id, so the runtime's re-deferral with the same key is not swallowed", async () => {
    const fake = fakeClient();
    const at = NOW + 90 * DAY;
    let now = NOW;
    const queue = makeQueue(fake, { now: () => now });
    const key = "order-1|3|wake|far";
    for (const hop of [0, 1, 2, 3]) {
      now = NOW + hop * MAX_SCHEDULE_AHEAD_MS;
      await queue.enqueue({ task: wake({ at }), dedupeKey: key });
      await queue.enqueue({ task: wake({ at }), dedupeKey: key }); // a duplicate in the same hop is one task
    }
    expect(fake.tasks.size).toBe(4);
    const schedules = [...fake.tasks.values()].map((r) => Number(r.task!.scheduleTime!.seconds) * 1000);
    expect(schedules).toEqual([NOW + 29 * DAY, NOW + 58 * DAY, NOW + 87 * DAY, at]);
  });

  it("sends only the WakeTask, never step data or other fields", async () => {
    const fake = fakeClient();
    const task = { ...wake(), steps: [{ value: "secret step output" }], input: { card: "4242" } } as unknown as WakeTask;
    await makeQueue(fake).enqueue({ task, dedupeKey: "k" });
    const req = only(fake.tasks);
    expect(bodyOf(req)).toEqual(wake());
    expect(JSON.stringify(req)).not.toContain("secret");
  });

  it("uses per-flow queues, URLs and an explicit audience", async () => {
    const fake = fakeClient();
    const queue = makeQueue(fake, {
      queue: (flowName) => `q-${flowName}`,
      url: (flowName) => `https://example.test/${flowName}`,
      audience: "firestep-audience",
    });
    await queue.enqueue({ task: wake(), dedupeKey: "k" });
    const req = only(fake.tasks);
    expect(req.parent).toBe("projects/demo-firestep/locations/europe-west1/queues/q-approveOrder");
    expect(req.task!.httpRequest!.url).toBe("https://example.test/approveOrder");
    expect(req.task!.httpRequest!.oidcToken!.audience).toBe("firestep-audience");
  });

  it("retries transient errors and then succeeds", async () => {
    const fake = fakeClient();
    fake.failures.push(
      Object.assign(new Error("14 UNAVAILABLE: connection reset"), { code: 14 }),
      Object.assign(new Error("4 DEADLINE_EXCEEDED"), { code: 4 }),
      Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
    );
    await makeQueue(fake).enqueue({ task: wake(), dedupeKey: "k" });
    expect(fake.calls).toHaveLength(4);
    expect(fake.tasks.size).toBe(1);
  });

  it("treats already-exists on a retry (the lost first attempt went through) as success", async () => {
    const fake = fakeClient();
    const queue = makeQueue(fake);
    await queue.enqueue({ task: wake(), dedupeKey: "k" });
    fake.failures.push(Object.assign(new Error("13 INTERNAL"), { code: 13 }));
    await expect(queue.enqueue({ task: wake(), dedupeKey: "k" })).resolves.toBeUndefined();
    expect(fake.calls).toHaveLength(3);
  });

  it("surfaces a transient error as a FirestepError after the configured attempts", async () => {
    const fake = fakeClient();
    for (let i = 0; i < 10; i++) fake.failures.push(Object.assign(new Error("8 RESOURCE_EXHAUSTED: quota"), { code: 8 }));
    const err = await makeQueue(fake, { retry: { attempts: 3, baseDelayMs: 1 } })
      .enqueue({ task: wake(), dedupeKey: "k" })
      .catch((e: unknown) => e);
    expect(isFirestepError(err)).toBe(true);
    expect(err).toMatchObject({ code: "QUEUE_UNAVAILABLE" });
    expect((err as Error).message).toMatch(/order-1.*RESOURCE_EXHAUSTED.*after 3 attempts/);
    expect(fake.calls).toHaveLength(3);
  });

  it("does not retry a permanent error, and says what to check", async () => {
    const fake = fakeClient();
    fake.failures.push(Object.assign(new Error("5 NOT_FOUND: Queue does not exist"), { code: 5 }));
    const err = await makeQueue(fake).enqueue({ task: wake(), dedupeKey: "k" }).catch((e: unknown) => e);
    expect(isFirestepError(err)).toBe(true);
    expect((err as Error).message).toMatch(/Queue does not exist.*queue exists/);
    expect(fake.calls).toHaveLength(1);
  });

  it("rejects a task that is not a WakeTask before calling Cloud Tasks", async () => {
    const fake = fakeClient();
    const err = await makeQueue(fake).enqueue({ task: wake({ flowId: "" }), dedupeKey: "k" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(fake.calls).toHaveLength(0);
  });
});
