/**
 * The stores a runtime test runs on: memory, memory with what it takes over frozen, files in a temp
 * directory, and Firestore on the emulator (a fresh collection per store). Files named *.emulator.test.ts
 * get the emulator from the global setup.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFirestoreStore } from "../../src/firebase/firestore-store.js";
import type { FlowStore } from "../../src/ports.js";
import { createFileStore } from "../../src/stores/file-store.js";
import { deepFreeze } from "../../src/json-value.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { testFirestore } from "./firestore.js";

export interface Backend {
  name: string;
  open(): { store: FlowStore; cleanup(): Promise<void> };
}

export const memoryBackend: Backend = { name: "memory", open: () => ({ store: createMemoryStore(), cleanup: async () => {} }) };

/**
 * The memory store, keeping what a create or commit takes over by reference as it does, but frozen first:
 * the runtime must never change a record, step or event once it handed it to a store, and a change here
 * throws instead of quietly changing stored data.
 */
export const frozenCommitsBackend: Backend = {
  name: "memory, commits frozen",
  open() {
    const inner = createMemoryStore();
    const store: FlowStore = {
      ...inner,
      create: (record, events) => inner.create(deepFreeze(record), events && deepFreeze(events)),
      commit: (id, commit) => inner.commit(id, deepFreeze(commit)),
    };
    return { store, cleanup: async () => {} };
  },
};

export const fileBackend: Backend = {
  name: "file",
  open() {
    const dir = mkdtempSync(join(tmpdir(), "firestep-backend-"));
    const store = createFileStore({ dir });
    return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

export const firestoreBackend: Backend = {
  name: "firestore emulator",
  open() {
    const db = testFirestore();
    const store = createFirestoreStore({ firestore: db.firestore, collection: `t-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}` });
    return { store, cleanup: () => db.close() };
  },
};

export const allBackends = [memoryBackend, frozenCommitsBackend, fileBackend, firestoreBackend];
