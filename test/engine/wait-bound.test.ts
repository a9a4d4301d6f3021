import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineFlow, interrupt, poll, run, sleep, sleepUntil, waitForSignal } from "../../src/index.js";
import { backoffSeconds, pollDelaySeconds, resolveRetryConfig } from "../../src/engine/retry-policy.js";
import { MAX_WAIT_SECONDS } from "../../src/engine/wait-bound.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";

const YEAR_S = 365 * 24 * 3600;

let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Runs a flow whose body waits too long: it must fail with INVALID_ARGUMENT, its message saying `mentions`. */
async function failsWith(name: string, body: () => Promise<unknown>, ...mentions: Array<string | RegExp>) {
  const flow = defineFlow({ name, input: z.void(), output: z.unknown() }, body);
  t = createTestRuntime();
  const op = await t.run(flow, undefined);
  expect(op.result).toMatchObject({ error: { code: "INVALID_ARGUMENT" } });
  const message = (op.result as { error: { message: string } }).error.message;
  for (const m of mentions) expect(message).toMatch(m);
  return message;
}

describe("a wait longer than 100 years is refused where it is given", () => {
  it("fails a flow that sleeps for 1e300 seconds with INVALID_ARGUMENT naming the step and the bound, not a RangeError", async () => {
    await failsWith("boundSleep", () => sleep("nap", 1e300), 'sleep("nap")', "100 years", "got 1e+300");
  });

  it("fails a flow that sleeps until a date more than 100 years away, and lets one sleep until a date already past", async () => {
    await failsWith("boundSleepUntil", () => sleepUntil("wake", new Date("2500-01-01T00:00:00Z")), 'sleepUntil("wake")', "100 years", "2500-01-01");
    await t!.close();
    const past = defineFlow({ name: "boundSleepUntilPast", input: z.void(), output: z.string() }, async () => {
      await sleepUntil("then", new Date("2000-01-01T00:00:00Z"));
      return "awake";
    });
    t = createTestRuntime();
    expect((await t.run(past, undefined)).result).toEqual({ response: "awake" });
  });

  it("accepts a sleep of exactly 100 years, and the flow wakes then", async () => {
    const flow = defineFlow({ name: "boundSleepMax", input: z.void(), output: z.string() }, async () => {
      await sleep("century", MAX_WAIT_SECONDS);
      return "awake";
    });
    t = createTestRuntime();
    const start = t.clock.now();
    expect((await t.run(flow, undefined)).result).toEqual({ response: "awake" });
    expect(t.clock.now() - start).toBe(100 * YEAR_S * 1000);
  });

  it("fails a flow whose poll period or timeout is past the bound, naming the poll", async () => {
    await failsWith("boundPollPeriod", () => poll({ name: "ready?", pollPeriodSeconds: 1e300 }, () => true), 'poll("ready?")', "pollPeriodSeconds", "100 years");
    await t!.close();
    await failsWith("boundPollTimeout", () => poll({ name: "ready?", pollPeriodSeconds: 1, timeoutSeconds: 1e300 }, () => true), "timeoutSeconds", "100 years");
  });

  it("fails a flow whose interrupt or signal timeout is past the bound", async () => {
    await failsWith("boundInterrupt", () => interrupt("ok?", z.boolean(), { timeoutSeconds: 1e300 }), 'interrupt "ok?"', "100 years");
    await t!.close();
    const flow = defineFlow({ name: "boundSignal", input: z.void(), output: z.unknown(), signals: { ping: z.null() } }, () => waitForSignal("ping", { timeoutSeconds: 1e300 }));
    t = createTestRuntime();
    const op = await t.run(flow, undefined);
    expect(op.result).toMatchObject({ error: { code: "INVALID_ARGUMENT", message: expect.stringContaining("100 years") } });
  });

  it("refuses a retry back-off past the bound, and a flow deadline past it", async () => {
    await failsWith("boundRetry", () => run({ name: "s", retryConfig: { maxAttempts: 2, minBackoffSeconds: 1e300 } }, () => 1), "minBackoffSeconds", "100 years");
    expect(() => defineFlow({ name: "boundDeadline", input: z.void(), output: z.void(), deadlineSeconds: 1e300 }, async () => {})).toThrow(/deadlineSeconds.*100 years/);
  });
});

describe("a back-off that keeps growing stops at the bound", () => {
  it("holds a retry's back-off and a poll's period to 100 years however many rounds have passed", () => {
    const retry = resolveRetryConfig("s", { maxAttempts: 1000, backoffMultiplier: 1000 });
    expect(backoffSeconds(retry, 3)).toBe(1e6);
    expect(backoffSeconds(retry, 50)).toBe(MAX_WAIT_SECONDS);
    expect(pollDelaySeconds({ name: "p", pollPeriodSeconds: 60, backoff: 1000 }, 50)).toBe(MAX_WAIT_SECONDS);
  });
});
