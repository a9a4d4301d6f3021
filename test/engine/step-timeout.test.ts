/**
 * A step's `timeoutSeconds`: each attempt fails with STEP_TIMEOUT once that many seconds have passed,
 * its `signal` aborts with that error, and the step's retry policy decides what follows. The step timer
 * runs on the runtime's clock, so the test runtime's fake clock times a step out as it does a sleep.
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

/** Lets the runtime's deliveries (setImmediate, promises) run until `ready` holds. */
async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !ready(); i++) await new Promise((r) => setImmediate(r));
  expect(ready(), "the step never started").toBe(true);
}

describe("a step's timeoutSeconds", () => {
  it("fails the attempt with STEP_TIMEOUT once timeoutSeconds have passed, not before, and aborts its signal", async () => {
    const signals: AbortSignal[] = [];
    const flow = defineFlow({ name: "stepTimesOut", input: z.void(), output: z.string() }, async () =>
      run({ name: "hangs", timeoutSeconds: 5 }, ({ signal }) => {
        signals.push(signal);
        return new Promise<string>(() => {}); // ignores its signal: the timeout alone ends the attempt
      }),
    );
    t = createTestRuntime();
    const h = await t.start(flow, undefined);
    await until(() => signals.length === 1);
    const signal = signals[0]!;

    await t.clock.advance(4_999);
    expect(signal.aborted).toBe(false);
    expect((await h.record()).status).toBe("running");

    await t.clock.advance(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ code: "STEP_TIMEOUT" });
    const op = await h.settle();
    expect(op.result).toEqual({
      error: expect.objectContaining({ code: "STEP_TIMEOUT", message: 'Step "hangs" did not finish within 5 s (its timeoutSeconds).' }),
    });
    expect(signals).toHaveLength(1);
    expect(await h.steps()).toEqual([expect.objectContaining({ key: "hangs", ok: false, attempts: 1 })]);
  });

  it("retries a timed-out attempt by the step's retry policy, giving the next attempt a fresh signal and its own timeout", async () => {
    const signals: AbortSignal[] = [];
    let finish = (_: string) => {};
    const flow = defineFlow({ name: "stepTimeoutRetried", input: z.void(), output: z.string() }, async () =>
      run({ name: "slowOnce", timeoutSeconds: 2, retryConfig: { maxAttempts: 2, minBackoffSeconds: 1 } }, ({ attempt, signal }) => {
        signals.push(signal);
        if (attempt === 1) return new Promise<string>(() => {});
        return new Promise<string>((resolve) => (finish = resolve));
      }),
    );
    t = createTestRuntime();
    const h = await t.start(flow, undefined);
    await until(() => signals.length === 1);
    await t.clock.advance(2_000);
    expect(signals[0]!.aborted).toBe(true);
    await t.runtime.idle();
    const waiting = await h.record();
    expect(waiting.status).toBe("waiting");
    expect(waiting.waits[0]).toMatchObject({ kind: "retry", step: "slowOnce", attempt: 2 });

    await t.clock.advance(1_000); // the back-off, on the runtime's clock
    await until(() => signals.length === 2);
    await t.clock.advance(1_500); // within the second attempt's 2 s
    expect(signals[1]!.aborted).toBe(false);
    finish("done on attempt 2");
    const op = await h.settle();
    expect(op.result).toEqual({ response: "done on attempt 2" });
    expect(signals[1]!.aborted).toBe(false);
    expect(await h.steps()).toEqual([expect.objectContaining({ key: "slowOnce", ok: true, attempts: 2 })]);
    const retrying = (await h.history()).filter((e) => e.type === "step.retrying");
    expect(retrying).toEqual([expect.objectContaining({ step: "slowOnce", attempt: 1, detail: 'Step "slowOnce" did not finish within 2 s (its timeoutSeconds).' })]);
  });
});
