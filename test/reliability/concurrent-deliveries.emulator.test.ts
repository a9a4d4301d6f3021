/**
 * Duplicate and concurrent deliveries on the Firestore emulator: two firebase-admin clients (two instances),
 * eight deliveries at once of each wake-up of many flows, and a resume racing the wake-up.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createFirestoreStore } from "../../src/firebase/firestore-store.js";
import { testFirestore, uniqueCollection } from "../support/firestore.js";
import { LONG } from "./support/crash-harness.js";
import { raceDeliveries } from "./support/race-scenario.js";

const clients = [testFirestore(), testFirestore()];
afterAll(() => Promise.all(clients.map((c) => c.close())));
const ROUNDS = LONG ? 10 : 1;

describe("duplicate and concurrent deliveries on Firestore", () => {
  it(`two clients: 8 deliveries at once of each of 12 flows' wake-ups, racing a resume (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const collection = uniqueCollection("race");
      const stores = clients.map((c) => createFirestoreStore({ firestore: c.firestore, collection }));
      const r = await raceDeliveries([stores[0]!, stores[1]!], 12, `fs-${round}`);
      expect(r.problems).toEqual([]);
      expect(r.ran).toBeGreaterThanOrEqual(24);
    }
  }, LONG ? 1200_000 : 90_000);
});
