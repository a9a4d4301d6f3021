import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  awaitFlows, defineFlow, interrupt, NonRetriableError, patched, run, runMap, sleep, sleepUntil, startChild, waitForSignal,
} from "../../src/index.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";
import { allBackends } from "../support/backends.js";

const log: string[] = [];

const child = defineFlow({ name: "primChild", input: z.object({ n: z.number(), fail: z.boolean().default(false), nap: z.number().default(1) }), output: z.number() }, async ({ n, fail, nap }) => {
  await sleep("think", nap);
  if (fail) await run("explode", () => { throw new NonRetriableError(`child ${n} failed`); });
  return run("double", () => n * 2);
});

const parent = defineFlow({ name: "primParent", input: z.array(z.number()), output: z.array(z.unknown()) }, async (ns) => {
  const handles = await Promise.all(ns.map((n, i) => startChild(`child-${i}`, child, { n, fail: n < 0, nap: 1 })));
  const ops = await awaitFlows("children", handles);
  return ops.map((o) => o.result);
});

const longParent = defineFlow({ name: "primLongParent", input: z.void(), output: z.string() }, async () => {
  const h = await startChild("long-child", child, { n: 1, nap: 3600 });
  const kept = await startChild("kept-child", child, { n: 2, nap: 3600 }, { detached: true });
  await awaitFlows("wait", [h, kept]);
  return "never";
});

const saga = defineFlow({ name: "primSaga", input: z.object({ failAt: z.string() }), output: z.string() }, async ({ failAt }) => {
  for (const s of ["reserve", "charge", "ship"]) {
    await run({ name: s, compensate: () => void log.push(`undo ${s}`) }, () => {
      if (s === failAt) throw new NonRetriableError(`${s} failed`);
      log.push(`do ${s}`);
      return s;
    });
    if (s === "charge") await sleep("settle", 60);
  }
  return "done";
});

const fallbackFlow = defineFlow({ name: "primFallback", input: z.void(), output: z.string() }, async () =>
  run({ name: "primary", retryConfig: { maxAttempts: 2, minBackoffSeconds: 1 }, fallback: (e) => `fallback after: ${e.message}` }, () => {
    throw new Error("primary down");
  }),
);

const timeouts = defineFlow({ name: "primTimeouts", input: z.void(), output: z.unknown() }, async () => {
  const answer = await interrupt("approve", z.boolean(), { timeoutSeconds: 3600, timeoutValue: false });
  await sleepUntil("new-year", "2027-01-01T00:00:00Z");
  return answer;
});

const deadline = defineFlow({ name: "primDeadline", input: z.void(), output: z.string(), deadlineSeconds: 600 }, async () => {
  await sleep("too-long", 3600);
  return "late";
});

const signalled = defineFlow(
  {
    name: "primSignals",
    input: z.void(),
    output: z.array(z.number()),
    signals: { add: z.object({ n: z.number() }), stop: z.void() },
    queries: { total: (v) => Object.entries(v.steps).filter(([k]) => k.startsWith("signal:add")).reduce((t, [, s]) => t + (s as { payload: { n: number } }).payload.n, 0) },
  },
  async () => {
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push((await waitForSignal<{ n: number }>("add")).n);
    return got;
  },
);

let version = 1;
const evolving = defineFlow({ name: "primEvolving", input: z.void(), output: z.string() }, async () => {
  await run("a", () => "a");
  if (version === 2 && (await patched("add-audit"))) await run("audit", () => "audited");
  await sleep("gap", 10);
  return run("b", () => "b");
});

const mapped = defineFlow({ name: "primMap", input: z.array(z.number()), output: z.array(z.number()) }, async (xs) => {
  let active = 0;
  let peak = 0;
  const out = await runMap("square", xs, async (x) => {
    peak = Math.max(peak, ++active);
    await new Promise((r) => setTimeout(r, 2));
    active--;
    return x * x;
  }, { concurrency: 2 });
  log.push(`peak ${peak}`);
  await sleep("nap", 1);
  return out;
});

for (const backend of allBackends) {
  describe(`flow primitives on ${backend.name}`, () => {
    let t: TestRuntime;
    let cleanup: () => Promise<void>;
    const start = () => {
      const opened = backend.open();
      cleanup = opened.cleanup;
      t = createTestRuntime({ store: opened.store });
      return t;
    };
    afterEach(async () => {
      await t.close();
      await cleanup();
      log.length = 0;
      version = 1;
    });

    it("starts child flows, awaits them, and reports a failing child", async () => {
      start();
      const op = await t.run(parent, [1, -1, 3]);
      expect(op.result).toMatchObject({ response: [{ response: 2 }, { error: { code: "NON_RETRIABLE", message: "child -1 failed" } }, { response: 6 }] });
      const kids = (await t.runtime.listFlows({ flowName: "primChild" })).flows;
      expect(kids.every((k) => k.parentId === op.name)).toBe(true);
    });

    it("cancels a parent's children when the parent is cancelled, except detached ones", async () => {
      start();
      const h = await t.start(longParent, undefined);
      await t.runtime.idle();
      await t.clock.advance(1000);
      await t.runtime.idle();
      await t.runtime.cancelFlow(longParent, h.id);
      await t.runtime.idle();
      const kids = (await t.runtime.listFlows({ flowName: "primChild" })).flows;
      expect(kids.map((k) => k.status).sort()).toEqual(["cancelled", "waiting"]);
    });

    it("runs compensations newest first when a later step fails, each once", async () => {
      start();
      const op = await t.run(saga, { failAt: "ship" });
      expect(op.result).toMatchObject({ error: { code: "NON_RETRIABLE" } });
      expect(log).toEqual(["do reserve", "do charge", "undo charge", "undo reserve"]);
      const steps = await t.handle(saga, op.name).steps();
      expect(steps.filter((s) => s.kind === "compensate").map((s) => s.key)).toEqual(["charge:compensate", "reserve:compensate"]);
      expect((await t.handle(saga, op.name).history()).map((e) => e.type)).toContain("flow.compensating");
    });

    it("records a compensation that itself fails and still runs the others", async () => {
      start();
      const brittle = defineFlow({ name: `primBrittleSaga${backend.name.replace(/\W/g, "")}`, input: z.void(), output: z.string() }, async () => {
        await run({ name: "a", compensate: () => void log.push("undo a") }, () => "a");
        await run({ name: "b", compensate: () => { throw new Error("undo b failed"); } }, () => "b");
        await run("c", () => { throw new NonRetriableError("c failed"); });
        return "never";
      });
      const op = await t.run(brittle, undefined);
      expect(op.result).toMatchObject({ error: { message: "c failed", details: { compensationFailures: 1 } } });
      expect(log).toEqual(["undo a"]);
      const undo = (await t.handle(brittle, op.name).steps()).filter((s) => s.kind === "compensate");
      expect(undo.map((s) => [s.key, s.ok])).toEqual([["b:compensate", false], ["a:compensate", true]]);
      expect(undo[0]!.error?.message).toBe("undo b failed");
    });

    it("runs compensations when a flow is cancelled while it waits", async () => {
      start();
      const h = await t.start(saga, { failAt: "none" });
      await t.runtime.idle();
      expect((await h.record()).status).toBe("waiting");
      await t.runtime.cancelFlow(saga, h.id, "customer cancelled");
      await t.runtime.idle();
      expect(log).toEqual(["do reserve", "do charge", "undo charge", "undo reserve"]);
      const r = await h.record();
      expect(r.status).toBe("cancelled");
      expect(r.compensating).toBeUndefined();
      expect((await h.state()).result).toMatchObject({ error: { code: "FLOW_CANCELLED", message: expect.stringContaining("customer cancelled") } });
    });

    it("uses a step's fallback once it has failed for good", async () => {
      start();
      const op = await t.run(fallbackFlow, undefined);
      expect(op.result).toEqual({ response: "fallback after: primary down" });
      const [step] = await t.handle(fallbackFlow, op.name).steps();
      expect(step).toMatchObject({ via: "fallback", attempts: 2, ok: true });
    });

    it("times out an unanswered interrupt with its timeout value, and sleeps until a date", async () => {
      start();
      const op = await t.run(timeouts, undefined);
      expect(op.result).toEqual({ response: false });
      expect(t.clock.now()).toBeGreaterThanOrEqual(Date.parse("2027-01-01T00:00:00Z"));
    });

    it("fails a flow that passes its deadline while it sleeps", async () => {
      start();
      const h = await t.start(deadline, undefined);
      const op = await h.settle();
      expect(op.result).toMatchObject({ error: { code: "DEADLINE_EXCEEDED" } });
      expect((await h.record()).finishedAt! - (await h.record()).createdAt).toBe(600_000);
    });

    it("takes signals in order, rejects a bad one, and answers queries without running a step", async () => {
      start();
      const h = await t.start(signalled, undefined);
      await t.runtime.idle();
      await t.runtime.signalFlow(signalled, h.id, "add", { n: 1 });
      // @ts-expect-error the types refuse it too; this pins the runtime's refusal for an untyped caller
      await expect(t.runtime.signalFlow(signalled, h.id, "add", { n: "two" })).rejects.toMatchObject({ code: "INVALID_PAYLOAD" });
      // @ts-expect-error the types refuse it too; this pins the runtime's refusal for an untyped caller
      await expect(t.runtime.signalFlow(signalled, h.id, "nope", {})).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      await t.runtime.signalFlow(signalled, h.id, "add", { n: 2 });
      await t.runtime.idle();
      expect(await t.runtime.queryFlow(signalled, h.id, "total")).toBe(3);
      await t.runtime.signalFlow(signalled, h.id, "add", { n: 3 });
      const op = await h.settle();
      expect(op.result).toEqual({ response: [1, 2, 3] });
      await expect(t.runtime.signalFlow(signalled, h.id, "add", { n: 4 })).rejects.toMatchObject({ code: "INVALID_FLOW_STATE" });
    });

    it("lets patched() branch new code while a flow started by old code replays the old path", async () => {
      start();
      const old = await t.start(evolving, undefined);
      await t.runtime.idle();
      version = 2;
      expect((await old.settle()).result).toEqual({ response: "b" });
      expect((await old.steps()).map((s) => s.key)).toEqual(["a", "gap", "b"]);
      const fresh = await t.start(evolving, undefined);
      expect((await fresh.settle()).result).toEqual({ response: "b" });
      expect((await fresh.steps()).map((s) => s.key)).toEqual(["a", "$patch:add-audit", "audit", "gap", "b"]);
    });

    it("fans out with runMap under a concurrency limit and replays in index order", async () => {
      start();
      const op = await t.run(mapped, [1, 2, 3, 4, 5]);
      expect(op.result).toEqual({ response: [1, 4, 9, 16, 25] });
      expect(log).toContain("peak 2");
      expect((await t.handle(mapped, op.name).steps()).filter((s) => s.key.startsWith("square")).map((s) => s.key).sort()).toEqual(["square[0]", "square[1]", "square[2]", "square[3]", "square[4]"]);
    });
  });
}

const spans: Array<{ user: string; n: number; start: number; end: number }> = [];
const perUser = defineFlow(
  { name: "primPerUser", input: z.object({ user: z.string(), n: z.number() }), output: z.number(), concurrencyKey: { key: (i) => i.user, limit: 1 } },
  async ({ user, n }) =>
    run("work", async () => {
      const start = performance.now();
      await new Promise((r) => setTimeout(r, 15));
      spans.push({ user, n, start, end: performance.now() });
      return n;
    }),
);

describe("concurrency keys", () => {
  for (const backend of [allBackends[0]!, allBackends[2]!]) {
    it(`runs at most one flow per key at a time, the waiting ones in order, on ${backend.name}`, async () => {
      spans.length = 0;
      const { store, cleanup } = backend.open();
      const t = createTestRuntime({ store });
      try {
        const ids: string[] = [];
        for (const [user, n] of [["ann", 1], ["ann", 2], ["bob", 1], ["ann", 3]] as const) {
          ids.push((await t.runtime.scheduleFlow(perUser, { user, n })).name);
          t.clock.set(t.clock.now() + 1);
        }
        for (const id of ids) expect((await t.handle(perUser, id).settle()).done).toBe(true);
        const ann = spans.filter((s) => s.user === "ann");
        // Whichever start delivery lands first runs first; the ones that had to wait run in the order they were scheduled.
        const waited = ann.slice(1).map((s) => s.n);
        expect(waited).toEqual([...waited].sort());
        expect(ann.map((s) => s.n).sort()).toEqual([1, 2, 3]);
        for (let i = 1; i < ann.length; i++) expect(ann[i]!.start).toBeGreaterThanOrEqual(ann[i - 1]!.end);
        expect(spans.filter((s) => s.user === "bob")).toHaveLength(1);
        expect((await t.runtime.listFlows()).flows.every((f) => f.flowName !== "$semaphore")).toBe(true);
      } finally {
        await t.close();
        await cleanup();
      }
    });
  }
});

describe("flow versions", () => {
  it("keeps replaying a running flow against the version it started with while that version is defined", async () => {
    const v1 = defineFlow({ name: "primVersioned", version: "1", input: z.void(), output: z.string() }, async () => {
      await run("old-step", () => 1);
      await sleep("wait", 10);
      return "v1";
    });
    const t = createTestRuntime();
    const started = await t.start(v1, undefined);
    await t.runtime.idle();
    const v2 = defineFlow({ name: "primVersioned", version: "2", input: z.void(), output: z.string() }, async () => {
      await run("new-step", () => 2);
      return "v2";
    });
    expect((await started.settle()).result).toEqual({ response: "v1" });
    expect((await started.record()).version).toBe("1");
    const fresh = await t.start(v2, undefined);
    expect((await fresh.settle()).result).toEqual({ response: "v2" });
    await t.close();
  });
});
