import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineFlow } from "../../src/flow.js";
import { run } from "../../src/engine/steps.js";
import { attachPubSubSink, createPubSubSink, type PubSubTopic } from "../../src/events/pubsub-sink.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";

const hello = defineFlow({ name: "sinkHello", input: z.void(), output: z.string() }, async () => run("hi", () => "hi"));

type Sent = Parameters<PubSubTopic["publishMessage"]>[0];

function fakeTopic(publish: (m: Sent) => Promise<string>): PubSubTopic & { resumed: string[] } {
  const resumed: string[] = [];
  return { resumed, publishMessage: publish, flush: async () => undefined, resumePublishing: (k) => void resumed.push(k) };
}

let t: TestRuntime;
afterEach(async () => t?.close());

describe("Pub/Sub event sink", () => {
  it("never lets a failing topic or onError reach the runtime", async () => {
    t = createTestRuntime();
    const seen: string[] = [];
    const throwing = fakeTopic(() => {
      throw new Error("client closed");
    });
    const rejecting = fakeTopic(async () => {
      throw new Error("9 FAILED_PRECONDITION");
    });
    const explode = (e: unknown) => {
      seen.push(String(e));
      throw new Error("onError failed too");
    };
    const sinks = [createPubSubSink({ topic: throwing, onError: explode }), createPubSubSink({ topic: rejecting, onError: explode })];
    for (const s of sinks) t.runtime.subscribe(s);
    expect(await t.run(hello, undefined)).toMatchObject({ done: true, result: { response: "hi" } });
    await Promise.all(sinks.map((s) => s.flush()));
    expect(seen.some((s) => s.includes("client closed"))).toBe(true);
    expect(seen.some((s) => s.includes("FAILED_PRECONDITION"))).toBe(true);
  });

  it("resumes a flow's ordering key after a failed publish so its later events still go out", async () => {
    t = createTestRuntime();
    let n = 0;
    const sent: Sent[] = [];
    const topic = fakeTopic(async (m) => {
      if (n++ === 0) throw new Error("14 UNAVAILABLE");
      sent.push(m);
      return String(n);
    });
    const sink = createPubSubSink({ topic, onError: () => undefined });
    t.runtime.subscribe(sink);
    const op = await t.run(hello, undefined);
    await sink.flush();
    expect(topic.resumed).toEqual([op.name]);
    expect(sent.at(-1)).toMatchObject({ orderingKey: op.name, attributes: { flowId: op.name, flowName: "sinkHello", type: "flow.succeeded" } });
  });

  it("publishes without an ordering key when asked, and attaches a ready-made sink", async () => {
    t = createTestRuntime();
    const sent: Sent[] = [];
    const sink = createPubSubSink({ topic: fakeTopic(async (m) => (sent.push(m), "1")), ordered: false });
    const detach = attachPubSubSink(t.runtime, sink);
    await t.run(hello, undefined);
    detach();
    const count = sent.length;
    await t.run(hello, undefined);
    expect(sent.length).toBe(count);
    expect(sent.every((m) => m.orderingKey === undefined)).toBe(true);
    expect(JSON.parse(sent[0]!.data.toString("utf8"))).toMatchObject({ type: "flow.scheduled", flowName: "sinkHello" });
  });
});
