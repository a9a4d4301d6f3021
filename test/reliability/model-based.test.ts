/**
 * Model-based test (fast-check): random sequences of schedule, deliver (up to three copies at once), crash (a
 * delivery dies at a chosen store write; its task is redelivered later), fault (one store write or enqueue of a
 * delivery fails and the process lives on), resume (good or bad payload, the queue possibly down),
 * pause, continue, cancel and clock jumps, checked after every command against a model of what each flow's
 * state must be. Ends by draining everything: every flow not cancelled finishes with the right output, and
 * no step whose result was stored ran again. Long variant (FIRESTEP_LONG=1): many more runs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createRuntime, defineFlow, interrupt, isFirestepError, QueueUnavailableError, run, sleep, StoreUnavailableError, type FlowRecord, type FlowStore, type QueuedTask,
} from "../../src/index.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { createFakeClock } from "../../src/testing/index.js";
import { LONG } from "./support/crash-harness.js";
import { EffectLog } from "./support/faults.js";

const effects = new EffectLog();
const modelFlow = defineFlow({ name: "reliabilityModelFlow", input: z.object({ id: z.string() }), output: z.number() }, async ({ id }) => {
  const a = await run("a", () => effects.run(id, "a", 1));
  await sleep("nap", 3600);
  const b = await run({ name: "b", retryConfig: { maxAttempts: 3, minBackoffSeconds: 60 } }, ({ attempt }) => effects.run(id, "b", 10, attempt === 1));
  const { n } = await interrupt("approve", z.object({ n: z.number() }));
  const c = await run("c", () => effects.run(id, "c", 100));
  return a.v + b.v + c.v + n;
});
const OUTPUT = 1111;

type Cmd =
  | { t: "schedule" }
  | { t: "deliver"; pick: number; copies: number }
  | { t: "crash"; pick: number; at: number; after: boolean }
  | { t: "fault"; pick: number; at: number; after: boolean; where: "commit" | "enqueue" }
  | { t: "resume"; pick: number; good: boolean; queueDown: boolean }
  | { t: "pause" | "continue" | "cancel"; pick: number }
  | { t: "advance"; ms: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ t: "schedule" as const }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant("deliver" as const), pick: fc.nat(), copies: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("crash" as const), pick: fc.nat(), at: fc.integer({ min: 1, max: 4 }), after: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("fault" as const), pick: fc.nat(), at: fc.integer({ min: 1, max: 4 }), after: fc.boolean(), where: fc.constantFrom("commit" as const, "enqueue" as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("resume" as const), pick: fc.nat(), good: fc.boolean(), queueDown: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constantFrom("pause" as const, "continue" as const, "cancel" as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("advance" as const), ms: fc.oneof(fc.constantFrom(1_000, 31_000, 61_000, 3_600_000), fc.integer({ min: 0, max: 7_200_000 })) }) },
);

interface Model {
  control: "active" | "paused" | "cancelled" | "succeeded";
  answered: boolean;
  crashes: number;
}

class Crash extends Error {}

/** A store and queue that fail once, at the `at`-th commit or enqueue (a commit possibly after it landed), then work. */
function flakyOnce(inner: FlowStore, enqueue: (t: QueuedTask) => Promise<void>, cmd: { at: number; after: boolean; where: "commit" | "enqueue" }) {
  let n = 0;
  const hit = (where: string) => where === cmd.where && ++n === cmd.at;
  return {
    store: {
      ...inner,
      maxValueBytes: inner.maxValueBytes,
      async commit(id: string, c: Parameters<FlowStore["commit"]>[1]) {
        if (!hit("commit")) return inner.commit(id, c);
        if (cmd.after) await inner.commit(id, c);
        throw new StoreUnavailableError("injected: the store is unavailable");
      },
    } as FlowStore,
    queue: {
      async enqueue(t: QueuedTask) {
        if (!hit("enqueue")) return enqueue(t);
        throw new QueueUnavailableError("injected: the queue is unavailable");
      },
    },
  };
}

/** A store (and queue) of a process that dies at its `at`-th commit, before or after the write lands. */
function dyingStore(inner: FlowStore, at: number, after: boolean): { store: FlowStore; dead: () => boolean } {
  let commits = 0;
  let dead = false;
  const alive = <T>(f: () => Promise<T>) => (dead ? Promise.reject(new Crash("dead")) : f());
  return {
    dead: () => dead,
    store: {
      create: (r, e) => alive(() => inner.create(r, e)),
      get: (id) => alive(() => inner.get(id)),
      load: (id) => alive(() => inner.load(id)),
      history: (id) => alive(() => inner.history(id)),
      list: (q) => alive(() => inner.list(q)),
      delete: (id, rev) => alive(() => inner.delete(id, rev)),
      maxValueBytes: inner.maxValueBytes,
      commit: (id, c) =>
        alive(async () => {
          if (++commits < at) return inner.commit(id, c);
          if (!after) {
            dead = true;
            throw new Crash("died before the write");
          }
          const r = await inner.commit(id, c);
          dead = true;
          throw new Crash(`died after the write (rev ${r.rev})`);
        }),
    },
  };
}

async function runCommands(cmds: Cmd[]): Promise<void> {
  const clock = createFakeClock();
  const store = createMemoryStore();
  const tasks: QueuedTask[] = [];
  const keys = new Set<string>();
  const enqueue = async (t: QueuedTask) => void (keys.has(t.dedupeKey) || (keys.add(t.dedupeKey), tasks.push(t)));
  const rt = createRuntime({ store, queue: { enqueue }, clock, leaseSeconds: 30, logger: () => {} });
  const model = new Map<string, Model>();
  const ids: string[] = [];
  const flowAt = (pick: number) => (ids.length ? ids[pick % ids.length]! : undefined);
  const due = () => tasks.filter((t) => t.task.at <= clock.now());
  const record = async (id: string) => (await store.get(id))!;
  const code = (e: unknown) => (isFirestepError(e) ? e.code : String(e));
  const effectCount = (id: string) => effects.lines.filter((l) => l.flow === id).length;

  /** The model after a delivery: a flow may only have finished if it was active and answered. */
  const observe = async () => {
    for (const id of ids) {
      const m = model.get(id)!;
      const r = await record(id);
      const allowed: Record<Model["control"], FlowRecord["status"][]> = {
        active: ["scheduled", "running", "waiting", "succeeded"],
        paused: ["paused"],
        cancelled: ["cancelled"],
        succeeded: ["succeeded"],
      };
      expect(allowed[m.control], `${id}: model ${JSON.stringify(m)} but stored ${r.status}`).toContain(r.status);
      if (r.status === "succeeded" && m.control === "active") {
        expect(m.answered, `${id} finished without its approval`).toBe(true);
        expect(r.output).toEqual({ value: OUTPUT });
        m.control = "succeeded";
      }
      const loaded = (await store.load(id))!;
      expect(loaded.steps.length, `${id}: stepCount`).toBe(r.stepCount);
      expect(new Set(loaded.steps.map((s) => s.key)).size, `${id}: a step journaled twice`).toBe(loaded.steps.length);
    }
  };

  /** A refused call leaves the stored record exactly as it was. */
  const refused = async (id: string, call: () => Promise<unknown>, expected: string) => {
    const before = await store.load(id);
    const err = await call().then(() => undefined, (e: unknown) => e);
    expect(code(err), `${id}: expected ${expected}`).toBe(expected);
    expect(await store.load(id)).toEqual(before);
  };

  for (const cmd of cmds) {
    switch (cmd.t) {
      case "schedule": {
        if (ids.length >= 4) break;
        const id = `m-${ids.length}`;
        await rt.scheduleFlow(modelFlow, { id }, { flowId: id });
        ids.push(id);
        model.set(id, { control: "active", answered: false, crashes: 0 });
        break;
      }
      case "deliver": {
        const ready = due();
        if (!ready.length) break;
        const t = ready[cmd.pick % ready.length]!;
        const quiet = ids.filter((id) => model.get(id)!.control !== "active").map((id) => [id, effectCount(id)] as const);
        await Promise.all(Array.from({ length: cmd.copies }, (_, i) => rt.deliver(t.task, { taskId: `${t.dedupeKey}#${i}` })));
        tasks.splice(tasks.indexOf(t), 1);
        for (const [id, n] of quiet) expect(effectCount(id), `${id} ran a step while ${model.get(id)!.control}`).toBe(n);
        break;
      }
      case "crash": {
        const ready = due();
        if (!ready.length) break;
        const t = ready[cmd.pick % ready.length]!;
        const dying = dyingStore(store, cmd.at, cmd.after);
        const doomed = createRuntime({ store: dying.store, queue: { enqueue: (x) => (dying.dead() ? Promise.reject(new Crash("dead")) : enqueue(x)) }, clock, leaseSeconds: 30, logger: () => {} });
        const result = await doomed.deliver(t.task, { taskId: t.dedupeKey }).then(() => "done", (e: unknown) => e);
        if (result === "done") tasks.splice(tasks.indexOf(t), 1); // it finished before its chosen write
        else {
          expect(result, "a delivery failed with something other than the crash").toBeInstanceOf(Crash);
          model.get(t.task.flowId)!.crashes++; // the task stays queued: it is redelivered
        }
        break;
      }
      case "fault": {
        const ready = due();
        if (!ready.length) break;
        const t = ready[cmd.pick % ready.length]!;
        const flaky = flakyOnce(store, enqueue, cmd);
        const hurt = createRuntime({ store: flaky.store, queue: flaky.queue, clock, leaseSeconds: 30, logger: () => {} });
        const result = await hurt.deliver(t.task, { taskId: t.dedupeKey }).then(() => "done", (e: unknown) => e);
        if (result === "done") tasks.splice(tasks.indexOf(t), 1);
        else {
          // The delivery must fail so that the queue redelivers it; it may not have failed the flow.
          expect(code(result), "a delivery failed with something other than the injected fault").toMatch(/^(STORE|QUEUE)_UNAVAILABLE$/);
          model.get(t.task.flowId)!.crashes++;
        }
        break;
      }
      case "resume": {
        const id = flowAt(cmd.pick);
        if (!id) break;
        const m = model.get(id)!;
        const r = await record(id);
        const reached = r.waits.some((w) => w.kind === "interrupt");
        const accepts = (m.control === "active" || m.control === "paused") && !m.answered && reached;
        if (cmd.good && accepts) {
          if (cmd.queueDown) {
            // The change is stored but its wake-up is not enqueued: the caller sees an error and calls again.
            const flaky = flakyOnce(store, enqueue, { at: 1, after: false, where: "enqueue" });
            const hurt = createRuntime({ store, queue: flaky.queue, clock, leaseSeconds: 30, logger: () => {} });
            const first = await hurt.resumeFlow(modelFlow, id, { n: 1000 }).then(() => undefined, (e: unknown) => e);
            if (first !== undefined) {
              expect(code(first)).toBe("QUEUE_UNAVAILABLE");
              await refused(id, () => rt.resumeFlow(modelFlow, id, { n: 1000 }), "NOT_BLOCKED_ON_INTERRUPT");
            }
          } else await rt.resumeFlow(modelFlow, id, { n: 1000 });
          m.answered = true;
        } else await refused(id, () => rt.resumeFlow(modelFlow, id, cmd.good ? { n: 1000 } : { n: "lots" }), accepts ? "INVALID_PAYLOAD" : "NOT_BLOCKED_ON_INTERRUPT");
        break;
      }
      case "pause":
      case "continue":
      case "cancel": {
        const id = flowAt(cmd.pick);
        if (!id) break;
        const m = model.get(id)!;
        const ok = cmd.t === "pause" ? m.control === "active" : cmd.t === "continue" ? m.control === "paused" : m.control === "active" || m.control === "paused";
        const call = () => (cmd.t === "pause" ? rt.pauseFlow(modelFlow, id) : cmd.t === "continue" ? rt.continueFlow(modelFlow, id) : rt.cancelFlow(modelFlow, id, "model"));
        if (!ok) {
          await refused(id, call, "INVALID_FLOW_STATE");
          break;
        }
        await call();
        m.control = cmd.t === "pause" ? "paused" : cmd.t === "continue" ? "active" : "cancelled";
        break;
      }
      case "advance":
        clock.set(clock.now() + cmd.ms);
        break;
    }
    await observe();
  }

  // Drain: continue what is paused, answer what waits, deliver everything in time order.
  for (let round = 0; round < 500; round++) {
    for (const id of ids) {
      const m = model.get(id)!;
      if (m.control === "paused") {
        await rt.continueFlow(modelFlow, id);
        m.control = "active";
      }
      const r = await record(id);
      if (m.control === "active" && !m.answered && r.waits.some((w) => w.kind === "interrupt")) {
        await rt.resumeFlow(modelFlow, id, { n: 1000 });
        m.answered = true;
      }
    }
    await observe();
    if (ids.every((id) => model.get(id)!.control === "succeeded" || model.get(id)!.control === "cancelled")) break;
    if (!tasks.length) throw new Error(`stuck with no task queued: ${JSON.stringify(await Promise.all(ids.map(record)))}`);
    tasks.sort((x, y) => x.task.at - y.task.at);
    const t = tasks.shift()!;
    if (t.task.at > clock.now()) clock.set(t.task.at);
    await rt.deliver(t.task, { taskId: t.dedupeKey });
  }
  for (const id of ids) {
    const m = model.get(id)!;
    expect(["succeeded", "cancelled"], `${id} did not finish`).toContain(m.control);
    const loaded = (await store.load(id))!;
    if (m.control === "succeeded") {
      expect(effects.check(id, loaded.steps, ["a", "b", "c"], loaded.record.stepCount)).toEqual([]);
      for (const key of ["a", "b", "c"]) expect(effects.executions(id, key), `${id}/${key}`).toBeLessThanOrEqual(1 + m.crashes);
    }
  }
}

describe("model-based: random schedules, deliveries, crashes, resumes, pauses, cancels and clock jumps", () => {
  it("keeps every flow in the state the model allows, and finishes every flow not cancelled", async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(cmdArb, { minLength: 5, maxLength: 60 }), async (cmds) => {
        effects.lines.length = 0;
        round++;
        await runCommands([{ t: "schedule" }, ...cmds]);
      }),
      { numRuns: LONG ? 3000 : 150 },
    );
    if (LONG) console.log(`[long-run] model-based: ${round} command sequences (shrinking included)`);
  }, LONG ? 3600_000 : 60_000);
});
