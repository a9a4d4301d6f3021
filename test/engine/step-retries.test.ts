/**
 * A step whose every attempt fails: it runs exactly `maxAttempts` times, waiting between attempts as its
 * retry policy says (minBackoffSeconds, times backoffMultiplier per attempt, capped at maxBackoffSeconds),
 * then fails the flow with an error that carries the step's own error. Time moves on the fake clock.
 */
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineFlow, run } from "../../src/index.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";

let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const alwaysFails = (calls: number[], clock: () => number) => () => {
  calls.push(clock());
  throw Object.assign(new Error(`payment service down (attempt ${calls.length})`), { code: "E_PAYMENT_DOWN" });
};

describe("a step that uses up its retries", () => {
  it("runs exactly maxAttempts times, backing off by its policy, then fails the flow with the step's error", async () => {
    const calls: number[] = [];
    const flow = defineFlow({ name: "retriesRunOut", input: z.void(), output: z.string() }, async () =>
      run(
        { name: "charge", retryConfig: { maxAttempts: 5, minBackoffSeconds: 10, backoffMultiplier: 3, maxBackoffSeconds: 60 } },
        alwaysFails(calls, () => t!.clock.now()),
      ),
    );
    t = createTestRuntime();
    const op = await t.run(flow, undefined);

    expect(calls).toHaveLength(5);
    const waits = calls.slice(1).map((at, i) => at - calls[i]!);
    expect(waits).toEqual([10_000, 30_000, 60_000, 60_000]); // 10 s, ×3, then capped at 60 s
    expect(op.done).toBe(true);
    expect(op.result).toEqual({
      error: expect.objectContaining({
        code: "STEP_FAILED",
        message: 'Step "charge" failed after 5 attempts: payment service down (attempt 5)',
        details: expect.objectContaining({
          step: "charge",
          attempts: 5,
          cause: expect.objectContaining({ code: "E_PAYMENT_DOWN", message: "payment service down (attempt 5)" }),
        }),
      }),
    });
    const h = t.handle(flow, op.name);
    expect(await h.steps()).toEqual([expect.objectContaining({ key: "charge", ok: false, attempts: 5 })]);
    const history = await h.history();
    expect(history.filter((e) => e.type === "step.retrying").map((e) => e.attempt)).toEqual([1, 2, 3, 4]);
    expect(history.filter((e) => e.type === "step.failed")).toEqual([expect.objectContaining({ step: "charge", attempt: 5 })]);
  });

  it("uses the flow's defaultRetryConfig for run(name, fn), and the flow's catch sees the step's error as the cause", async () => {
    const calls: number[] = [];
    const flow = defineFlow(
      { name: "defaultRetriesRunOut", input: z.void(), output: z.unknown(), defaultRetryConfig: { maxAttempts: 3, minBackoffSeconds: 2 } },
      async () => {
        try {
          await run("charge", alwaysFails(calls, () => t!.clock.now()));
          return "not reached";
        } catch (e) {
          const err = e as Error & { code?: string; cause?: Error & { code?: string } };
          return { code: err.code, causeCode: err.cause?.code, causeMessage: err.cause?.message };
        }
      },
    );
    t = createTestRuntime();
    const op = await t.run(flow, undefined);

    expect(calls).toHaveLength(3);
    expect(calls.slice(1).map((at, i) => at - calls[i]!)).toEqual([2_000, 4_000]); // default multiplier 2, no cap
    expect(op.result).toEqual({ response: { code: "STEP_FAILED", causeCode: "E_PAYMENT_DOWN", causeMessage: "payment service down (attempt 3)" } });
  });
});
