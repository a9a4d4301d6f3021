/**
 * Crash injection on the Firestore emulator: the same child and checks as crash-injection.test.ts, with flow
 * state in Firestore and a queue that redelivers like Cloud Tasks. Long variant (FIRESTEP_LONG=1): 500 random
 * kill schedules.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { emulatorHost, testFirestore, uniqueCollection } from "../support/firestore.js";
import { assertBuilt, inParallel, LONG, LONG_SCHEDULES, randomSchedule, runSchedule, summarize, type Schedule } from "./support/crash-harness.js";

const work = mkdtempSync(join(tmpdir(), "firestep-crash-firestore-"));
const client = testFirestore();
afterAll(async () => {
  await client.close();
  rmSync(work, { recursive: true, force: true });
});

const BOUNDARIES: Schedule[] = [
  { name: "while claiming (claim stored, nothing run)", backend: "firestore", queue: "durable", kills: [{ at: "claim:1:after" }] },
  { name: "after a step's side effect, before its result is stored", backend: "firestore", queue: "durable", kills: [{ at: "effect:2" }] },
  { name: "after a step's result is stored, then before a suspension is stored", backend: "firestore", queue: "durable", kills: [{ at: "step:1:after" }, { at: "suspend:2:before" }] },
  { name: "between storing a suspension and enqueueing its wake-up", backend: "firestore", queue: "durable", kills: [{ at: "suspend:1:after" }] },
  { name: "between storing a resume and enqueueing its wake-up", backend: "firestore", queue: "durable", kills: [{ at: "resume:2:after" }] },
  { name: "while completing (success stored, delivery not acknowledged)", backend: "firestore", queue: "local", kills: [{ at: "complete:1:after" }, { afterMs: 300 }] },
];

describe("crash injection on the Firestore emulator (SIGKILL, then restart)", () => {
  const ctx = (name: string) => ({ dir: join(work, name.replace(/\W+/g, "-")), emulatorHost: emulatorHost(), firestore: client.firestore, collection: uniqueCollection("crash") });

  it("kills at every durable boundary: every flow finishes right, no stored step runs again", async () => {
    assertBuilt();
    const reports = await inParallel(BOUNDARIES, 2, (s) => runSchedule(s, ctx(s.name)));
    for (const [i, r] of reports.entries()) {
      const labelled = BOUNDARIES[i]!.kills.filter((k) => "at" in k).length;
      expect(r.kills, `${r.name}: a kill point was never reached`).toBeGreaterThanOrEqual(labelled);
    }
  }, 180_000);

  it.runIf(LONG)(`survives ${LONG_SCHEDULES} random kill schedules (long variant)`, async () => {
    assertBuilt();
    const seeds = Array.from({ length: LONG_SCHEDULES }, (_, i) => 5000 + i);
    const reports = await inParallel(seeds, 2, (seed) => runSchedule(randomSchedule(seed, "firestore"), ctx(`random-${seed}`)));
    const totals = summarize(reports);
    console.log(`[long-run] crash injection, Firestore emulator: ${JSON.stringify(totals)}`);
    expect(totals.schedules).toBe(LONG_SCHEDULES);
  }, 6 * 3600_000);
});
