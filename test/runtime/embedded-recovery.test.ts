import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createEmbeddedRuntime, createRuntime, defineFlow, interrupt, run } from "../../src/index.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";

const undone: string[] = [];
const booking = defineFlow({ name: "recoveryBooking", input: z.string(), output: z.string() }, async (who) => {
  const ref = await run({ name: "book", compensate: (r) => void undone.push(r) }, () => `room-${who}`);
  await interrupt("confirm", z.object({}));
  return ref;
});

describe("embedded runtime recovery", () => {
  it("runs the compensations of a flow cancelled by a process that did not deliver them", async () => {
    const store = createMemoryStore();
    const first = createEmbeddedRuntime({ store });
    const op = await first.scheduleFlow(booking, "ada");
    await first.idle();
    expect((await first.getFlowState(booking, op.name)).blockedOnStep?.name).toBe("confirm");
    // A process that records the cancel but enqueues nothing (a tool without the flow's code, or one that stopped).
    const tool = createRuntime({ store, queue: { enqueue: async () => {} } });
    await tool.cancelFlow(undefined, op.name);
    expect(undone).toEqual([]);

    const next = createEmbeddedRuntime({ store });
    expect(await next.ready).toBe(1);
    await next.idle();
    expect(undone).toEqual(["room-ada"]);
    expect((await next.getFlow(op.name)).record).toMatchObject({ status: "cancelled" });
    expect((await next.getFlow(op.name)).record.compensating).toBeFalsy();
  });
});
