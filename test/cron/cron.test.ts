import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { ScheduledEvent } from "firebase-functions/v2/scheduler";
import { configureFirestep, createEmbeddedRuntime, defineFlow, interrupt, isFirestepError, nextRun, parseCron, resetFirestep, run, scheduleCron } from "../../src/index.js";
import type { CronHandle, CronTickEvent } from "../../src/index.js";
import { onCronFlow } from "../../src/firebase/cron-flow.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";

const at = (iso: string) => new Date(iso);
const next = (expr: string, after: string) => nextRun(expr, at(after)).toISOString();
const MINUTE = 60_000;

describe("cron expressions", () => {
  it("reads every field form", () => {
    expect([...parseCron("*/15 * * * *").minutes]).toEqual([0, 15, 30, 45]);
    expect([...parseCron("5,35 * * * *").minutes]).toEqual([5, 35]);
    expect([...parseCron("0 10-12 * * *").hours]).toEqual([10, 11, 12]);
    expect([...parseCron("0-30/10 * * * *").minutes]).toEqual([0, 10, 20, 30]);
    expect([...parseCron("5/20 * * * *").minutes]).toEqual([5, 25, 45]);
    expect([...parseCron("0 0 1,15 * *").daysOfMonth]).toEqual([1, 15]);
    expect([...parseCron("0 0 * jan,JUL-Sep *").months]).toEqual([1, 7, 8, 9]);
    expect([...parseCron("0 0 * * MON-FRI").daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
    expect([...parseCron("0 0 * * 7").daysOfWeek]).toEqual([0]);
    expect([...parseCron("0 0 * * 5-7").daysOfWeek].sort()).toEqual([0, 5, 6]);
    expect(parseCron("@daily").minutes).toEqual(new Set([0]));
    expect(parseCron("@hourly").hours.size).toBe(24);
  });

  it("finds the next run strictly after the given time, at minute resolution", () => {
    expect(next("*/15 * * * *", "2026-03-10T10:07:42Z")).toBe("2026-03-10T10:15:00.000Z");
    expect(next("*/15 * * * *", "2026-03-10T10:15:00Z")).toBe("2026-03-10T10:30:00.000Z");
    expect(next("0 10-12 * * *", "2026-03-10T12:00:00Z")).toBe("2026-03-11T10:00:00.000Z");
    expect(next("0 9 * * MON-FRI", "2026-01-02T09:00:00Z")).toBe("2026-01-05T09:00:00.000Z"); // Friday -> Monday
    expect(next("@weekly", "2026-01-01T00:00:00Z")).toBe("2026-01-04T00:00:00.000Z");
  });

  it("crosses month and year boundaries, leap days included", () => {
    expect(next("0 0 1 * *", "2026-01-31T12:00:00Z")).toBe("2026-02-01T00:00:00.000Z");
    expect(next("0 0 31 * *", "2026-01-31T00:00:00Z")).toBe("2026-03-31T00:00:00.000Z"); // February has no 31st
    expect(next("0 0 * * *", "2026-12-31T23:59:30Z")).toBe("2027-01-01T00:00:00.000Z");
    expect(next("30 23 31 12 *", "2026-12-31T23:30:00Z")).toBe("2027-12-31T23:30:00.000Z");
    expect(next("0 0 29 2 *", "2026-03-01T00:00:00Z")).toBe("2028-02-29T00:00:00.000Z");
  });

  it("matches either day field when both are restricted, both when one is *", () => {
    // 2026-02-13 is a Friday; from Feb 1 the first Friday is Feb 6.
    expect(next("0 0 13 * FRI", "2026-02-01T00:00:00Z")).toBe("2026-02-06T00:00:00.000Z");
    expect(next("0 0 */13 * FRI", "2026-02-01T00:00:00Z")).toBe("2026-02-27T00:00:00.000Z"); // day 1, 14 or 27, and a Friday
    expect(next("0 0 */13 * FRI", "2026-02-28T00:00:00Z")).toBe("2026-03-27T00:00:00.000Z");
  });

  it("rejects invalid expressions, naming the field", () => {
    const cases: Array<[string, RegExp]> = [
      ["* * *", /has 3 fields; it needs 5: minute hour day-of-month month day-of-week/],
      ["60 * * * *", /the minute field "60" is invalid: 60 is out of range/],
      ["* 24 * * *", /the hour field "24" is invalid/],
      ["* * 0 * *", /the day-of-month field "0" is invalid/],
      ["* * * 13 *", /the month field "13" is invalid/],
      ["* * * FOO *", /the month field "FOO" is invalid: "FOO" is not a number or a name/],
      ["* * * * 8", /the day-of-week field "8" is invalid/],
      ["* * * * MON-BAD", /the day-of-week field "MON-BAD" is invalid/],
      ["*/0 * * * *", /the minute field "\*\/0" is invalid: the step in "\*\/0" must be from 1 to 59/],
      ["5-1 * * * *", /the minute field "5-1" is invalid: the range "5-1" goes backwards/],
      ["1,,2 * * * *", /the minute field "1,,2" is invalid: it has an empty list item/],
      ["0 0 30 2 *", /never fires: .* Fix the day-of-month field/],
      ["@reboot", /not a known shorthand/],
    ];
    for (const [expr, message] of cases) {
      let error: unknown;
      try {
        nextRun(expr, at("2026-01-01T00:00:00Z"));
      } catch (e) {
        error = e;
      }
      expect(isFirestepError(error) && error.code, expr).toBe("INVALID_ARGUMENT");
      expect((error as Error).message, expr).toMatch(message);
    }
    expect(() => nextRun("* * * * *", new Date(), "Europe/Paris")).toThrow(/UTC only/);
  });
});

let t: TestRuntime | undefined;
const handles: CronHandle[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
  await t?.close();
  t = undefined;
});

let runs = 0;
const report = defineFlow({ name: "cronReport", input: z.object({ day: z.string() }), output: z.string() }, async ({ day }) =>
  run("build", () => (runs++, `report ${day}`)),
);
const approval = defineFlow({ name: "cronApproval", input: z.void(), output: z.boolean() }, async () =>
  (await interrupt("ok", z.object({ ok: z.boolean() }))).ok,
);

async function flowIds(rt: TestRuntime, flowName: string): Promise<string[]> {
  return (await rt.runtime.listFlows({ flowName, limit: 1000 })).flows.map((r) => r.id).sort();
}

describe("scheduleCron on the embedded runtime", () => {
  it("starts the flow at each tick under a deterministic id", async () => {
    t = createTestRuntime(); // the fake clock starts at 2026-01-01T00:00:00Z
    runs = 0;
    const ticks: CronTickEvent[] = [];
    handles.push(scheduleCron(t.runtime, { flow: report, schedule: "*/5 * * * *", input: (tick) => ({ day: tick.toISOString().slice(0, 10) }), overlap: "allow", name: "nightly", onTick: (e) => ticks.push(e) }));
    expect(handles[0]!.nextTick()?.toISOString()).toBe("2026-01-01T00:05:00.000Z");
    await t.clock.advance(4 * MINUTE);
    expect(await flowIds(t, "cronReport")).toEqual([]);
    await t.clock.advance(12 * MINUTE);
    await t.runtime.idle();
    expect(await flowIds(t, "cronReport")).toEqual(["cron-nightly-20260101T000500Z", "cron-nightly-20260101T001000Z", "cron-nightly-20260101T001500Z"]);
    expect(ticks.map((e) => [e.tick.toISOString(), e.outcome])).toEqual([
      ["2026-01-01T00:05:00.000Z", "started"],
      ["2026-01-01T00:10:00.000Z", "started"],
      ["2026-01-01T00:15:00.000Z", "started"],
    ]);
    const op = await t.runtime.getFlowState(report, "cron-nightly-20260101T000500Z");
    expect(op.result).toEqual({ response: "report 2026-01-01" });
    expect(runs).toBe(3);
    await handles[0]!.stop();
    await t.clock.advance(10 * MINUTE);
    expect((await flowIds(t, "cronReport")).length).toBe(3);
  });

  it('with overlap "skip" starts no tick while an earlier run is unfinished', async () => {
    t = createTestRuntime();
    const ticks: CronTickEvent[] = [];
    handles.push(scheduleCron(t.runtime, { flow: approval, schedule: "* * * * *", input: undefined, overlap: "skip", onTick: (e) => ticks.push(e) }));
    await t.clock.advance(3 * MINUTE);
    await t.runtime.idle();
    expect(await flowIds(t, "cronApproval")).toEqual(["cron-cronApproval-20260101T000100Z"]);
    expect(ticks.map((e) => e.outcome)).toEqual(["started", "skipped", "skipped"]);
    expect(ticks[1]).toMatchObject({ outcome: "skipped", runningFlowId: "cron-cronApproval-20260101T000100Z" });
    await t.handle(approval, "cron-cronApproval-20260101T000100Z").resume({ ok: true });
    await t.clock.advance(MINUTE);
    await t.runtime.idle();
    expect(await flowIds(t, "cronApproval")).toEqual(["cron-cronApproval-20260101T000100Z", "cron-cronApproval-20260101T000400Z"]);
  });

  it('with overlap "allow" starts every tick while earlier runs wait', async () => {
    t = createTestRuntime();
    handles.push(scheduleCron(t.runtime, { flow: approval, schedule: "* * * * *", input: undefined, overlap: "allow", name: "approvals" }));
    await t.clock.advance(3 * MINUTE);
    await t.runtime.idle();
    expect(await flowIds(t, "cronApproval")).toEqual(["cron-approvals-20260101T000100Z", "cron-approvals-20260101T000200Z", "cron-approvals-20260101T000300Z"]);
  });

  it("starts each tick once when two schedulers share a store", async () => {
    t = createTestRuntime();
    runs = 0;
    const second = createEmbeddedRuntime({ store: t.store, clock: t.clock, recover: false });
    const ticks: CronTickEvent[] = [];
    const options = { flow: report, schedule: "*/10 * * * *", input: { day: "d" }, overlap: "allow" as const, onTick: (e: CronTickEvent) => ticks.push(e) };
    handles.push(scheduleCron(t.runtime, options), scheduleCron(second, options));
    await t.clock.advance(30 * MINUTE);
    await Promise.all([t.runtime.idle(), second.idle()]);
    expect(await flowIds(t, "cronReport")).toEqual(["cron-cronReport-20260101T001000Z", "cron-cronReport-20260101T002000Z", "cron-cronReport-20260101T003000Z"]);
    expect(runs).toBe(3);
    expect(ticks.filter((e) => e.outcome === "started").length).toBe(3);
    expect(ticks.filter((e) => e.outcome === "exists").length).toBe(3);
    await Promise.all(handles.splice(0).map((h) => h.stop()));
    await second.close();
  });

  it("waits for a tick months away without firing early", async () => {
    t = createTestRuntime();
    handles.push(scheduleCron(t.runtime, { flow: report, schedule: "@yearly", input: { day: "y" }, overlap: "skip" }));
    await t.clock.advance(40 * 24 * 60 * MINUTE);
    expect(await flowIds(t, "cronReport")).toEqual([]);
    expect(handles[0]!.nextTick()?.toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });

  it("rejects a bad schedule, name, overlap or time zone when scheduled", () => {
    t = createTestRuntime();
    const base = { flow: report, input: { day: "d" }, overlap: "skip" as const };
    expect(() => scheduleCron(t!.runtime, { ...base, schedule: "61 * * * *" })).toThrow(/minute field/);
    expect(() => scheduleCron(t!.runtime, { ...base, schedule: "* * * * *", name: "no spaces" })).toThrow(/Cron name "no spaces" is not allowed/);
    expect(() => scheduleCron(t!.runtime, { ...base, schedule: "* * * * *", overlap: "queue" as never })).toThrow(/use "skip"/);
    expect(() => scheduleCron(t!.runtime, { ...base, schedule: "* * * * *", timeZone: "America/New_York" })).toThrow(/UTC only/);
  });
});

describe("onCronFlow (Cloud Scheduler)", () => {
  afterEach(async () => {
    await resetFirestep();
    t = undefined;
  });

  const event = (scheduleTime: string) => ({ scheduleTime }) as ScheduledEvent;

  it("starts the tick's flow once, by the event's scheduleTime", async () => {
    t = createTestRuntime();
    configureFirestep({ runtime: t.runtime });
    runs = 0;
    const fn = onCronFlow(report, { schedule: "0 * * * *", input: { day: "today" }, overlap: "allow", region: "europe-west1" });
    expect(fn.flow).toBe(report);
    await fn.run(event("2026-01-01T01:00:00.000Z"));
    await fn.run(event("2026-01-01T01:00:00.000Z")); // a retried delivery of the same tick
    await t.runtime.idle();
    expect(await flowIds(t, "cronReport")).toEqual(["cron-cronReport-20260101T010000Z"]);
    expect(runs).toBe(1);
    expect((await t.runtime.getFlowState(report, "cron-cronReport-20260101T010000Z")).result).toEqual({ response: "report today" });
  });

  it('skips a tick while an earlier run is unfinished with overlap "skip"', async () => {
    t = createTestRuntime();
    configureFirestep({ runtime: t.runtime });
    const fn = onCronFlow({ flow: approval }, { schedule: "*/30 * * * *", input: undefined, overlap: "skip", name: "approve" });
    await fn.run(event("2026-01-01T01:00:00Z"));
    await t.runtime.idle();
    await fn.run(event("2026-01-01T01:30:00Z"));
    expect(await flowIds(t, "cronApproval")).toEqual(["cron-approve-20260101T010000Z"]);
    await t.handle(approval, "cron-approve-20260101T010000Z").resume({ ok: false });
    await fn.run(event("2026-01-01T02:00:00Z"));
    expect(await flowIds(t, "cronApproval")).toEqual(["cron-approve-20260101T010000Z", "cron-approve-20260101T020000Z"]);
  });

  it("checks a cron schedule when the function is defined", () => {
    expect(() => onCronFlow(report, { schedule: "0 25 * * *", input: { day: "d" }, overlap: "skip" })).toThrow(/the hour field "25" is invalid/);
    expect(() => onCronFlow(report, { schedule: "every 5 minutes", input: { day: "d" }, overlap: "skip" })).not.toThrow();
  });
});
