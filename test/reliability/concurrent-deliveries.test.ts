/**
 * Up to eight deliveries of the same wake-up at once, across many flows and two runtimes, plus a resume racing
 * the wake-up: one runner per flow at a time, each step once, nothing clobbered. Memory and file stores here;
 * Firestore in concurrent-deliveries.emulator.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createFileStore } from "../../src/stores/file-store.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { raceDeliveries } from "./support/race-scenario.js";
import { LONG } from "./support/crash-harness.js";

const work = mkdtempSync(join(tmpdir(), "firestep-race-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const ROUNDS = LONG ? 20 : 2;

describe("duplicate and concurrent deliveries", () => {
  it(`memory store: 8 deliveries at once of each of 16 flows' wake-ups, racing a resume (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const store = createMemoryStore();
      const r = await raceDeliveries([store, store], 16, `mem-${round}`);
      expect(r.problems).toEqual([]);
      expect(r.ran).toBeGreaterThanOrEqual(32);
    }
  }, LONG ? 600_000 : 30_000);

  it(`file store, two store instances on one directory: the same (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(work, "flows-"));
      const stores = [createFileStore({ dir }), createFileStore({ dir })] as const;
      const r = await raceDeliveries([stores[0], stores[1]], 16, `file-${round}`);
      expect(r.problems).toEqual([]);
      await Promise.all(stores.map((s) => s.close?.()));
    }
  }, LONG ? 600_000 : 30_000);
});
