/**
 * firestep/firebase: flows as Cloud Functions for Firebase. `onScheduledFlow` returns a deployable
 * `onTaskDispatched` function; state lives in Firestore and wake-ups go through Cloud Tasks.
 *
 * Importing this module registers the Firebase backend as the default runtime inside Cloud Functions
 * (and the Functions emulator), or anywhere with FIRESTEP_BACKEND=firebase; configureFirestep() overrides it.
 */
import { registerBackend } from "../runtime/configure.js";
import { defaultFirestore } from "./admin-app.js";
import { createFirebaseRuntime } from "./firebase-runtime.js";

registerBackend({
  name: "firebase",
  applies: (env) => Boolean(env.FUNCTION_TARGET || env.K_SERVICE || env.FUNCTIONS_EMULATOR === "true"),
  create: (env) => createFirebaseRuntime({ firestore: defaultFirestore(), ...(env.FIRESTEP_COLLECTION ? { collection: env.FIRESTEP_COLLECTION } : {}) }),
});

export { onScheduledFlow, DEFAULT_FUNCTION_OPTIONS, type ScheduledFlowConfig, type ScheduledFlowFunction } from "./on-scheduled-flow.js";
export { createFirebaseRuntime, queueForFlow, type FirebaseRuntimeOptions } from "./firebase-runtime.js";
export { createFirestoreStore, type FirestoreStoreOptions, type FirestoreStoreStats } from "./firestore-store.js";
export { createFunctionsTaskQueue, type FunctionsTaskQueueOptions, type FunctionsLike } from "./functions-task-queue.js";
export type { EnqueueRetryOptions } from "./task-ids.js";
export { createCloudTasksQueue, type CloudTasksQueueOptions, type CloudTasksClientLike, type CloudTaskRequest } from "./cloud-tasks-queue.js";
export { createOidcVerifier, OidcVerificationError, type OidcVerifier, type OidcVerifierOptions, type PublicKeys, type PublicJwk } from "./oidc-verify.js";
export {
  run, runAction, action, interrupt, sleep, sleepUntil, poll, waitFor, now, uuid, random, InterruptError,
  startChild, awaitFlows, waitForSignal, patched, runMap,
  scheduleFlow, resumeFlow, getFlowState, listFlows, getFlowHistory, pauseFlow, continueFlow, cancelFlow, retryFlow, deleteFlow,
  signalFlow, queryFlow,
  configureFirestep, NonRetriableError,
} from "../index.js";
export { onCronFlow, type CronFlowOptions, type CronFlowFunction } from "./cron-flow.js";
export { onRetentionSchedule } from "./retention-schedule.js";
