import { afterAll } from "vitest";
import { createFirestoreStore } from "../../src/firebase/firestore-store.js";
import { describeStoreContract } from "../../src/testing/store-contract.js";
import { testFirestore, uniqueCollection } from "../support/firestore.js";

const client = testFirestore();
afterAll(() => client.close());

describeStoreContract("firestore (emulator)", () => ({ store: createFirestoreStore({ firestore: client.firestore, collection: uniqueCollection() }) }));
