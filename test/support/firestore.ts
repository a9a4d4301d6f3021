/**
 * Firestore clients for emulator tests: each call makes its own firebase-admin app (so two calls are two
 * independent clients), pointed at the emulator the global setup started, with a `demo-` project so
 * nothing needs credentials or leaves the machine.
 */
import { randomUUID } from "node:crypto";
import { deleteApp, initializeApp } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import { inject } from "vitest";

export const TEST_PROJECT_ID = "demo-firestep";

/** The emulator's "127.0.0.1:PORT"; throws with a fix when no emulator was started for this run. */
export function emulatorHost(): string {
  const host = inject("firestoreEmulatorHost") || process.env.FIRESTORE_EMULATOR_HOST || "";
  if (!host) {
    throw new Error(
      "No Firestore emulator is running for this test: name the test file *.emulator.test.ts so " +
        "test/support/global-setup.ts starts one, and keep globalSetup in vitest.config.ts.",
    );
  }
  return host;
}

export interface TestFirestore {
  firestore: Firestore;
  /** Deletes the firebase-admin app (and closes its connections). */
  close(): Promise<void>;
}

export function testFirestore(projectId = TEST_PROJECT_ID): TestFirestore {
  if (!projectId.startsWith("demo-")) throw new Error(`Use a "demo-" project id in tests (got "${projectId}"), so nothing leaves the machine.`);
  const host = emulatorHost();
  process.env.FIRESTORE_EMULATOR_HOST = host;
  process.env.METADATA_SERVER_DETECTION = "none";
  const app = initializeApp({ projectId }, `firestep-test-${randomUUID()}`);
  const firestore = getFirestore(app);
  return { firestore, close: () => deleteApp(app) };
}

/** Deletes every document of `projectId` in the emulator. */
export async function clearFirestore(host = emulatorHost(), projectId = TEST_PROJECT_ID): Promise<void> {
  if (!projectId.startsWith("demo-")) throw new Error(`Refusing to clear project "${projectId}": only "demo-" projects are cleared.`);
  if (!/^(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(host)) throw new Error(`Refusing to clear Firestore at "${host}": not a loopback emulator address.`);
  const res = await fetch(`http://${host}/emulator/v1/projects/${projectId}/databases/(default)/documents`, { method: "DELETE" });
  if (!res.ok) throw new Error(`Clearing the Firestore emulator failed: HTTP ${res.status} ${await res.text()}`);
}

/** A collection name no other test uses. */
export function uniqueCollection(prefix = "flows"): string {
  return `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}
