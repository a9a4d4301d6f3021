/**
 * firestep/testing: run flows in tests on a fake clock, and check a custom store against the contract
 * (the contract lives at firestep/testing/store-contract, as it needs vitest).
 */
export { createTestRuntime, type TestRuntime, type TestRuntimeOptions, type FlowHandle } from "./harness.js";
export { createFakeClock, type FakeClock } from "./fake-clock.js";
