/**
 * The Firebase runtime: flow state in Firestore, wake-ups through Cloud Tasks to each flow's
 * `onTaskDispatched` function. Also what app code elsewhere (an HTTP function, a script with the Admin
 * SDK) uses to schedule, resume and read flows without running their code.
 */
import type { Firestore } from "firebase-admin/firestore";
import type { TaskQueue } from "../ports.js";
import { createRuntime, type FlowRuntime } from "../runtime/runtime.js";
import type { RuntimeOptions } from "../runtime/runtime-core.js";
import { createFirestoreStore } from "./firestore-store.js";
import { createFunctionsTaskQueue } from "./functions-task-queue.js";
import { NotConfiguredError } from "../errors.js";

export interface FirebaseRuntimeOptions extends Partial<Omit<RuntimeOptions, "store">> {
  firestore: Firestore;
  /** Collection of flow documents (default "firestep-flows"). */
  collection?: string;
  /** Default: Cloud Tasks through firebase-admin, to the task function named after each flow (see `queueFor`). */
  queue?: TaskQueue;
}

/** What the task queue needs to know of a flow's task function, read from its deployed definition. */
export interface FunctionLocation {
  /** The region it is deployed in (its own `region`, else `setGlobalOptions`' at its definition), or a param read when first needed. */
  region?: unknown;
  /** Its `timeoutSeconds`, which bounds how long Cloud Tasks waits for a delivery. */
  timeoutSeconds?: unknown;
}

/** Filled in by `onScheduledFlow` from each function's endpoint. */
const functionLocations = new Map<string, FunctionLocation>();

export function registerFunctionLocation(flowName: string, location: FunctionLocation): void {
  functionLocations.set(flowName, location);
}

/**
 * An option as firebase-functions holds it: a value, a list of one (`__endpoint.region`), a param
 * (`defineString(...)`, read with `.value()` at run time), or `RESET_VALUE` (unset).
 */
function resolveOption(option: unknown, what: string, flowName: string): unknown {
  const one = Array.isArray(option) ? option[0] : option;
  if (typeof one !== "object" || one === null || typeof (one as { value?: unknown }).value !== "function") return one;
  let value: unknown;
  let problem = "it has no value here";
  try {
    value = (one as { value(): unknown }).value();
  } catch (e) {
    problem = e instanceof Error ? e.message : String(e);
  }
  // An unset param reads as "" (or 0): enqueueing to the default region instead would lose the wake-up.
  if (value === "" || value === 0 || value === undefined) {
    throw new NotConfiguredError(
      `The ${what} of flow "${flowName}"'s task function is a param that could not be read (${problem}). ` +
        `Set the param in this process's environment, or give the flow a literal ${what}.`,
    );
  }
  return value;
}

/** The task queue resource for a flow: `locations/REGION/functions/NAME`, or just the name (us-central1). */
export function queueForFlow(flowName: string): string {
  const region = resolveOption(functionLocations.get(flowName)?.region, "region", flowName);
  return typeof region === "string" && region !== "" ? `locations/${region}/functions/${flowName}` : flowName;
}

/** Cloud Tasks waits 10 minutes for a delivery by default; a function allowed longer must get as long (15 s to 30 min). */
export function dispatchDeadlineForFlow(flowName: string): number | undefined {
  const timeout = resolveOption(functionLocations.get(flowName)?.timeoutSeconds, "timeoutSeconds", flowName);
  return typeof timeout === "number" && Number.isFinite(timeout) && timeout > 0 ? Math.min(1800, Math.max(15, Math.ceil(timeout))) : undefined;
}

export function createFirebaseRuntime(options: FirebaseRuntimeOptions): FlowRuntime {
  const { firestore, collection, queue, ...rest } = options;
  return createRuntime({
    // A Cloud Function instance may be frozen between invocations: the lease must outlive a whole
    // invocation's quiet stretches, and heartbeats renew it while a long step runs.
    leaseSeconds: 120,
    ...rest,
    store: createFirestoreStore({ firestore, ...(collection ? { collection } : {}) }),
    queue: queue ?? createFunctionsTaskQueue({ queueFor: queueForFlow, dispatchDeadlineFor: dispatchDeadlineForFlow }),
  });
}
