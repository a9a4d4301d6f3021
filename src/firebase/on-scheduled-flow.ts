/**
 * `onScheduledFlow` for Firebase: defines the flow and returns a deployable v2 `onTaskDispatched`
 * function (its `__endpoint` intact, so `firebase deploy` and the emulator find it as a task queue
 * function) with the flow attached as `.flow`. The function only adapts a task delivery to the runtime.
 */
import { logger } from "firebase-functions";
import { onTaskDispatched, type TaskQueueFunction, type TaskQueueOptions } from "firebase-functions/v2/tasks";
import type { z } from "zod";
import { defineFlow, type Flow, type FlowConfig, type FlowFn, type FlowSignals } from "../flow.js";
import { getRuntime } from "../runtime/configure.js";
import { WakeTaskSchema, type WakeTask } from "../schemas.js";
import { formatIssues } from "../errors.js";
import { registerFunctionLocation } from "./firebase-runtime.js";

export type ScheduledFlowConfig<
  I extends z.ZodType,
  O extends z.ZodType,
  S extends FlowSignals = FlowSignals,
  R extends Record<string, unknown> = Record<string, unknown>,
> = FlowConfig<I, O, S, R> & TaskQueueOptions;

export type ScheduledFlowFunction<
  I extends z.ZodType,
  O extends z.ZodType,
  S extends FlowSignals = FlowSignals,
  R extends Record<string, unknown> = Record<string, unknown>,
> = TaskQueueFunction<WakeTask> & { readonly flow: Flow<I, O, S, R> };

/** Defaults for a flow's task function; every one can be overridden in the config. */
export const DEFAULT_FUNCTION_OPTIONS: TaskQueueOptions = {
  // Cloud Tasks retries a delivery that failed (threw); the runtime makes every delivery idempotent.
  retryConfig: { maxAttempts: 20, minBackoffSeconds: 5, maxBackoffSeconds: 300, maxDoublings: 5 },
  rateLimits: { maxConcurrentDispatches: 100 },
  timeoutSeconds: 540,
  memory: "512MiB",
};

const FLOW_CONFIG_KEYS = new Set(["name", "input", "output", "version", "defaultRetryConfig", "signals", "queries", "deadlineSeconds", "cancelChildren", "concurrencyKey"]);

export function onScheduledFlow<I extends z.ZodType, O extends z.ZodType, S extends FlowSignals = {}, R extends Record<string, unknown> = {}>(
  config: ScheduledFlowConfig<I, O, S, R>,
  fn: FlowFn<I, O>,
): ScheduledFlowFunction<I, O, S, R> {
  const flowConfig = Object.fromEntries(Object.entries(config).filter(([k]) => FLOW_CONFIG_KEYS.has(k))) as unknown as FlowConfig<I, O, S, R>;
  const functionOptions = Object.fromEntries(Object.entries(config).filter(([k]) => !FLOW_CONFIG_KEYS.has(k))) as TaskQueueOptions;
  const flow = defineFlow(flowConfig, fn);
  const options = withDefaults(functionOptions);
  const handler = onTaskDispatched<WakeTask>(options, async (request) => {
    const parsed = WakeTaskSchema.safeParse(request.data);
    if (!parsed.success || parsed.data.flowName !== flow.name) {
      // A malformed or misrouted task can never succeed: acknowledge it (no retry) and say so in the log.
      logger.error(`firestep: dropped a task for ${flow.name} that is not a valid wake-up`, {
        issues: parsed.success ? `flowName is ${parsed.data.flowName}` : formatIssues(parsed.error),
      });
      return;
    }
    const result = await getRuntime().deliver(parsed.data, { taskId: request.id });
    logger.debug(`firestep: ${flow.name}/${parsed.data.flowId} ${result.result}`, { ...result, retryCount: request.retryCount });
  });
  // The endpoint is what `firebase deploy` reads: the region there includes setGlobalOptions' (set before this definition).
  registerFunctionLocation(flow.name, { region: handler.__endpoint?.region, timeoutSeconds: handler.__endpoint?.timeoutSeconds });
  return Object.assign(handler, { flow });
}

/** The defaults under the given options, field by field within `retryConfig` and `rateLimits`: setting one field keeps the others' defaults. */
function withDefaults(given: TaskQueueOptions): TaskQueueOptions {
  const merged: TaskQueueOptions = { ...DEFAULT_FUNCTION_OPTIONS, ...given };
  for (const key of ["retryConfig", "rateLimits"] as const) {
    const value = given[key];
    if (isPlainObject(value)) Object.assign(merged, { [key]: { ...DEFAULT_FUNCTION_OPTIONS[key], ...value } });
  }
  return merged;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}
