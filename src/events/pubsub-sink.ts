/**
 * Publishes the runtime's flow events to a Pub/Sub topic, one JSON message per event with the attributes
 * `flowId`, `flowName` and `type`. Publishing goes through the client's own batching; a failure goes to
 * `onError` and never into the runtime.
 */
import type { FlowRuntime } from "../runtime/runtime.js";
import type { FlowEvent, FlowEventListener } from "../runtime/runtime-core.js";

/**
 * The part of a `@google-cloud/pubsub` `Topic` the sink uses. A structural type, so this module needs no
 * import of the client: pass `pubsub.topic("flow-events")`.
 */
export interface PubSubTopic {
  publishMessage(message: { data: Buffer; attributes: Record<string, string>; orderingKey?: string }): Promise<string>;
  flush(): Promise<void>;
  resumePublishing(orderingKey: string): void;
}

export interface PubSubSinkOptions {
  topic: PubSubTopic;
  /** Called when a publish fails (default: console.warn). The event is dropped, not retried. */
  onError?: (error: unknown, event: FlowEvent) => void;
  /**
   * Publish with the flow's id as the ordering key (default true), so a subscription created with
   * `enableMessageOrdering: true` receives each flow's events in order.
   */
  ordered?: boolean;
}

export interface PubSubSink extends FlowEventListener {
  /** Resolves when every event handed to the sink so far has been published or has failed. */
  flush(): Promise<void>;
}

export function createPubSubSink(options: PubSubSinkOptions): PubSubSink {
  const { topic } = options;
  const ordered = options.ordered ?? true;
  const onError = options.onError ?? ((error, event) => console.warn(`[firestep] could not publish ${event.type} of flow ${event.flowId}`, String(error)));
  const pending = new Set<Promise<void>>();

  const report = (error: unknown, event: FlowEvent) => {
    // A failed publish pauses its ordering key in the client; later events of the flow should still go out.
    try {
      if (ordered) topic.resumePublishing(event.flowId);
    } catch {
      // Nothing to resume is not a failure worth reporting twice.
    }
    try {
      onError(error, event);
    } catch {
      // onError is the user's; its failure must not reach the runtime either.
    }
  };

  const sink = ((event: FlowEvent) => {
    try {
      const message = {
        data: Buffer.from(JSON.stringify(event), "utf8"),
        attributes: { flowId: event.flowId, flowName: event.flowName, type: event.type },
        ...(ordered ? { orderingKey: event.flowId } : {}),
      };
      const p: Promise<void> = topic.publishMessage(message).then(
        () => undefined,
        (e: unknown) => report(e, event),
      );
      pending.add(p);
      void p.finally(() => pending.delete(p));
    } catch (e) {
      report(e, event);
    }
  }) as PubSubSink;

  sink.flush = async () => {
    // The client's flush sends an ordering key's next batch even while the previous one is in flight, so
    // the two can land out of order; with ordering keys, wait for the batches to go out on their own.
    if (!ordered) await topic.flush().catch(() => undefined);
    await Promise.all([...pending]);
  };
  return sink;
}

/** Publishes `runtime`'s events to `topicOrSink`; returns the function that stops it. */
export function attachPubSubSink(runtime: FlowRuntime, topicOrSink: PubSubTopic | FlowEventListener): () => void {
  const sink =
    typeof topicOrSink === "function"
      ? topicOrSink
      : createPubSubSink({
          topic: topicOrSink,
          onError: (error, event) => runtime.core.log("error", "could not publish a flow event to Pub/Sub", { flowId: event.flowId, type: event.type, error: String(error) }),
        });
  return runtime.subscribe(sink);
}
