/**
 * firestep: durable, step-memoized flows. Define a flow, call steps inside it, and schedule it from app
 * code; the same flow runs on the embedded runtime (files, in-process queue) and, through
 * `firestep/firebase`, as a Cloud Function with Firestore state and Cloud Tasks wake-ups.
 */
export {
  defineFlow, onScheduledFlow, action,
  type Flow, type FlowConfig, type FlowFn, type FlowRef, type FlowOf, type FlowView, type Action, type FlowInput, type FlowOutput,
  type FlowSignals, type FlowQueries, type SignalName, type SignalPayload, type QueryName, type QueryResult,
} from "./flow.js";
export { run, runAction, now, uuid, random, type RunOptions, type StepAttempt } from "./engine/steps.js";
export { interrupt, sleep, sleepUntil, poll, waitFor, type InterruptOptions } from "./engine/waiting-steps.js";
export { startChild, awaitFlows, type ChildHandle } from "./engine/child-steps.js";
export { waitForSignal } from "./engine/signal-steps.js";
export { patched } from "./engine/versioning.js";
export { runMap } from "./engine/run-map.js";
export { InterruptError, isInterruptError } from "./engine/suspension.js";
export type { RetryConfig, PollConfig } from "./engine/retry-policy.js";
export type { Operation } from "./engine/operation.js";
export {
  scheduleFlow, resumeFlow, getFlowState, listFlows, getFlowHistory, pauseFlow, continueFlow, cancelFlow, retryFlow, deleteFlow,
  signalFlow, queryFlow,
} from "./app-api.js";
export { configureFirestep, getRuntime, resetFirestep, registerBackend, type FirestepConfig, type BackendResolver } from "./runtime/configure.js";
export { createRuntime, type FlowRuntime, type ScheduleOptions, type ResumeOptions, type FlowDetails } from "./runtime/runtime.js";
export { purgeFinishedFlows, startRetention, type RetentionOptions } from "./runtime/retention.js";
export { createEmbeddedRuntime, type EmbeddedRuntime, type EmbeddedRuntimeOptions } from "./runtime/embedded-runtime.js";
export { systemClock, type FlowEvent, type FlowEventListener, type RuntimeOptions } from "./runtime/runtime-core.js";
export type { DeliveryResult, DeliveryMeta } from "./runtime/delivery.js";
export type { OutcomeKind } from "./engine/invoke.js";
export { createMemoryStore, type MemoryStoreOptions } from "./stores/memory-store.js";
export { createFileStore, type FileStoreOptions, type FileStoreStats } from "./stores/file-store.js";
export { createLocalQueue, type LocalQueueOptions } from "./queues/local-queue.js";
export * from "./errors.js";
export type { FlowStore, TaskQueue, LocalTaskQueue, Clock, Commit, ListQuery, ListPage, LoadedFlow, QueuedTask } from "./ports.js";
export type { FlowRecord, StepRecord, HistoryEvent, Wait, FlowStatus, WakeTask } from "./schemas.js";
export { FlowRecordSchema, StepRecordSchema, HistoryEventSchema, WaitSchema, WakeTaskSchema } from "./schemas.js";
export { defineDagFlow, dagWaves, type DagFlowConfig } from "./dag/define-dag-flow.js";
export type { DagStep, DagSteps, DagStepContext, DagOutputs } from "./dag/dag-graph.js";
export { scheduleCron, type ScheduleCronOptions, type CronHandle, type CronTickEvent } from "./cron/schedule-cron.js";
export type { CronOverlap, CronTickResult } from "./cron/cron-tick.js";
export { nextRun, parseCron, type CronSchedule } from "./cron/cron-expression.js";
