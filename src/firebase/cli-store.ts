/** The Firestore store the CLI opens for `--backend firestore`. */
import { initializeApp, getApps } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import type { FlowStore } from "../ports.js";
import { createFirestoreStore } from "./firestore-store.js";

export function firestoreStoreFor(projectId: string, collection?: string): FlowStore {
  const name = `firestep-cli-${projectId}`;
  const app = getApps().find((a) => a.name === name) ?? initializeApp({ projectId }, name);
  return createFirestoreStore({ firestore: getFirestore(app), ...(collection ? { collection } : {}) });
}
