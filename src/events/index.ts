/**
 * firestep/events: sinks that carry the runtime's flow events elsewhere. Each imports its client as a
 * type only, so the client stays the app's dependency.
 */
export { createPubSubSink, attachPubSubSink, type PubSubTopic, type PubSubSink, type PubSubSinkOptions } from "./pubsub-sink.js";
