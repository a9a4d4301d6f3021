/**
 * Transient Firestore errors with their real gRPC codes (ABORTED 10, UNAVAILABLE 14, DEADLINE_EXCEEDED 4,
 * RESOURCE_EXHAUSTED 8), injected into the firebase-admin client under the Firestore store at every call:
 * before the call, or after a write landed. Every flow still finishes, and no stored step runs again.
 */
import { Firestore, Query, WriteBatch } from "firebase-admin/firestore";
import { afterAll, describe, expect, it } from "vitest";
import { createFirestoreStore } from "../../src/firebase/firestore-store.js";
import { testFirestore, uniqueCollection } from "../support/firestore.js";
import { LONG, prng } from "./support/crash-harness.js";
import { runFlowsUnderFaults } from "./support/fault-scenario.js";
import { newFaultLog, type FaultLog } from "./support/faults.js";

const client = testFirestore();
afterAll(() => client.close());

const CODES = [
  { code: 10, name: "ABORTED", mayHaveLanded: false },
  { code: 14, name: "UNAVAILABLE", mayHaveLanded: true },
  { code: 4, name: "DEADLINE_EXCEEDED", mayHaveLanded: true },
  { code: 8, name: "RESOURCE_EXHAUSTED", mayHaveLanded: false },
] as const;

/** Patches the client's entry points; returns a function that restores them. */
function injectGrpcFaults(rate: number, rnd: () => number, log: FaultLog): { restore(): void; disarm(): void } {
  let armed = true;
  const patched: Array<[object, string, unknown]> = [];
  const patch = <T extends object>(proto: T, method: string, write: boolean) => {
    const original = (proto as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!;
    patched.push([proto, method, original]);
    (proto as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
      if (!armed || rnd() >= rate) return original.apply(this, args);
      const c = CODES[Math.floor(rnd() * CODES.length)]!;
      const error = Object.assign(new Error(`${c.code} ${c.name}: injected by the test`), { code: c.code, details: "injected" });
      log.injected++;
      log.byOp[c.name] = (log.byOp[c.name] ?? 0) + 1;
      if (write && c.mayHaveLanded && rnd() < 0.5) {
        log.afterWrite++;
        return original.apply(this, args).then(() => Promise.reject(error));
      }
      return Promise.reject(error);
    };
  };
  patch(WriteBatch.prototype, "commit", true); // also carries DocumentReference.create
  patch(Firestore.prototype, "getAll", false); // also carries DocumentReference.get
  patch(Firestore.prototype, "runTransaction", false);
  patch(Query.prototype, "get", false);
  return {
    disarm: () => void (armed = false),
    restore() {
      for (const [proto, method, original] of patched) (proto as Record<string, unknown>)[method] = original;
    },
  };
}

describe("transient Firestore errors (gRPC codes 10, 14, 4, 8) under the Firestore store, and enqueue failures", () => {
  const seeds = LONG ? 30 : 2;
  it(`every flow finishes, no stored step runs again, nothing stays running (${seeds} seeds, 8% of calls fail)`, async () => {
    const total = newFaultLog();
    let redelivered = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const rnd = prng(seed);
      const log = newFaultLog();
      const faults = injectGrpcFaults(0.08, rnd, log);
      try {
        const store = createFirestoreStore({ firestore: client.firestore, collection: uniqueCollection("faults") });
        const r = await runFlowsUnderFaults({ store, flows: 4, rate: 0.08, rnd, injectStoreFaults: false, disarm: faults.disarm });
        expect(r.problems, `seed ${seed}`).toEqual([]);
        redelivered += r.deliveries.threw;
        total.injected += log.injected + r.faults.injected;
        for (const [k, v] of Object.entries(log.byOp)) total.byOp[k] = (total.byOp[k] ?? 0) + v;
      } finally {
        faults.restore();
      }
    }
    for (const c of CODES) expect(total.byOp[c.name], `no ${c.name} was injected`).toBeGreaterThan(0);
    expect(redelivered).toBeGreaterThan(0);
    if (LONG) console.log(`[long-run] store faults, Firestore emulator: ${seeds} seeds, ${total.injected} faults injected ${JSON.stringify(total.byOp)}, ${redelivered} deliveries redelivered`);
  }, LONG ? 3600_000 : 120_000);
});
