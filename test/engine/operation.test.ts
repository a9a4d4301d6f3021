import { describe, expect, it } from "vitest";
import { toOperation } from "../../src/engine/operation.js";
import { newFlowRecord } from "../../src/engine/transitions.js";
import { createRuntime } from "../../src/index.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";

const NOW = Date.parse("2026-01-01T00:00:00Z");

describe("toOperation", () => {
  it("shows the wake time as an ISO date", () => {
    const op = toOperation(newFlowRecord({ id: "a", flowName: "f", input: 1, now: NOW, startAt: NOW + 1000 }));
    expect(op.metadata.wakeAt).toBe("2026-01-01T00:00:01.000Z");
  });

  it("leaves out a stored wake time past what a Date can hold instead of throwing, so listing still works", async () => {
    // Code before the 100-year bound stored such records (scheduleFlow with delaySeconds 1e300).
    const record = newFlowRecord({ id: "far", flowName: "f", input: 1, now: NOW, startAt: NOW + 1e303 });
    const op = toOperation(record);
    expect(op.metadata.wakeAt).toBeUndefined();
    expect(op.metadata.status).toBe("scheduled");

    const store = createMemoryStore();
    await store.create(record);
    await store.create(newFlowRecord({ id: "near", flowName: "f", input: 1, now: NOW + 1, startAt: NOW }));
    const rt = createRuntime({ store, queue: { enqueue: async () => {} } });
    expect((await rt.listFlows()).flows.map((r) => toOperation(r).name)).toEqual(["near", "far"]);
    expect((await rt.getFlow("far")).operation.metadata.wakeAt).toBeUndefined();
  });
});
