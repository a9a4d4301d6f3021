/**
 * Crash injection on the file store: flows run in a child process that is killed with SIGKILL at every
 * durable boundary and at random points, then restarted until every flow has finished. Long variant
 * (FIRESTEP_LONG=1): 500 random kill schedules. The Firestore variant is crash-injection.emulator.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assertBuilt, inParallel, LONG, LONG_SCHEDULES, randomSchedule, runSchedule, summarize, type Schedule } from "./support/crash-harness.js";

const work = mkdtempSync(join(tmpdir(), "firestep-crash-injection-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** One kill at each boundary the issue names, on both queues. */
const BOUNDARIES: Schedule[] = [
  { name: "while claiming (before the claim is stored)", backend: "file", queue: "durable", kills: [{ at: "claim:2:before" }] },
  { name: "while claiming (claim stored, nothing run)", backend: "file", queue: "durable", kills: [{ at: "claim:1:after" }] },
  { name: "after a step's side effect, before its result is stored", backend: "file", queue: "durable", kills: [{ at: "effect:1" }, { at: "effect:2" }] },
  { name: "after a step's result is stored", backend: "file", queue: "durable", kills: [{ at: "step:2:after" }] },
  { name: "between storing a suspension and enqueueing its wake-up", backend: "file", queue: "durable", kills: [{ at: "suspend:1:after" }] },
  { name: "between storing a resume and enqueueing its wake-up", backend: "file", queue: "durable", kills: [{ at: "resume:1:after" }] },
  { name: "while completing (before the success is stored)", backend: "file", queue: "durable", kills: [{ at: "complete:1:before" }] },
  { name: "while completing (success stored, delivery not acknowledged)", backend: "file", queue: "durable", kills: [{ at: "complete:2:after" }] },
  { name: "between creating a flow and enqueueing its start", backend: "file", queue: "durable", kills: [{ at: "create:2:after" }] },
  { name: "embedded queue: suspension stored, then a step's side effect", backend: "file", queue: "local", kills: [{ at: "suspend:2:after" }, { at: "effect:3" }] },
  { name: "embedded queue: resume stored, wake-up not enqueued", backend: "file", queue: "local", kills: [{ at: "resume:1:after" }] },
  // Killed from outside once the child reports its 10th (then, restarted, its 14th) step side effect: the
  // kill lands wherever the child got to meanwhile, but always during the run (a run makes about 50).
  { name: "at a random moment", backend: "file", queue: "local", kills: [{ afterEffects: 10 }, { afterEffects: 14 }] },
];

describe("crash injection on the file store (SIGKILL, then restart)", () => {
  it.each(BOUNDARIES.map((s) => [s.name, s] as const))("killed %s: every flow finishes right, no stored step runs again", async (_name, schedule) => {
    assertBuilt();
    const report = await runSchedule(schedule, { dir: join(work, schedule.name.replace(/\W+/g, "-")) });
    expect(report.kills, `${schedule.name}: a kill point was never reached (killed at: ${report.killedAt.join(", ")})`).toBe(schedule.kills.length);
  }, 120_000);

  it.runIf(LONG)(`survives ${LONG_SCHEDULES} random kill schedules (long variant)`, async () => {
    assertBuilt();
    const seeds = Array.from({ length: LONG_SCHEDULES }, (_, i) => 1000 + i);
    const reports = await inParallel(seeds, 2, (seed) => runSchedule(randomSchedule(seed, "file"), { dir: join(work, `random-${seed}`) }));
    const totals = summarize(reports);
    console.log(`[long-run] crash injection, file store: ${JSON.stringify(totals)}`);
    expect(totals.schedules).toBe(LONG_SCHEDULES);
  }, 4 * 3600_000);
});
