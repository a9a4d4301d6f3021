import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineFlow, interrupt, NonRetriableError, purgeFinishedFlows, run, sleep } from "../../src/index.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";
import { allBackends } from "../support/backends.js";

let failOnce = true;
const ran: string[] = [];
const steady = defineFlow({ name: "ctlSteady", input: z.object({ tag: z.string() }), output: z.string() }, async ({ tag }) => {
  await run("one", () => void ran.push(`${tag}:one`));
  await sleep("nap", 60);
  await run("two", () => {
    if (tag === "flaky" && failOnce) {
      failOnce = false;
      throw new NonRetriableError("two broke");
    }
    ran.push(`${tag}:two`);
  });
  return tag;
});
let cFails = true;
const afterCaught = defineFlow({ name: "ctlAfterCaught", input: z.void(), output: z.string() }, async () => {
  try {
    await run("probe", () => {
      ran.push("probe");
      throw new Error("probe failed");
    });
  } catch {
    // The flow handles this failure and goes on.
  }
  await run("charge", () => void ran.push("charge"));
  await run("ship", () => {
    ran.push("ship");
    if (cFails) throw new Error("ship broke");
  });
  return "shipped";
});
let hotelFails = true;
const trip = defineFlow({ name: "ctlTrip", input: z.void(), output: z.string() }, async () => {
  const flight = await run({ name: "flight", compensate: (f: string) => void ran.push(`cancel ${f}`) }, () => {
    ran.push("book flight");
    return `F${ran.filter((x) => x === "book flight").length}`;
  });
  await run("hotel", () => {
    ran.push("hotel");
    if (hotelFails) throw new Error("no rooms");
  });
  return flight;
});
const tripWithNotice = defineFlow({ name: "ctlTripNotice", input: z.void(), output: z.string() }, async () => {
  const flight = await run({ name: "flight", compensate: (f: string) => void ran.push(`cancel ${f}`) }, () => {
    ran.push("book flight");
    return `F${ran.filter((x) => x === "book flight").length}`;
  });
  await run("notify", () => void ran.push("notify"));
  await run("hotel", () => {
    ran.push("hotel");
    if (hotelFails) throw new Error("no rooms");
  });
  return flight;
});
const asks = defineFlow({ name: "ctlAsks", input: z.void(), output: z.string() }, async () => {
  const a = await interrupt("first", z.string());
  return a + (await interrupt("second", z.string()));
});

for (const backend of allBackends) {
  describe(`control calls on ${backend.name}`, () => {
    let t: TestRuntime;
    let cleanup: () => Promise<void>;
    const open = () => {
      const o = backend.open();
      cleanup = o.cleanup;
      return (t = createTestRuntime({ store: o.store }));
    };
    afterEach(async () => {
      await t.close();
      await cleanup();
      ran.length = 0;
      failOnce = true;
      cFails = true;
      hotelFails = true;
    });

    it("pauses a flow across wake-ups and continues it later", async () => {
      open();
      const h = await t.start(steady, { tag: "p" });
      await t.runtime.idle();
      expect((await t.runtime.pauseFlow(steady, h.id)).metadata.status).toBe("paused");
      await t.clock.advance(120_000);
      await t.runtime.idle();
      expect((await h.record()).status).toBe("paused");
      expect(ran).toEqual(["p:one"]);
      await expect(t.runtime.pauseFlow(steady, h.id)).rejects.toMatchObject({ code: "INVALID_FLOW_STATE" });
      await t.runtime.continueFlow(steady, h.id);
      expect((await h.settle()).result).toEqual({ response: "p" });
      expect(ran).toEqual(["p:one", "p:two"]);
    });

    it("cancels a flow so it never runs another step, and reports it", async () => {
      open();
      const h = await t.start(steady, { tag: "c" });
      await t.runtime.idle();
      await t.runtime.cancelFlow(steady, h.id, "no longer needed");
      await t.clock.advance(120_000);
      await t.runtime.idle();
      expect(ran).toEqual(["c:one"]);
      expect(await h.state()).toMatchObject({ done: true, result: { error: { code: "FLOW_CANCELLED" } } });
      await expect(t.runtime.cancelFlow(steady, h.id)).rejects.toMatchObject({ code: "INVALID_FLOW_STATE" });
    });

    it("retries a failed flow from the failed step, keeping completed ones", async () => {
      open();
      const h = await t.start(steady, { tag: "flaky" });
      expect((await h.settle()).result).toMatchObject({ error: { message: "two broke" } });
      await t.runtime.retryFlow(steady, h.id);
      expect((await h.settle()).result).toEqual({ response: "flaky" });
      expect(ran).toEqual(["flaky:one", "flaky:two"]);
      await expect(t.runtime.retryFlow(steady, h.id)).rejects.toMatchObject({ code: "INVALID_FLOW_STATE" });
    });

    it("a retry does not re-run a step that completed after a failure the flow caught", async () => {
      open();
      const h = await t.start(afterCaught, undefined);
      expect((await h.settle()).result).toMatchObject({ error: { message: "ship broke" } });
      cFails = false;
      await t.runtime.retryFlow(afterCaught, h.id);
      expect((await h.settle()).result).toEqual({ response: "shipped" });
      expect(ran).toEqual(["probe", "charge", "ship", "ship"]);
      expect((await h.steps()).map((s) => [s.seq, s.key, s.ok])).toEqual([[0, "probe", false], [1, "charge", true], [2, "ship", true]]);
    });

    it("a retry runs again a step whose compensation undid it, and undoes the new run if it fails again", async () => {
      open();
      const h = await t.start(trip, undefined);
      expect((await h.settle()).result).toMatchObject({ error: { message: "no rooms" } });
      expect(ran).toEqual(["book flight", "hotel", "cancel F1"]);
      await t.runtime.retryFlow(trip, h.id);
      expect((await h.settle()).result).toMatchObject({ error: { message: "no rooms" } });
      expect(ran.slice(3)).toEqual(["book flight", "hotel", "cancel F2"]);
      hotelFails = false;
      await t.runtime.retryFlow(trip, h.id);
      expect((await h.settle()).result).toEqual({ response: "F3" });
      expect((await h.steps()).map((s) => s.key)).toEqual(["flight", "hotel"]);
    });

    it("a retry runs again only what compensations undid and the failed step, not a step with no undo between them", async () => {
      open();
      const h = await t.start(tripWithNotice, undefined);
      expect((await h.settle()).result).toMatchObject({ error: { message: "no rooms" } });
      expect(ran).toEqual(["book flight", "notify", "hotel", "cancel F1"]);
      hotelFails = false;
      await t.runtime.retryFlow(tripWithNotice, h.id);
      expect((await h.settle()).result).toEqual({ response: "F2" });
      expect(ran.slice(4)).toEqual(["book flight", "hotel"]);
      expect((await h.steps()).map((s) => s.key).sort()).toEqual(["flight", "hotel", "notify"]);
    });

    it("continuing a paused flow that has not started keeps its start delay", async () => {
      open();
      const start = t.clock.now();
      const h = await t.start(steady, { tag: "d" }, 3600);
      await t.runtime.pauseFlow(steady, h.id);
      await t.runtime.continueFlow(steady, h.id);
      await t.clock.advance(1_800_000);
      await t.runtime.idle();
      expect(ran).toEqual([]);
      expect((await h.record())).toMatchObject({ status: "scheduled", wakeAt: start + 3_600_000 });
      expect((await h.settle()).result).toEqual({ response: "d" });
    });

    it("deletes only finished flows, with their journal and history", async () => {
      open();
      const h = await t.start(steady, { tag: "d" });
      await t.runtime.idle();
      const before = await h.record();
      await expect(t.runtime.deleteFlow(steady, h.id)).rejects.toMatchObject({ code: "INVALID_FLOW_STATE" });
      expect(await h.record()).toEqual(before);
      await h.settle();
      await t.runtime.deleteFlow(steady, h.id);
      await expect(t.runtime.getFlowState(steady, h.id)).rejects.toMatchObject({ code: "FLOW_NOT_FOUND" });
      expect(await t.store.history(h.id)).toEqual([]);
    });

    it("refuses a resume of the wrong interrupt and keeps the history of every transition", async () => {
      open();
      const h = await t.start(asks, undefined);
      await h.settle();
      await expect(t.runtime.resumeFlow(asks, h.id, "x", { step: "second" })).rejects.toMatchObject({ code: "NOT_BLOCKED_ON_INTERRUPT" });
      await h.resume("a", { step: "first" });
      expect((await h.resume("b")).result).toEqual({ response: "ab" });
      const types = (await t.runtime.getFlowHistory(asks, h.id)).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(["flow.scheduled", "flow.started", "step.interrupted", "flow.suspended", "flow.resumed", "step.completed", "flow.succeeded"]));
    });

    it("lists flows newest first by name and status, paged", async () => {
      open();
      for (let i = 0; i < 5; i++) {
        await t.start(steady, { tag: `l${i}` });
        t.clock.set(t.clock.now() + 1000);
      }
      await t.runtime.idle();
      const first = await t.runtime.listFlows({ flowName: "ctlSteady", status: "waiting", limit: 3 });
      expect(first.flows).toHaveLength(3);
      const second = await t.runtime.listFlows({ flowName: "ctlSteady", status: "waiting", limit: 3, cursor: first.cursor! });
      const tags = [...first.flows, ...second.flows].map((f) => (f.input as { tag: string }).tag);
      expect(tags).toEqual(["l4", "l3", "l2", "l1", "l0"]);
      await expect(t.runtime.listFlows({ limit: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    });

    it("purges finished flows older than the retention age, and nothing else", async () => {
      open();
      const old = await t.start(steady, { tag: "old" });
      await old.settle();
      t.clock.set(t.clock.now() + 10 * 86_400_000);
      const recent = await t.start(steady, { tag: "recent" });
      await recent.settle();
      const waiting = await t.start(steady, { tag: "waiting" });
      await t.runtime.idle();
      const result = await purgeFinishedFlows(t.runtime, { finishedOlderThanSeconds: 7 * 86_400 });
      expect(result.deleted).toBe(1);
      await expect(t.runtime.getFlowState(steady, old.id)).rejects.toMatchObject({ code: "FLOW_NOT_FOUND" });
      expect((await recent.state()).done).toBe(true);
      expect((await waiting.state()).done).toBe(false);
    });
  });
}
