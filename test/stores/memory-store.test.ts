import { createMemoryStore } from "../../src/stores/memory-store.js";
import { describeStoreContract } from "../../src/testing/store-contract.js";

describeStoreContract("memory", () => ({ store: createMemoryStore() }));
