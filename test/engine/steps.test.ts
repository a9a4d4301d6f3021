import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  action,
  defineFlow,
  interrupt,
  InterruptError,
  NonRetriableError,
  now,
  poll,
  run,
  runAction,
  sleep,
  startChild,
  uuid,
  waitFor,
  waitForSignal,
} from "../../src/index.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";

let t: TestRuntime;
afterEach(async () => t?.close());

describe("memoization", () => {
  it("replays falsy values exactly and never re-runs a completed step across suspensions", async () => {
    const calls: Record<string, number> = {};
    const count = (k: string) => (calls[k] = (calls[k] ?? 0) + 1);
    const flow = defineFlow({ name: "falsyReplay", input: z.void(), output: z.array(z.unknown()) }, async () => {
      const values = [
        await run("zero", () => (count("zero"), 0)),
        await run("false", () => (count("false"), false)),
        await run("empty", () => (count("empty"), "")),
        await run("null", () => (count("null"), null)),
        await run("undef", () => (count("undef"), undefined)),
      ];
      await sleep("nap", 10);
      const after = [
        await run("zero", () => (count("zero2"), 0)),
      ];
      await sleep("nap", 10);
      return [...values.map((v) => (v === undefined ? "<undefined>" : v)), ...after];
    });
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(op.result).toEqual({ response: [0, false, "", null, "<undefined>", 0] });
    expect(calls).toEqual({ zero: 1, false: 1, empty: 1, null: 1, undef: 1, zero2: 1 });
    const steps = await t.handle(flow, op.name).steps();
    expect(steps.map((s) => s.key)).toEqual(["zero", "false", "empty", "null", "undef", "nap", "zero#2", "nap#2"]);
  });

  it("gives the flow its own copy of a replayed value: changing it changes neither the journal nor later replays", async () => {
    const seen: number[] = [];
    const flow = defineFlow({ name: "mutatesReplayed", input: z.void(), output: z.number() }, async () => {
      const cart = await run("cart", () => ({ items: [1, 2] }));
      seen.push(cart.items.length);
      cart.items.push(99);
      await sleep("a", 10);
      await sleep("b", 10);
      return cart.items.length;
    });
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(op.result).toEqual({ response: 3 });
    expect(seen).toEqual([2, 2, 2]);
    const steps = await t.handle(flow, op.name).steps();
    expect(steps[0]!.value).toEqual({ items: [1, 2] });
  });

  it("refuses a value that JSON would mangle, naming the step, and stores nothing for it", async () => {
    class Money {
      constructor(readonly cents: number) {}
    }
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    const cases: Array<[string, () => unknown, RegExp]> = [
      ["fn", () => ({ f: () => 1 }), /a function at \$\.f/],
      ["big", () => 10n, /a BigInt/],
      ["cycle", () => cyc, /a cycle/],
      ["cls", () => new Money(5), /an instance of Money/],
      ["date", () => new Date(0), /an instance of Date/],
      ["nan", () => [NaN], /NaN/],
    ];
    t = createTestRuntime();
    for (const [name, make, message] of cases) {
      const flow = defineFlow({ name: `unstorable-${name}`, input: z.void(), output: z.unknown() }, async () => run(name, make));
      const op = await t.run(flow, undefined);
      expect(op.done).toBe(true);
      expect(op.result).toMatchObject({ error: { code: "UNSTORABLE_VALUE" } });
      expect((op.result as { error: { message: string } }).error.message).toMatch(message);
      expect((op.result as { error: { message: string } }).error.message).toContain(`"${name}"`);
      expect(await t.handle(flow, op.name).steps()).toEqual([]);
    }
  });

  it("gives each repeated step name a stable occurrence key", async () => {
    const flow = defineFlow({ name: "sameName", input: z.void(), output: z.string() }, async () => {
      const a = await run("same-name", () => "a");
      const b = await run("same-name", () => "b");
      return a + b;
    });
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(op.result).toEqual({ response: "ab" });
    expect((await t.handle(flow, op.name).steps()).map((s) => s.key)).toEqual(["same-name", "same-name#2"]);
  });

  it("memoizes now() and uuid() so replays decide the same way", async () => {
    const seen: string[] = [];
    const flow = defineFlow({ name: "deterministicHelpers", input: z.void(), output: z.string() }, async () => {
      const id = await uuid();
      const at = await now();
      seen.push(`${id}@${at}`);
      await sleep("s", 60);
      seen.push(`${await uuid()}`);
      return id;
    });
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(seen[0]).toBe(seen[1]!.replace(/@.*/, "") + seen[0]!.slice(seen[0]!.indexOf("@")));
    expect(op.result).toEqual({ response: seen[0]!.split("@")[0] });
  });
});

describe("retries", () => {
  it("retries durably with back-off, counting attempts in the store", async () => {
    let attempts = 0;
    const times: number[] = [];
    const flow = defineFlow({ name: "retrying", input: z.void(), output: z.number() }, async () =>
      run({ name: "flaky", retryConfig: { maxAttempts: 3, minBackoffSeconds: 10 } }, () => {
        times.push(t.clock.now());
        if (++attempts < 3) throw new Error(`boom ${attempts}`);
        return attempts;
      }),
    );
    t = createTestRuntime();
    const h = await t.start(flow, undefined);
    await t.runtime.idle();
    const rec = await h.record();
    expect(rec.status).toBe("waiting");
    expect(rec.progress["flaky"]).toMatchObject({ attempts: 1 });
    expect(rec.waits[0]).toMatchObject({ kind: "retry", step: "flaky", attempt: 2 });
    const op = await h.settle();
    expect(op.result).toEqual({ response: 3 });
    expect(times[1]! - times[0]!).toBe(10_000);
    expect(times[2]! - times[1]!).toBe(20_000);
    const steps = await h.steps();
    expect(steps[0]).toMatchObject({ key: "flaky", ok: true, attempts: 3 });
    expect((await h.history()).filter((e) => e.type === "step.retrying")).toHaveLength(2);
  });

  it("fails at once on NonRetriableError and records the error's message and code", async () => {
    let attempts = 0;
    const flow = defineFlow({ name: "nonRetriable", input: z.void(), output: z.number() }, async () =>
      run({ name: "fatal", retryConfig: { maxAttempts: 5, minBackoffSeconds: 1 } }, () => {
        attempts++;
        throw new NonRetriableError("card declined");
      }),
    );
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(attempts).toBe(1);
    expect(op.result).toEqual({ error: expect.objectContaining({ code: "NON_RETRIABLE", message: "card declined" }) });
  });

  it("without retryConfig a step error fails the flow with its message and code", async () => {
    const flow = defineFlow({ name: "noRetry", input: z.void(), output: z.number() }, async () =>
      run("explode", () => {
        throw Object.assign(new Error("disk on fire"), { code: "E_FIRE" });
      }),
    );
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(op.result).toEqual({ error: expect.objectContaining({ code: "E_FIRE", message: "disk on fire" }) });
    expect(JSON.stringify(op)).not.toContain("at ");
  });

  it("rejects an invalid retryConfig with a clear error, before the step's function runs", async () => {
    let ran = false;
    const flow = defineFlow({ name: "badRetry", input: z.void(), output: z.number() }, async () =>
      run({ name: "x", retryConfig: { maxAttempts: 0 } }, () => ((ran = true), 1)),
    );
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(ran).toBe(false);
    expect(op.result).toMatchObject({ error: { code: "INVALID_ARGUMENT" } });
    expect((op.result as { error: { message: string } }).error.message).toMatch(/retryConfig of step "x"/);
  });
});

describe("interrupts", () => {
  const approval = defineFlow({ name: "approval", input: z.object({ orderId: z.string() }), output: z.boolean() }, async ({ orderId }) => {
    await run("load", () => orderId);
    const { approved } = await interrupt("manager-approval", z.object({ approved: z.boolean() }));
    return approved;
  });

  it("blocks on an interrupt, rejects a bad payload leaving the flow resumable, and finishes on a good one", async () => {
    t = createTestRuntime();
    const h = await t.start(approval, { orderId: "o-1" });
    const blocked = await h.settle();
    expect(blocked.done).toBe(false);
    expect(blocked.blockedOnStep).toMatchObject({ name: "manager-approval", schema: { type: "object" } });
    const before = await h.record();
    await expect(t.runtime.resumeFlow(approval, h.id, { approved: "yes" })).rejects.toMatchObject({ code: "INVALID_PAYLOAD" });
    expect(await h.record()).toEqual(before);
    const done = await h.resume({ approved: true });
    expect(done.result).toEqual({ response: true });
  });

  it("refuses to resume a flow that is not blocked on that interrupt", async () => {
    t = createTestRuntime();
    const h = await t.start(approval, { orderId: "o-2" });
    await h.settle();
    await expect(t.runtime.resumeFlow(approval, h.id, { approved: true }, { step: "other" })).rejects.toMatchObject({ code: "NOT_BLOCKED_ON_INTERRUPT" });
    await h.resume({ approved: false });
    await expect(t.runtime.resumeFlow(approval, h.id, { approved: true })).rejects.toMatchObject({ code: "NOT_BLOCKED_ON_INTERRUPT" });
    await expect(t.runtime.resumeFlow(approval, "nope", { approved: true })).rejects.toMatchObject({ code: "FLOW_NOT_FOUND" });
  });

  it("does not throw a suspension into a catch block around a step that waits", async () => {
    const flow = defineFlow({ name: "catchAll", input: z.void(), output: z.string() }, async () => {
      try {
        return `got ${await interrupt("ask", z.string())}`;
      } catch {
        return "caught";
      }
    });
    for (const warmExecutions of [0, 10]) {
      t = createTestRuntime({ warmExecutions });
      const h = await t.start(flow, undefined);
      expect((await h.settle()).done).toBe(false);
      expect((await h.resume("hi")).result).toEqual({ response: "got hi" });
      await t.close();
    }
  });

  it("detects a step's function that swallows the suspension of a step called inside it", async () => {
    const flow = defineFlow({ name: "swallower", input: z.void(), output: z.string() }, async () => {
      return run("outer", async () => {
        try {
          await sleep("inner", 10);
        } catch {
          // wrong: the InterruptError must be rethrown
        }
        return "carried on";
      });
    });
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(op.result).toMatchObject({ error: { code: "INTERRUPT_SWALLOWED" } });
    expect((op.result as { error: { message: string } }).error.message).toMatch(/inside "outer".*rethrow/i);
  });

  it("lets a step's function wait on a step called inside it, replaying that function", async () => {
    let calls = 0;
    const flow = defineFlow({ name: "nestedWait", input: z.void(), output: z.number() }, async () => {
      return run("outer", async () => {
        calls++;
        await sleep("inner", 10);
        return calls;
      });
    });
    t = createTestRuntime({ warmExecutions: 10 });
    const op = await t.run(flow, undefined);
    expect(op.result).toEqual({ response: 2 });
    expect((await t.handle(flow, op.name).steps()).map((s) => s.key)).toEqual(["inner", "outer"]);
  });

  it("lets a catch block that rethrows InterruptError work", async () => {
    const flow = defineFlow({ name: "rethrower", input: z.void(), output: z.string() }, async () => {
      try {
        return await interrupt("ask", z.string());
      } catch (e) {
        if (e instanceof InterruptError) throw e;
        return "other error";
      }
    });
    t = createTestRuntime();
    const h = await t.start(flow, undefined);
    await h.settle();
    expect((await h.resume("hi")).result).toEqual({ response: "hi" });
  });
});

describe("time", () => {
  it("suspends at a new sleep(0), storing its wake time before it goes on", async () => {
    const flow = defineFlow({ name: "sleepZeroSuspends", input: z.void(), output: z.number() }, async () => {
      await sleep("zero", 0);
      return 1;
    });
    for (const warmExecutions of [0, 10]) {
      t = createTestRuntime({ warmExecutions });
      const op = await t.run(flow, undefined);
      expect(op.result).toEqual({ response: 1 });
      const types = (await t.handle(flow, op.name).history()).map((e) => e.type);
      expect(types.indexOf("flow.suspended")).toBeGreaterThan(types.indexOf("step.slept"));
      expect(types.indexOf("flow.succeeded")).toBeGreaterThan(types.indexOf("flow.suspended"));
      await t.close();
    }
  });

  it("completes a seven-day sleep under the fake clock", async () => {
    const flow = defineFlow({ name: "weekSleep", input: z.void(), output: z.number() }, async () => {
      const start = await now();
      await sleep("a-week", 7 * 24 * 3600);
      return (await now("end")) - start;
    });
    t = createTestRuntime();
    const wall = Date.now();
    const op = await t.run(flow, undefined);
    expect(op.result).toEqual({ response: 7 * 24 * 3600 * 1000 });
    expect(Date.now() - wall).toBeLessThan(5_000);
  });

  it("defers an early delivery instead of running the flow", async () => {
    const flow = defineFlow({ name: "earlyWake", input: z.void(), output: z.string() }, async () => {
      await sleep("s", 3600);
      return "woke";
    });
    t = createTestRuntime();
    const h = await t.start(flow, undefined);
    await t.runtime.idle();
    const r = await h.record();
    const early = await t.runtime.deliver({ flowId: h.id, flowName: flow.name, reason: "wake", at: t.clock.now() });
    expect(early).toMatchObject({ result: "deferred", at: r.wakeAt });
    expect(await h.record()).toEqual(r);
    expect((await h.settle()).result).toEqual({ response: "woke" });
  });

  it("polls until the check returns true, suspending between rounds", async () => {
    let checks = 0;
    const flow = defineFlow({ name: "poller", input: z.void(), output: z.number() }, async () => {
      await poll({ name: "ready?", pollPeriodSeconds: 30, backoff: 2 }, () => ++checks >= 4);
      return checks;
    });
    t = createTestRuntime();
    const start = t.clock.now();
    const op = await t.run(flow, undefined);
    expect(op.result).toEqual({ response: 4 });
    expect(t.clock.now() - start).toBe((30 + 60 + 120) * 1000);
  });

  it("runs a step whose timeoutSeconds is past setTimeout's limit (~24.8 days) without timing it out at once", async () => {
    const flow = defineFlow({ name: "monthTimeout", input: z.void(), output: z.string() }, async () =>
      run({ name: "slow", timeoutSeconds: 30 * 24 * 3600 }, async () => {
        await new Promise((r) => setTimeout(r, 20));
        return "done";
      }),
    );
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(op.result).toEqual({ response: "done" });
  });

  it("fails a poll that times out with POLL_TIMEOUT", async () => {
    const flow = defineFlow({ name: "pollTimeout", input: z.void(), output: z.number() }, async () => {
      await poll({ name: "never", pollPeriodSeconds: 60, timeoutSeconds: 300 }, () => false);
      return 1;
    });
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(op.result).toMatchObject({ error: { code: "POLL_TIMEOUT" } });
  });
});

describe("composition", () => {
  const child = defineFlow({ name: "childFlow", input: z.number(), output: z.number() }, async (n) => {
    await sleep("think", n);
    return run("double", () => n * 2);
  });

  it("waits for other flows and returns their operations", async () => {
    const parent = defineFlow({ name: "parentFlow", input: z.array(z.number()), output: z.array(z.number()) }, async (ns) => {
      const ids = await run("start-children", async () => {
        const ops = await Promise.all(ns.map((n) => t.runtime.scheduleFlow(child, n)));
        return ops.map((o) => o.name);
      });
      const ops = await waitFor("children", child, ids);
      return ops.map((o) => (o.result as { response: number }).response);
    });
    t = createTestRuntime();
    const op = await t.run(parent, [5, 50, 500]);
    expect(op.result).toEqual({ response: [10, 100, 1000] });
  });

  it("refuses a waitFor of the flow's own id, which would wait forever, with INVALID_ARGUMENT", async () => {
    const selfish = defineFlow({ name: "waitsForItself", input: z.void(), output: z.unknown() }, async () => {
      const me = await run("my-id", () => t.runtime.listFlows({ flowName: "waitsForItself" }).then((p) => p.flows[0]!.id));
      return waitFor("me", child, [me]);
    });
    t = createTestRuntime();
    const op = await t.run(selfish, undefined);
    expect(op.result).toMatchObject({ error: { code: "INVALID_ARGUMENT", message: expect.stringContaining("itself") } });
  });

  it("takes only the signals of the name it waits for, not those of a name it prefixes", async () => {
    const flow = defineFlow(
      { name: "prefixSignals", input: z.void(), output: z.array(z.string()), signals: { order: z.string(), "order:cancel": z.string() } },
      async () => {
        await sleep("settle-in", 10);
        return [await waitForSignal<string>("order"), await waitForSignal<string>("order:cancel")];
      },
    );
    t = createTestRuntime();
    const h = await t.start(flow, undefined);
    await t.runtime.idle();
    await t.runtime.signalFlow(flow, h.id, "order:cancel", "cancel it");
    expect((await h.settle()).done).toBe(false);
    await t.runtime.signalFlow(flow, h.id, "order", "place it");
    expect((await h.settle()).result).toEqual({ response: ["place it", "cancel it"] });
  });

  it("runs steps in parallel with Promise.all and replays them by call order", async () => {
    const ran: string[] = [];
    const flow = defineFlow({ name: "parallel", input: z.void(), output: z.array(z.string()) }, async () => {
      const out = await Promise.all(
        ["a", "b", "c"].map((k, i) => run(k, async () => {
          await new Promise((r) => setTimeout(r, (3 - i) * 5));
          ran.push(k);
          return k.toUpperCase();
        })),
      );
      await sleep("pause", 1);
      return out;
    });
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(op.result).toEqual({ response: ["A", "B", "C"] });
    expect(ran.sort()).toEqual(["a", "b", "c"]);
  });

  it("runs actions with their schemas", async () => {
    const greet = (greeting: string) => action({ name: "greet", input: z.string(), output: z.string() }, async (n) => `${greeting}, ${n}!`);
    const flow = defineFlow({ name: "greeting", input: z.string(), output: z.string() }, async (n) => runAction(greet("Bonjour"), n));
    t = createTestRuntime();
    expect((await t.run(flow, "Ada")).result).toEqual({ response: "Bonjour, Ada!" });
    const bad = defineFlow({ name: "badAction", input: z.void(), output: z.string() }, async () => runAction(greet("Hi"), 42 as unknown as string));
    expect((await t.run(bad, undefined)).result).toMatchObject({ error: { code: "INVALID_PAYLOAD" } });
  });

  it("fails with a non-determinism error naming the step when the code changed under a running flow", async () => {
    let version = 1;
    const flow = defineFlow({ name: "changing", input: z.void(), output: z.string() }, async () => {
      await run(version === 1 ? "first" : "renamed", () => 1);
      await sleep("wait", 10);
      return "ok";
    });
    t = createTestRuntime();
    const h = await t.start(flow, undefined);
    await t.runtime.idle();
    version = 2;
    const op = await h.settle();
    expect(op.result).toMatchObject({ error: { code: "NON_DETERMINISM" } });
    expect((op.result as { error: { message: string } }).error.message).toMatch(/run "first".*run "renamed"/);
  });
});

describe("app calls", () => {
  const echo = defineFlow({ name: "echo", input: z.object({ msg: z.string() }), output: z.string() }, async ({ msg }) => run("echo", () => msg));

  it("scheduleFlow returns an operation that is never already done, and validates input without storing anything", async () => {
    t = createTestRuntime();
    const op = await t.runtime.scheduleFlow(echo, { msg: "hi" });
    expect(op).toMatchObject({ name: expect.any(String), done: false });
    // @ts-expect-error the types refuse it too; this pins the runtime's refusal for an untyped caller
    await expect(t.runtime.scheduleFlow(echo, { msg: 1 })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect((await t.runtime.listFlows()).flows).toHaveLength(1);
    await t.runtime.idle();
    expect(await t.runtime.getFlowState(echo, op.name)).toMatchObject({ done: true, result: { response: "hi" } });
  });

  it("starts a caller-chosen flowId once and refuses a different input for it", async () => {
    t = createTestRuntime();
    const a = await t.runtime.scheduleFlow(echo, { msg: "x" }, { flowId: "order-42" });
    const b = await t.runtime.scheduleFlow(echo, { msg: "x" }, { flowId: "order-42" });
    expect(b.name).toBe(a.name);
    await expect(t.runtime.scheduleFlow(echo, { msg: "y" }, { flowId: "order-42" })).rejects.toMatchObject({ code: "FLOW_ALREADY_EXISTS" });
    await expect(t.runtime.scheduleFlow(echo, { msg: "y" }, { flowId: "../etc" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("honours the documented delay in seconds", async () => {
    t = createTestRuntime();
    const op = await t.runtime.scheduleFlow(echo, { msg: "later" }, 90);
    await t.runtime.idle();
    expect((await t.runtime.getFlowState(echo, op.name)).done).toBe(false);
    await t.clock.advance(90_000);
    await t.runtime.idle();
    expect((await t.runtime.getFlowState(echo, op.name)).done).toBe(true);
  });
});

describe("ownership of values", () => {
  type Box = { list: number[] };
  const box = z.object({ list: z.array(z.number()) });
  const child = defineFlow({ name: "ownChild", input: box, output: box }, async (input) => input);
  /** Changes every value it is handed (the store takes over its own copies, and may freeze them), then returns them. */
  const owner = defineFlow({ name: "owner", input: box, output: z.array(z.unknown()), signals: { more: box } }, async (input) => {
    const got: unknown[] = [];
    const change = <T>(v: T): T => {
      const frozen = Object.isFrozen(v) || Object.isFrozen((v as { list?: unknown }).list ?? {});
      (v as { list: number[] }).list.push(99);
      got.push(frozen ? "frozen" : v);
      return v;
    };
    change(input);
    change(await run("made", () => ({ list: [1] })));
    change(await run("undefined dropped", () => ({ list: [2], gone: undefined })));
    change(await interrupt("ask", box));
    change(await waitForSignal<Box>("more"));
    const handle = await startChild("kid", child, { list: [3] });
    expect(Object.isFrozen(handle)).toBe(false);
    const [done] = await waitFor("kid done", child, [handle.flowId]);
    const kid = done!.result;
    if (!kid || !("response" in kid)) throw new Error(`the child did not succeed: ${JSON.stringify(kid)}`);
    change(kid.response);
    await sleep("nap", 1);
    return got;
  });

  it("hands the flow and the app their own objects: none is frozen, and changing one changes nothing stored", async () => {
    for (const warmExecutions of [0, 10]) {
      t = createTestRuntime({ warmExecutions });
      const input = { list: [0] };
      const h = await t.start(owner, input);
      expect(Object.isFrozen(input)).toBe(false);
      input.list.push(-1);
      await h.settle();
      const payload = { list: [4] };
      await h.resume(payload);
      expect(Object.isFrozen(payload.list)).toBe(false);
      payload.list.push(-1);
      const signal = { list: [5] };
      await t.runtime.signalFlow(owner, h.id, "more", signal);
      expect(Object.isFrozen(signal.list)).toBe(false);
      signal.list.push(-1);
      await t.runtime.idle();
      await t.clock.advance(5_000);
      await t.runtime.idle();
      // Each value as the flow got it, changed once by the flow: the replay after the sleep gets them as stored.
      expect((await h.state()).result).toEqual({ response: [0, 1, 2, 4, 5, 3].map((n) => ({ list: [n, 99] })) });
      expect((await h.record()).input).toEqual({ list: [0] });
      const values = (await h.steps()).filter((s) => ["made", "undefined dropped", "ask"].includes(s.key)).map((s) => s.value);
      expect(values).toEqual([{ list: [1] }, { list: [2] }, { list: [4] }]);
      await t.close();
    }
  });
});

describe("history of a suspension", () => {
  it("names what the flow waits for once each: the kind, then the step (a signal's step key already says signal)", async () => {
    const waiter = defineFlow({ name: "suspendDetail", input: z.void(), output: z.string(), signals: { message: z.string() } }, async () => {
      await sleep("nap", 0);
      return waitForSignal<string>("message");
    });
    t = createTestRuntime();
    const h = await t.start(waiter, undefined);
    await t.runtime.idle();
    await t.runtime.signalFlow(waiter, h.id, "message", "hello");
    await h.settle();
    const details = (await h.history()).filter((e) => e.type === "flow.suspended").map((e) => e.detail);
    expect(details).toContain("signal:message");
    expect(details.join(" ")).not.toContain("signal:signal:");
  });
});
