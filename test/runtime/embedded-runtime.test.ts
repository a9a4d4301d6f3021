/**
 * The embedded runtime's own queue: a delivery that keeps failing is retried as the local queue's policy
 * says, then given up and logged as an error naming the flow, so a lost wake-up is never silent.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createEmbeddedRuntime, defineFlow, run, type FlowStore } from "../../src/index.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { createFakeClock } from "../../src/testing/index.js";

describe("the embedded runtime", () => {
  it("logs as an error, naming the flow and the last error, a wake-up it gave up delivering after the queue's retries", async () => {
    const clock = createFakeClock();
    const inner = createMemoryStore();
    let loads = 0;
    const store: FlowStore = {
      ...inner,
      async load() {
        loads++;
        throw new Error(`disk unplugged (read ${loads})`);
      },
    };
    const logs: Array<[string, string, Record<string, unknown> | undefined]> = [];
    const rt = createEmbeddedRuntime({ store, clock, recover: false, logger: (level, message, fields) => void logs.push([level, message, fields]) });
    const flow = defineFlow({ name: "neverDelivered", input: z.void(), output: z.number() }, async () => run("one", () => 1));
    const op = await rt.scheduleFlow(flow, undefined, { flowId: "lost-1" });
    await clock.advance(60 * 60_000);
    await rt.idle();

    expect(loads).toBe(11); // the first delivery and the local queue's 10 retries
    expect(logs.filter(([level]) => level === "error")).toEqual([
      ["error", `gave up delivering a task for flow ${op.name}`, { error: "Error: disk unplugged (read 11)" }],
    ]);
    await rt.close();
  });

  it("logs a store it cannot read at start instead of crashing the process, and idle() rejects with the store's error", async () => {
    const store: FlowStore = {
      ...createMemoryStore(),
      async list() {
        throw new Error("directory unusable");
      },
    };
    const logs: Array<[string, string, Record<string, unknown> | undefined]> = [];
    const rt = createEmbeddedRuntime({ store, clock: createFakeClock(), logger: (level, message, fields) => void logs.push([level, message, fields]) });
    // An unhandled rejection here would fail this test run.
    await new Promise((r) => setTimeout(r, 10));
    expect(logs).toContainEqual(["error", "could not recover this runtime's unfinished flows from the store", { error: "directory unusable" }]);
    await expect(rt.idle()).rejects.toThrow("directory unusable");
    await rt.close();
  });
});
