import { PubSub, type Message, type Subscription, type Topic } from "@google-cloud/pubsub";
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineFlow } from "../../src/flow.js";
import { run } from "../../src/engine/steps.js";
import { sleep } from "../../src/engine/waiting-steps.js";
import type { FlowEvent } from "../../src/runtime/runtime-core.js";
import { attachPubSubSink, createPubSubSink } from "../../src/events/pubsub-sink.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";
import { startPubSubEmulator, type PubSubEmulator } from "../support/pubsub-emulator.js";

const order = defineFlow({ name: "pubsubOrder", input: z.object({ sku: z.string() }), output: z.string() }, async ({ sku }) => {
  const charged = await run("charge", () => `charged ${sku}`);
  await sleep("cool-off", 60);
  await run("ship", () => "shipped");
  return charged;
});

let emulator: PubSubEmulator;
let pubsub: PubSub;
let t: TestRuntime;

beforeAll(async () => {
  emulator = await startPubSubEmulator();
  // The endpoint goes to this client only; the process environment is left alone.
  pubsub = new PubSub({ projectId: "demo-firestep", apiEndpoint: emulator.host });
}, 60_000);
afterAll(async () => {
  await pubsub?.close();
  await emulator?.stop();
});
afterEach(async () => t?.close());

async function freshTopic(): Promise<{ topic: Topic; subscription: Subscription }> {
  const [topic] = await pubsub.createTopic(`flow-events-${randomUUID()}`);
  const [subscription] = await topic.createSubscription(`all-${randomUUID()}`, { enableMessageOrdering: true });
  return { topic, subscription };
}

/** Collects messages until `done` says so (or times out, failing with what arrived). */
function collect(subscription: Subscription, done: (messages: Message[]) => boolean, timeoutMs = 20_000): Promise<Message[]> {
  const messages: Message[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void subscription.close();
      reject(new Error(`Timed out; got ${messages.map((m) => `${m.attributes.flowId?.slice(0, 8)}:${m.attributes.type}`).join(", ")}`));
    }, timeoutMs);
    subscription.on("error", reject);
    subscription.on("message", (m: Message) => {
      messages.push(m);
      m.ack();
      if (done(messages)) {
        clearTimeout(timer);
        void subscription.close().then(() => resolve(messages));
      }
    });
  });
}

describe("Pub/Sub event sink (emulator)", () => {
  it("publishes every event of each flow, in order, as JSON with flowId, flowName and type attributes", async () => {
    const { topic, subscription } = await freshTopic();
    t = createTestRuntime();
    const local: FlowEvent[] = [];
    t.runtime.subscribe((e) => local.push(e));
    const sink = createPubSubSink({ topic, onError: (e) => local.push({ type: "flow.failed", detail: String(e) } as FlowEvent) });
    const unsubscribe = t.runtime.subscribe(sink);

    const [a, b] = await Promise.all([t.start(order, { sku: "A-1" }), t.start(order, { sku: "B-2" })]);
    expect(await a.settle()).toMatchObject({ done: true, result: { response: "charged A-1" } });
    expect(await b.settle()).toMatchObject({ done: true, result: { response: "charged B-2" } });
    unsubscribe();
    await sink.flush();

    const finished = (ms: Message[]) => ms.filter((m) => m.attributes.type === "flow.succeeded").length === 2;
    const messages = await collect(subscription, finished);

    for (const handle of [a, b]) {
      const mine = messages.filter((m) => m.attributes.flowId === handle.id);
      const types = mine.map((m) => m.attributes.type);
      expect(types).toEqual([
        "flow.scheduled",
        "flow.started",
        "step.started",
        "step.completed",
        "step.slept",
        "flow.suspended",
        "flow.started",
        "step.started",
        "step.completed",
        "flow.succeeded",
      ]);
      expect(types).toEqual(local.filter((e) => e.flowId === handle.id).map((e) => e.type));
      for (const m of mine) {
        expect(m.attributes).toEqual({ flowId: handle.id, flowName: "pubsubOrder", type: m.attributes.type });
        const body = JSON.parse(m.data.toString("utf8")) as FlowEvent;
        expect(body).toMatchObject({ flowId: handle.id, flowName: "pubsubOrder", type: m.attributes.type, at: expect.any(Number) });
        expect(m.orderingKey).toBe(handle.id);
      }
      expect(mine.filter((m) => m.attributes.type === "step.completed").map((m) => (JSON.parse(m.data.toString()) as FlowEvent).step)).toEqual([
        "charge",
        "ship",
      ]);
    }
  });

  it("reports a publish the server refuses to onError while the flow runs on", async () => {
    // A topic that was never created: the emulator answers NOT_FOUND.
    const missing: Topic = pubsub.topic(`never-created-${randomUUID()}`);
    t = createTestRuntime();
    const errors: Array<{ error: unknown; type: string }> = [];
    const sink = createPubSubSink({ topic: missing, onError: (error, event) => errors.push({ error, type: event.type }) });
    const unsubscribe = t.runtime.subscribe(sink);
    const op = await t.run(order, { sku: "C-3" });
    unsubscribe();
    await sink.flush();
    expect(op).toMatchObject({ done: true, result: { response: "charged C-3" } });
    expect(errors.length).toBeGreaterThan(0);
    expect(String(errors[0]!.error)).toMatch(/NOT_FOUND|not found/i);
  });

  it("attaches to a runtime by topic and detaches with the returned function", async () => {
    const { topic, subscription } = await freshTopic();
    let published = 0;
    const counted = {
      publishMessage: (m: Parameters<Topic["publishMessage"]>[0]) => (published++, topic.publishMessage(m)),
      flush: () => topic.flush(),
      resumePublishing: (key: string) => topic.resumePublishing(key),
    };
    t = createTestRuntime();
    const detach = attachPubSubSink(t.runtime, counted);
    const first = await t.run(order, { sku: "D-4" });
    detach();
    const afterFirst = published;
    await t.run(order, { sku: "E-5" });
    expect(published).toBe(afterFirst);
    await topic.flush();
    const messages = await collect(subscription, (ms) => ms.some((m) => m.attributes.type === "flow.succeeded"));
    expect(messages).toHaveLength(afterFirst);
    expect(new Set(messages.map((m) => m.attributes.flowId))).toEqual(new Set([first.name]));
  });
});
