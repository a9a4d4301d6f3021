/**
 * What the CLI opens for `--backend firestore`: the Firestore store, and a Cloud Tasks queue to the flows'
 * deployed task functions (in `region`, us-central1 by default), so a flow that a command resumes, continues,
 * retries or cancels is woken by its function as if app code had made the change.
 */
import { initializeApp, getApps } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { getFunctions } from "firebase-admin/functions";
import type { FlowStore, TaskQueue } from "../ports.js";
import { createFirestoreStore } from "./firestore-store.js";
import { createFunctionsTaskQueue } from "./functions-task-queue.js";

export interface FirestoreCliBackend {
  store: FlowStore;
  queue: TaskQueue;
  /** Where a flow's wake-ups go, for messages: its task function's queue. */
  queueFor(flowName: string): string;
}

export function firestoreBackendFor(projectId: string, collection?: string, region?: string): FirestoreCliBackend {
  const name = `firestep-cli-${projectId}`;
  const app = getApps().find((a) => a.name === name) ?? initializeApp({ projectId }, name);
  const queueFor = (flowName: string) => (region ? `locations/${region}/functions/${flowName}` : flowName);
  return {
    store: createFirestoreStore({ firestore: getFirestore(app), ...(collection ? { collection } : {}) }),
    queue: createFunctionsTaskQueue({ functions: getFunctions(app), queueFor }),
    queueFor,
  };
}
