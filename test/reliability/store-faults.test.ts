/**
 * Store and queue faults on the memory and file stores: transient errors injected at every store call and
 * every enqueue, before the call or after a write landed. Each delivery either completes or throws so the
 * queue redelivers it; no step is recorded without its result; no flow stays running; every flow finishes.
 * Long variant (FIRESTEP_LONG=1): many more seeds. Firestore's gRPC codes: store-faults.emulator.test.ts.
 */
import fs, { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createRuntime, createLocalQueue, type FlowRecord, type FlowStore } from "../../src/index.js";
import { createFileStore } from "../../src/stores/file-store.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { createFakeClock } from "../../src/testing/index.js";
import { prng, LONG } from "./support/crash-harness.js";
import { runFlowsUnderFaults } from "./support/fault-scenario.js";
import { FAULT_FLOW_OUTPUT, faultFlow } from "./support/fault-flow.js";

const work = mkdtempSync(join(tmpdir(), "firestep-faults-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SEEDS = LONG ? 100 : 3;

describe.each([
  ["memory", () => createMemoryStore()],
  ["file", () => createFileStore({ dir: mkdtempSync(join(work, "store-")) })],
] as const)("transient faults on the %s store and the queue", (_name, makeStore) => {
  it(`every flow finishes, no stored step runs again, nothing stays running (${SEEDS} seeds, 10% of calls fail)`, async () => {
    let injected = 0;
    let redelivered = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const store: FlowStore = makeStore();
      const r = await runFlowsUnderFaults({ store, flows: 6, rate: 0.1, rnd: prng(seed) });
      expect(r.problems, `seed ${seed}`).toEqual([]);
      injected += r.faults.injected;
      redelivered += r.deliveries.threw;
      await store.close?.();
    }
    expect(injected).toBeGreaterThan(10 * SEEDS);
    expect(redelivered).toBeGreaterThan(0);
    if (LONG) console.log(`[long-run] store faults, ${_name} store: ${SEEDS} seeds, ${injected} faults injected, ${redelivered} deliveries failed and were redelivered`);
  }, LONG ? 1800_000 : 60_000);
});

describe("the file store on a bad disk", () => {
  it("fails with a clear STORE_UNAVAILABLE error when its directory lies under a regular file (ENOTDIR)", async () => {
    const file = join(work, "a-regular-file");
    writeFileSync(file, "not a directory");
    const clock = createFakeClock();
    const rt = createRuntime({ store: createFileStore({ dir: join(file, "flows") }), queue: createLocalQueue({ clock }), clock });
    const err = await rt.scheduleFlow(faultFlow, { id: "x" }, { flowId: "x" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect((err as Error).message).toContain("ENOTDIR");
    expect((err as Error).message).toContain("A part of the path is a file, not a directory");
  });

  it("fails the delivery, not the flow, when the disk fills up mid-flow, and finishes once space is back (ENOSPC)", async () => {
    const dir = mkdtempSync(join(work, "full-"));
    const realWriteSync = fs.writeSync;
    let full = false;
    const fill = (on: boolean) => {
      full = on;
      fs.writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
        if (full && typeof args[0] === "number") throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });
        return (realWriteSync as (...a: unknown[]) => number)(...args);
      }) as typeof fs.writeSync;
      syncBuiltinESMExports();
    };
    try {
      fill(false);
      const clock = createFakeClock();
      const inner = createLocalQueue({ clock, maxRetries: 100 });
      const store = createFileStore({ dir });
      const rt = createRuntime({ store, queue: inner, clock, logger: () => {} });
      let threw = 0;
      let fullErrors = 0;
      inner.listen(async (t, m) => {
        try {
          await rt.deliver(t, m);
        } catch (e) {
          threw++;
          if ((e as Error).message.includes("The disk is full")) fullErrors++;
          throw e;
        }
      });
      await rt.scheduleFlow(faultFlow, { id: "disk" }, { flowId: "disk" });
      await inner.idle(); // ran "one", sleeps
      fill(true);
      const refused = await rt.scheduleFlow(faultFlow, { id: "other" }, { flowId: "other" }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect((refused as Error).message).toMatch(/ENOSPC.*The disk is full/);
      await clock.advance(61_000); // the wake-up: its claim cannot be written
      for (let i = 0; i < 5; i++) {
        await inner.idle();
        await clock.next(); // the queue's retries of the failed delivery
      }
      await inner.idle();
      expect(threw).toBeGreaterThan(1);
      expect(fullErrors).toBe(threw);
      expect((await store.get("disk"))!.status).not.toBe("failed");
      fill(false);
      const settle = async (done: (r: FlowRecord) => boolean) => {
        for (let i = 0; i < 50 && !done((await store.get("disk"))!); i++) {
          await clock.next();
          await inner.idle();
        }
      };
      await settle((r) => r.waits.some((w) => w.kind === "interrupt"));
      await rt.resumeFlow(faultFlow, "disk", { by: "ops" });
      await settle((r) => r.status === "succeeded");
      expect(await rt.getFlowState(faultFlow, "disk")).toMatchObject({ done: true, result: { response: FAULT_FLOW_OUTPUT } });
      await store.close?.();
    } finally {
      fs.writeSync = realWriteSync;
      syncBuiltinESMExports();
    }
  });
});
