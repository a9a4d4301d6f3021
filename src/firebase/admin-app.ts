/** The firebase-admin app Firestep uses when none is passed: the default app, initialized on first use. */
import { getApps, initializeApp, type App } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";

export function defaultApp(): App {
  return getApps()[0] ?? initializeApp();
}

export function defaultFirestore(): Firestore {
  return getFirestore(defaultApp());
}
