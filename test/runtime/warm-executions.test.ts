import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { awaitFlows, createRuntime, defineFlow, interrupt, poll, run, sleep, startChild, type QueuedTask } from "../../src/index.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { createFakeClock, createTestRuntime, type TestRuntime } from "../../src/testing/index.js";

let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const continued = (rt: TestRuntime, flow: string) => rt.runtime.core.metrics.value("invocations_continued_total", { flow });
const replayed = (rt: TestRuntime, flow: string) => rt.runtime.core.metrics.value("steps_replayed_total", { flow });

let entered = 0;
const threeNaps = defineFlow({ name: "warm-three-naps", input: z.void(), output: z.array(z.string()) }, async () => {
  entered++;
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    out.push(await run(`step-${i}`, () => `s${i}`));
    await sleep(`nap-${i}`, 60);
  }
  return out;
});

describe("warm executions", () => {
  it.each([
    { how: "continues a flow that suspended in this process where it waits, replaying nothing", warmExecutions: 10, calls: 1, continuations: 3, replays: 0 },
    { how: "replays from the first step at every wake-up when warmExecutions is 0", warmExecutions: 0, calls: 4, continuations: 0, replays: 2 + 4 + 6 },
  ])("$how", async ({ warmExecutions, calls, continuations, replays }) => {
    entered = 0;
    t = createTestRuntime({ warmExecutions });
    const op = await t.run(threeNaps, undefined);
    expect(op.result).toEqual({ response: ["s0", "s1", "s2"] });
    expect(entered).toBe(calls);
    expect(continued(t, threeNaps.name)).toBe(continuations);
    expect(replayed(t, threeNaps.name)).toBe(replays);
  });

  const child = defineFlow({ name: "warm-child", input: z.number(), output: z.number() }, async (n) => {
    await sleep("think", n);
    return run("double", () => n * 2);
  });
  let flakyCalls = 0;
  let pollRounds = 0;
  const scenarios = defineFlow({ name: "warm-scenarios", input: z.void(), output: z.unknown() }, async () => {
    const parallel = await Promise.all([run("p-a", () => "a"), sleep("p-nap", 5).then(() => "napped"), run("p-b", async () => "b")]);
    const raced = await Promise.race([interrupt("p-ask", z.string()), sleep("p-timeout", 30).then(() => "timed out")]);
    const flaky = await run({ name: "flaky", retryConfig: { maxAttempts: 3, minBackoffSeconds: 10 } }, ({ attempt }) => {
      flakyCalls++;
      if (attempt < 3) throw new Error(`attempt ${attempt} failed`);
      return attempt;
    });
    await poll({ name: "ready", pollPeriodSeconds: 7 }, () => ++pollRounds >= 3);
    const handles = await Promise.all([1, 2].map((n) => startChild(`child-${n}`, child, n)));
    const ops = await awaitFlows("children-done", handles);
    return { parallel, raced, flaky, children: ops.map((o) => o.result) };
  });

  it("gives the same result and the same journal continued as replayed", async () => {
    const journals: unknown[] = [];
    for (const warmExecutions of [0, 10]) {
      flakyCalls = 0;
      pollRounds = 0;
      t = createTestRuntime({ warmExecutions });
      // One flow id in both runs, so the children's ids (derived from it) match too.
      const op = await (await t.start(scenarios, undefined, { flowId: "scenarios" })).settle();
      expect(op.result).toEqual({
        response: { parallel: ["a", "napped", "b"], raced: "timed out", flaky: 3, children: [{ response: 2 }, { response: 4 }] },
      });
      expect(flakyCalls).toBe(3);
      expect(pollRounds).toBe(3);
      if (warmExecutions > 0) expect(continued(t, scenarios.name)).toBeGreaterThan(3);
      journals.push((await t.handle(scenarios, op.name).steps()).map((s) => [s.key, s.kind, s.ok, s.value]));
      await t.close();
      t = undefined;
    }
    expect(journals[1]).toEqual(journals[0]);
  });

  it("replays instead when another runtime ran the flow since it suspended here", async () => {
    const effects: string[] = [];
    const flow = defineFlow({ name: "warm-two-runtimes", input: z.void(), output: z.string() }, async () => {
      let out = "";
      for (const s of ["a", "b", "c"]) {
        out += await run(s, () => (effects.push(s), s));
        await sleep(`nap-${s}`, 5);
      }
      return out;
    });
    const clock = createFakeClock();
    const store = createMemoryStore();
    const tasks: QueuedTask[] = [];
    const queue = { enqueue: async (task: QueuedTask) => void tasks.push(task) };
    const here = createRuntime({ store, queue, clock, warmExecutions: 10 });
    const there = createRuntime({ store, queue, clock, warmExecutions: 10 });
    const op = await here.scheduleFlow(flow, undefined);
    const next = () => tasks[tasks.length - 1]!.task;
    expect(await here.deliver(next())).toMatchObject({ result: "ran", outcome: "suspended" });
    clock.set(clock.now() + 10_000);
    expect(await there.deliver(next())).toMatchObject({ result: "ran", outcome: "suspended" });
    clock.set(clock.now() + 10_000);
    // `here` still holds its execution from before `there` ran step b: it must not continue it.
    expect(await here.deliver(next())).toMatchObject({ result: "ran", outcome: "suspended" });
    clock.set(clock.now() + 10_000);
    expect(await here.deliver(next())).toMatchObject({ result: "ran", outcome: "succeeded" });
    expect(effects).toEqual(["a", "b", "c"]);
    expect((await here.getFlowState(flow, op.name)).result).toEqual({ response: "abc" });
    expect(here.core.metrics.value("invocations_continued_total", { flow: flow.name })).toBe(1);
    expect(here.core.metrics.value("steps_replayed_total", { flow: flow.name })).toBe(4);
  });

  it("keeps at most warmExecutions flows, letting go of the one that suspended longest ago", async () => {
    let asked = 0;
    const ask = defineFlow({ name: "warm-ask", input: z.void(), output: z.string() }, async () => {
      asked++;
      return interrupt("name", z.string());
    });
    t = createTestRuntime({ warmExecutions: 2 });
    const handles = [];
    for (let i = 0; i < 3; i++) {
      const h = await t.start(ask, undefined);
      await h.settle();
      handles.push(h);
    }
    expect(t.runtime.core.warm.size).toBe(2);
    expect(asked).toBe(3);
    // The two kept are continued; the first was dropped to make room, so it replays.
    expect((await handles[2]!.resume("c")).result).toEqual({ response: "c" });
    expect((await handles[1]!.resume("b")).result).toEqual({ response: "b" });
    expect(asked).toBe(3);
    expect((await handles[0]!.resume("a")).result).toEqual({ response: "a" });
    expect(asked).toBe(4);
    expect(t.runtime.core.warm.size).toBe(0);
  });

  it("does not continue an execution whose code called a step after it suspended, and still finishes the flow right", async () => {
    const effects: string[] = [];
    const flow = defineFlow({ name: "warm-late-step", input: z.void(), output: z.string() }, async () => {
      const [, late] = await Promise.all([
        sleep("nap", 5),
        (async () => {
          // Not a step: a timer the engine cannot see, so the invocation ends before it fires.
          await new Promise((r) => setTimeout(r, 30));
          return run("late", () => (effects.push("late"), "late"));
        })(),
      ]);
      return late;
    });
    t = createTestRuntime({ warmExecutions: 10 });
    const h = await t.start(flow, undefined);
    await t.runtime.idle();
    await new Promise((r) => setTimeout(r, 60));
    const op = await h.settle();
    expect(op.result).toEqual({ response: "late" });
    expect(effects).toEqual(["late"]);
    expect(continued(t, flow.name)).toBe(0);
  });

  it("continues a flow that was paused and continued while it waited", async () => {
    t = createTestRuntime({ warmExecutions: 10 });
    const flow = defineFlow({ name: "warm-paused", input: z.void(), output: z.string() }, async () => {
      const said = await interrupt("ask", z.string());
      return run("answer", () => `said ${said}`);
    });
    const h = await t.start(flow, undefined);
    await h.settle();
    await t.runtime.pauseFlow(flow, h.id);
    await t.runtime.continueFlow(flow, h.id);
    expect((await h.resume("yes")).result).toEqual({ response: "said yes" });
    expect(continued(t, flow.name)).toBeGreaterThanOrEqual(1);
  });

  it("runs a cancelled warm flow's compensations by replay", async () => {
    const undone: string[] = [];
    const flow = defineFlow({ name: "warm-cancelled", input: z.void(), output: z.string() }, async () => {
      await run({ name: "book", compensate: () => void undone.push("book") }, () => "booked");
      return interrupt("confirm", z.string());
    });
    t = createTestRuntime({ warmExecutions: 10 });
    const h = await t.start(flow, undefined);
    await h.settle();
    expect(t.runtime.core.warm.size).toBe(1);
    await t.runtime.cancelFlow(flow, h.id);
    const op = await h.settle();
    expect(op.done).toBe(true);
    expect(undone).toEqual(["book"]);
    expect(t.runtime.core.warm.size).toBe(0);
  });
});
