/**
 * Journals written by earlier code, kept under test/fixtures/journals, must replay with today's code:
 * a refactor of the engine or of the stored shapes cannot strand flows already in flight.
 * Write the fixtures that are missing (a new one, by today's code) with:
 *   FIRESTEP_WRITE_FIXTURES=1 npx vitest run test/engine/saved-journals.test.ts
 * and rewrite them all (only when a change is meant to break old journals) with FIRESTEP_WRITE_FIXTURES=all.
 * The older files are kept as written: they are the records of flows in flight when later code shipped.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineFlow, interrupt, run, sleep, waitForSignal, type Flow, type FlowRecord, type StepRecord } from "../../src/index.js";
import { FlowRecordSchema, StepRecordSchema } from "../../src/schemas.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { createTestRuntime } from "../../src/testing/index.js";

const dir = join(import.meta.dirname, "..", "fixtures", "journals");

const order = defineFlow({ name: "fixtureOrder", version: "1", input: z.object({ id: z.string() }), output: z.string() }, async ({ id }) => {
  const total = await run("price", () => ({ cents: 1250, zero: 0, none: null, no: false, empty: "" }));
  const { ok } = await interrupt("approve", z.object({ ok: z.boolean() }));
  await sleep("cool-off", 60);
  return `${id}:${total.cents}:${ok}:${total.zero}${total.none}${total.no}${total.empty}`;
});

const retrying = defineFlow({ name: "fixtureRetry", version: "1", input: z.void(), output: z.number() }, async () => {
  const a = await run("first", () => 1);
  return a + (await run({ name: "flaky", retryConfig: { maxAttempts: 3, minBackoffSeconds: 5 } }, ({ attempt }) => {
    if (attempt < 2) throw new Error("not yet");
    return attempt;
  }));
});

const signals = defineFlow({ name: "fixtureSignals", version: "1", input: z.void(), output: z.array(z.string()), signals: { note: z.string() } }, async () => {
  const a = await waitForSignal<string>("note");
  const b = await waitForSignal<string>("note");
  return [a, b];
});

const booking = defineFlow({ name: "fixtureBooking", version: "1", input: z.void(), output: z.string() }, async () => {
  const ref = await run({ name: "book", compensate: () => undefined }, () => "B-1");
  const { ok } = await interrupt("confirm", z.object({ ok: z.boolean() }));
  return `${ref}:${ok}`;
});

interface Fixture {
  description: string;
  record: FlowRecord;
  steps: StepRecord[];
  /** What to do to finish it: a resume payload or signals to send. */
  finish: { resume?: unknown; signals?: string[] };
  expected: unknown;
}

const flows = { fixtureOrder: order, fixtureRetry: retrying, fixtureSignals: signals, fixtureBooking: booking } as const;

async function writeFixtures(all: boolean): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const make = async (file: string, description: string, flow: (typeof flows)[keyof typeof flows], input: unknown, prepare: (t: ReturnType<typeof createTestRuntime>, id: string) => Promise<void>, finish: Fixture["finish"], expected: unknown) => {
    if (!all && existsSync(join(dir, file))) return;
    const t = createTestRuntime({ start: Date.parse("2026-11-21T10:00:00Z") });
    const h = await t.start(flow as never, input as never);
    await t.runtime.idle();
    await prepare(t, h.id);
    await t.runtime.idle();
    const loaded = (await t.store.load(h.id))!;
    const fixture: Fixture = { description, record: loaded.record, steps: loaded.steps, finish, expected };
    writeFileSync(join(dir, file), JSON.stringify(fixture, null, 2) + "\n");
    await t.close();
  };
  await make("order-blocked-on-interrupt.json", "fixtureOrder after its first step, blocked on the approve interrupt", order, { id: "o-7" }, async () => {}, { resume: { ok: true } }, "o-7:1250:true:0nullfalse");
  await make("order-sleeping-after-resume.json", "fixtureOrder resumed and sleeping in cool-off", order, { id: "o-8" }, async (t, id) => void (await t.runtime.resumeFlow(order, id, { ok: false })), {}, "o-8:1250:false:0nullfalse");
  await make("retry-waiting-for-second-attempt.json", "fixtureRetry after a failed first attempt of flaky", retrying, undefined, async () => {}, {}, 3);
  await make("signals-one-taken.json", "fixtureSignals with one signal taken, waiting for the second", signals, undefined, async (t, id) => void (await t.runtime.signalFlow(signals, id, "note", "first")), { signals: ["second"] }, ["first", "second"]);
  await make("booking-undoable-blocked-on-interrupt.json", "fixtureBooking after a step with an undo, blocked on the confirm interrupt", booking, undefined, async () => {}, { resume: { ok: true } }, "B-1:true");
}

describe("saved journals replay with today's code", async () => {
  const write = process.env.FIRESTEP_WRITE_FIXTURES;
  if (write === "1" || write === "all") await writeFixtures(write === "all");
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];

  it("has fixtures to replay", () => expect(files.length, `no fixtures in ${dir}: regenerate them as the header of this file says`).toBeGreaterThanOrEqual(5));

  for (const file of files) {
    it(`finishes ${file}`, async () => {
      const fixture = JSON.parse(readFileSync(join(dir, file), "utf8")) as Fixture;
      const record = FlowRecordSchema.parse(fixture.record);
      const steps = fixture.steps.map((s) => StepRecordSchema.parse(s));
      const store = createMemoryStore();
      await store.create({ ...record, rev: 0 });
      await store.commit(record.id, { expectRev: 0, record: { ...record, rev: 1 }, steps });
      const t = createTestRuntime({ store, start: record.updatedAt });
      const flow = flows[record.flowName as keyof typeof flows];
      const h = t.handle(flow as never, record.id);
      if (record.wakeAt !== undefined) await t.runtime.core.enqueue(record, record.wakeAt, "wake");
      let op = await h.settle();
      if (fixture.finish.resume !== undefined) op = await h.resume(fixture.finish.resume);
      for (const sig of fixture.finish.signals ?? []) {
        await t.runtime.signalFlow(flow as Flow, record.id, "note", sig);
        op = await h.settle();
      }
      expect(op.result).toEqual({ response: fixture.expected });
      const replayed = (await h.steps()).slice(0, steps.length);
      expect(replayed).toEqual(steps);
      await t.close();
    });
  }
});
