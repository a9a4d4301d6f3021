/**
 * vitest globalSetup: one Firestore emulator for the whole run, started only when a selected test file
 * needs it (`*.emulator.test.ts`). Tests read its host with `inject("firestoreEmulatorHost")`; child
 * processes see FIRESTORE_EMULATOR_HOST.
 */
import type { TestProject } from "vitest/node";
import { startFirestoreEmulator } from "./firestore-emulator.js";

declare module "vitest" {
  interface ProvidedContext {
    /** "127.0.0.1:PORT", or "" when no selected test needs the emulator. */
    firestoreEmulatorHost: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!(await needsEmulator(project))) {
    project.provide("firestoreEmulatorHost", "");
    return async () => undefined;
  }
  const emulator = await startFirestoreEmulator();
  project.provide("firestoreEmulatorHost", emulator.host);
  process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
  process.env.METADATA_SERVER_DETECTION = "none";
  return async () => {
    await emulator.stop();
  };
}

/**
 * True when a test file selected for this run is an emulator test. The CLI's file filters are not public
 * API, so when they cannot be read we start the emulator anyway (about 1.5 s).
 */
async function needsEmulator(project: TestProject): Promise<boolean> {
  const filters = (project.vitest as unknown as { filenamePattern?: unknown }).filenamePattern;
  if (filters !== undefined && !(Array.isArray(filters) && filters.every((f) => typeof f === "string"))) return true;
  try {
    const { testFiles } = await project.globTestFiles((filters as string[] | undefined) ?? []);
    return testFiles.some((f) => f.endsWith(".emulator.test.ts"));
  } catch {
    return true;
  }
}
