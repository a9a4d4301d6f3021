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

export interface FirebaseRuntimeOptions extends Partial<Omit<RuntimeOptions, "store">> {
  firestore: Firestore;
  /** Collection of flow documents (default "firestep-flows"). */
  collection?: string;
  /** Default: Cloud Tasks through firebase-admin, to the task function named after each flow (see `queueFor`). */
  queue?: TaskQueue;
}

/** Where each flow's task function lives, filled in by `onScheduledFlow` from its `region` option. */
const functionLocations = new Map<string, string>();

export function registerFunctionLocation(flowName: string, region: string | undefined): void {
  if (region) functionLocations.set(flowName, region);
}

/** The task queue resource for a flow: `locations/REGION/functions/NAME`, or just the name (us-central1). */
export function queueForFlow(flowName: string): string {
  const region = functionLocations.get(flowName);
  return region ? `locations/${region}/functions/${flowName}` : flowName;
}

export function createFirebaseRuntime(options: FirebaseRuntimeOptions): FlowRuntime {
  const { firestore, collection, queue, ...rest } = options;
  return createRuntime({
    // A Cloud Function instance may be frozen between invocations: the lease must outlive a whole
    // invocation's quiet stretches, and heartbeats renew it while a long step runs.
    leaseSeconds: 120,
    ...rest,
    store: createFirestoreStore({ firestore, ...(collection ? { collection } : {}) }),
    queue: queue ?? createFunctionsTaskQueue({ queueFor: queueForFlow }),
  });
}
