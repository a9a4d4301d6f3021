import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { dagWaves, defineDagFlow, isFirestepError } from "../../src/index.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";
import { onScheduledFlow } from "../../src/firebase/on-scheduled-flow.js";
import { dagReport } from "../../examples/dag-report.js";

let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const anyIn = z.unknown();
const anyOut = z.unknown();

function defineError(steps: unknown): Error {
  try {
    defineDagFlow({ name: "invalidDag", input: anyIn, output: anyOut, steps: steps as never });
  } catch (e) {
    return e as Error;
  }
  throw new Error("defineDagFlow accepted an invalid graph");
}

describe("DAG validation at define time", () => {
  it("names the step and the dependency that does not exist", () => {
    const e = defineError({ "fetch-a": { run: () => 1 }, merge: { needs: ["fetch-a", "fetch-c"], run: () => 2 } });
    expect(isFirestepError(e) && e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toContain('Step "merge" of DAG flow "invalidDag" needs "fetch-c", which is not a step of this flow');
    expect(e.message).toContain("steps: fetch-a, merge");
  });

  it("names the cycle's path", () => {
    const e = defineError({
      start: { run: () => 0 },
      a: { needs: ["start", "b"], run: () => 1 },
      b: { needs: ["c"], run: () => 2 },
      c: { needs: ["a"], run: () => 3 },
    });
    expect(isFirestepError(e) && e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toContain("form a cycle: a -> b -> c -> a");
    expect(defineError({ a: { needs: ["a"], run: () => 1 } }).message).toContain("a -> a");
  });

  it("rejects an empty graph, invalid ids, a step without run and repeated needs", () => {
    expect(defineError({}).message).toMatch(/has no steps: give `steps` at least one entry/);
    expect(defineError({ "bad id": { run: () => 1 } }).message).toMatch(/Step id "bad id" .* is not allowed: use a letter/);
    expect(defineError({ $x: { run: () => 1 } }).message).toMatch(/Step id "\$x"/);
    expect(defineError({ a: { needs: [] } }).message).toMatch(/Step "a" .* needs a `run` function/);
    expect(defineError({ a: { run: () => 1 }, b: { needs: ["a", "a"], run: () => 1 } }).message).toMatch(/lists "a" twice/);
    expect(defineError({ a: { needs: "b", run: () => 1 }, b: { run: () => 1 } }).message).toMatch(/not an array of step ids/);
    for (const steps of [{}, { "bad id": { run: () => 1 } }, { a: { needs: [] } }]) expect(isFirestepError(defineError(steps))).toBe(true);
  });

  it("computes the waves of the graph", () => {
    expect(dagWaves(dagReport)).toEqual([["fetch-a", "fetch-b"], ["merge"], ["publish"]]);
    const wide = defineDagFlow({
      name: "wideDag",
      input: anyIn,
      output: anyOut,
      steps: { d: { needs: ["b", "c"], run: () => 0 }, c: { needs: ["a"], run: () => 0 }, b: { run: () => 0 }, a: { run: () => 0 } },
    });
    expect(dagWaves(wide)).toEqual([["b", "a"], ["c"], ["d"]]);
  });
});

describe("running a DAG flow", () => {
  it("runs the example end to end and returns the result built from typed outputs", async () => {
    t = createTestRuntime();
    const op = await t.run(dagReport, { day: "2026-01-01" });
    expect(op.result).toEqual({ response: { day: "2026-01-01", url: "https://reports.example.com/2026-01-01.html", total: 340 } });
  });

  it("deploys as a task queue function by handing its function to onScheduledFlow", async () => {
    const deployed = onScheduledFlow({ name: dagReport.name, input: dagReport.inputSchema, output: dagReport.outputSchema, region: "europe-west1" }, dagReport.fn);
    expect(dagWaves(deployed)).toEqual(dagWaves(dagReport));
    t = createTestRuntime();
    const op = await t.run(deployed, { day: "d" });
    expect(op.result).toMatchObject({ response: { url: "https://reports.example.com/d.html" } });
  });

  it("starts independent steps together and a dependent only once all its needs finished", async () => {
    const log: string[] = [];
    const gates = { a: deferred(), b: deferred() };
    const bothStarted = deferred();
    const gated = (id: "a" | "b") => async () => {
      log.push(`start ${id}`);
      if (log.filter((l) => l.startsWith("start")).length === 2) bothStarted.resolve();
      await gates[id].promise;
      log.push(`end ${id}`);
      return id.toUpperCase();
    };
    const flow = defineDagFlow({
      name: "dagParallelStart",
      input: z.void(),
      output: z.object({ merge: z.string() }),
      steps: {
        a: { run: gated("a") },
        b: { run: gated("b") },
        merge: {
          needs: ["a", "b"],
          run: ({ outputs }) => {
            log.push("start merge");
            return `${String(outputs.a)}+${String(outputs.b)}`;
          },
        },
      },
    });
    t = createTestRuntime();
    const events: string[] = [];
    t.runtime.subscribe((e) => e.step && !e.step.startsWith("$") && events.push(`${e.type} ${e.step}`));
    const h = await t.start(flow, undefined);
    await bothStarted.promise;
    expect(log).toEqual(["start a", "start b"]);
    gates.b.resolve();
    gates.a.resolve();
    const op = await h.settle();
    expect(op.result).toEqual({ response: { merge: "A+B" } });
    expect(log.indexOf("start merge")).toBeGreaterThan(log.indexOf("end a"));
    expect(log.indexOf("start merge")).toBeGreaterThan(log.indexOf("end b"));
    // The live events show the two running together: both started before either completed.
    const firstCompleted = events.findIndex((e) => e.startsWith("step.completed"));
    expect(events.indexOf("step.started a")).toBeLessThan(firstCompleted);
    expect(events.indexOf("step.started b")).toBeLessThan(firstCompleted);
    const steps = await h.steps();
    const byKey = Object.fromEntries(steps.map((s) => [s.key, s]));
    expect(byKey.merge!.startedAt).toBeGreaterThanOrEqual(Math.max(byKey.a!.endedAt, byKey.b!.endedAt));
  });

  it("starts each dependent as soon as its own needs finish, not wave by wave", async () => {
    const log: string[] = [];
    const gates = { a: deferred(), b: deferred() };
    const afterBStarted = deferred();
    const flow = defineDagFlow({
      name: "dagEagerStart",
      input: z.void(),
      output: z.unknown(),
      steps: {
        a: { run: async () => (await gates.a.promise, "a") },
        b: { run: async () => (await gates.b.promise, "b") },
        afterA: { needs: ["a"], run: ({ outputs }) => (log.push("afterA"), `${String(outputs.a)}!`) },
        afterB: { needs: ["b"], run: ({ outputs }) => (log.push("afterB"), afterBStarted.resolve(), `${String(outputs.b)}!`) },
      },
    });
    t = createTestRuntime();
    const h = await t.start(flow, undefined);
    gates.b.resolve();
    await afterBStarted.promise;
    expect(log).toEqual(["afterB"]);
    gates.a.resolve();
    const op = await h.settle();
    expect(log).toEqual(["afterB", "afterA"]);
    expect(op.result).toEqual({ response: { afterA: "a!", afterB: "b!" } });
  });

  it("gives each step only the outputs of its needs, as copies", async () => {
    const seen: Record<string, unknown> = {};
    const flow = defineDagFlow({
      name: "dagOwnOutputs",
      input: z.object({ k: z.number() }),
      output: z.unknown(),
      steps: {
        x: { run: ({ input }) => ({ v: input.k }) },
        y: { run: () => 2 },
        z: {
          needs: ["x"],
          run: ({ outputs }) => {
            seen.z = structuredClone(outputs);
            (outputs.x as { v: number }).v = 99;
            return 3;
          },
        },
        w: { needs: ["x", "y", "z"], run: ({ outputs }) => ((seen.w = outputs), "done") },
      },
    });
    t = createTestRuntime();
    const op = await t.run(flow, { k: 1 });
    expect(op.result).toEqual({ response: { w: "done" } });
    expect(seen).toEqual({ z: { x: { v: 1 } }, w: { x: { v: 1 }, y: 2, z: 3 } });
  });

  it("replays after a suspension without re-running completed steps, whatever order they completed in", async () => {
    const calls: Record<string, number> = {};
    const count = (k: string) => (calls[k] = (calls[k] ?? 0) + 1);
    const flow = defineDagFlow({
      name: "dagReplay",
      input: z.void(),
      output: z.unknown(),
      steps: {
        // Declared first but completes last, so the first run starts dependents in another order than a replay would race them.
        slow: { run: async () => (count("slow"), await new Promise((r) => setTimeout(r, 30)), "S") },
        fast: { run: () => (count("fast"), "F") },
        flaky: {
          needs: ["fast"],
          retryConfig: { maxAttempts: 3, minBackoffSeconds: 60 },
          run: ({ attempt, outputs }) => {
            count("flaky");
            if (attempt === 1) throw new Error("flaky the first time");
            return `${String(outputs.fast)}${attempt}`;
          },
        },
        afterSlow: { needs: ["slow"], run: ({ outputs }) => (count("afterSlow"), `${String(outputs.slow)}!`) },
        end: { needs: ["flaky", "afterSlow"], run: ({ outputs }) => (count("end"), `${String(outputs.flaky)}/${String(outputs.afterSlow)}`) },
      },
    });
    t = createTestRuntime();
    const h = await t.start(flow, undefined);
    await t.runtime.idle();
    expect((await h.record()).status).toBe("waiting");
    expect(calls).toEqual({ slow: 1, fast: 1, flaky: 1, afterSlow: 1 });
    const op = await h.settle();
    expect(op.result).toEqual({ response: { end: "F2/S!" } });
    expect(calls).toEqual({ slow: 1, fast: 1, flaky: 2, afterSlow: 1, end: 1 });
    const keys = (await h.steps()).map((s) => s.key).filter((k) => !k.startsWith("$"));
    expect(keys.sort()).toEqual(["afterSlow", "end", "fast", "flaky", "slow"]);
  });

  it("fails the flow when a step fails, and never starts its dependents", async () => {
    const ran: string[] = [];
    const flow = defineDagFlow({
      name: "dagFailure",
      input: z.void(),
      output: z.unknown(),
      steps: {
        broken: { run: () => (ran.push("broken"), Promise.reject(new Error("source is down"))) },
        other: { run: async () => (ran.push("other"), await new Promise((r) => setTimeout(r, 5)), 1) },
        usesBroken: { needs: ["broken"], run: () => (ran.push("usesBroken"), 1) },
        last: { needs: ["usesBroken", "other"], run: () => (ran.push("last"), 1) },
      },
    });
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(op.result).toMatchObject({ error: { message: "source is down" } });
    expect(ran.sort()).toEqual(["broken", "other"]);
    const steps = await t.handle(flow, op.name).steps();
    expect(steps.find((s) => s.key === "broken")).toMatchObject({ ok: false });
  });

  it("fails the flow only after the failing step's retries, its dependents never started", async () => {
    const ran: string[] = [];
    const flow = defineDagFlow({
      name: "dagFailureAfterRetries",
      input: z.void(),
      output: z.unknown(),
      steps: {
        ok: { run: () => (ran.push("ok"), 1) },
        flaky: { retryConfig: { maxAttempts: 3, minBackoffSeconds: 1 }, run: ({ attempt }) => (ran.push(`flaky#${attempt}`), Promise.reject(new Error("still down"))) },
        next: { needs: ["ok", "flaky"], run: () => (ran.push("next"), 1) },
      },
    });
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(op.result).toMatchObject({ error: { code: "STEP_FAILED" } });
    expect((op.result as { error: { message: string } }).error.message).toMatch(/Step "flaky" failed after 3 attempts: still down/);
    expect(ran).toEqual(["ok", "flaky#1", "flaky#2", "flaky#3"]);
  });

  it("returns the sink steps' outputs by default and rejects a flow that is not a DAG in dagWaves", async () => {
    const flow = defineDagFlow({
      name: "dagSinks",
      input: z.void(),
      output: z.record(z.string(), z.unknown()),
      steps: { root: { run: () => 0 }, left: { needs: ["root"], run: () => false }, right: { needs: ["root"], run: () => "" } },
    });
    t = createTestRuntime();
    expect((await t.run(flow, undefined)).result).toEqual({ response: { left: false, right: "" } });
    const { defineFlow } = await import("../../src/index.js");
    const plain = defineFlow({ name: "notADag", input: z.void(), output: z.void() }, async () => undefined);
    expect(() => dagWaves(plain)).toThrow(/is not a DAG flow/);
  });
});
