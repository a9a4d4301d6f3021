import { afterEach, describe, expect, it, vi } from "vitest";
import { approveOrder, bookTrip, dagReport, nightlyReport, onboardUser, supportTicket } from "../../examples/index.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";

let t: TestRuntime;
afterEach(async () => t?.close());

describe("the examples run to completion on the test harness", () => {
  it("approveOrder: interrupt, sleep, poll and a retried step", async () => {
    t = createTestRuntime();
    const h = await t.start(approveOrder, { orderId: "o-1", coolOffSeconds: 3600, pollSeconds: 30 });
    expect((await h.settle()).blockedOnStep?.name).toBe("manager-approval");
    expect((await h.resume({ approved: true })).result).toEqual({ response: { orderId: "o-1", approved: true, receipt: "receipt-o-1-4200EUR" } });
  });

  it("onboardUser: an action, parallel steps and a child flow awaited with waitFor", async () => {
    t = createTestRuntime();
    const op = await t.run(onboardUser, { email: "ada@example.com", name: "Ada" });
    expect(op.result).toMatchObject({ response: { workspaceId: expect.stringMatching(/^ws-/) } });
  });

  it("bookTrip: a fallback replaces the failed car booking and a later failure undoes the bookings", async () => {
    t = createTestRuntime();
    const logs: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((m: string) => void logs.push(m));
    const ok = await t.run(bookTrip, { traveller: "ada" });
    expect(ok.result).toEqual({ response: { flight: "FL-ada", car: "BUDGET-CAR-ada", hotel: "HOTEL-ada" } });
    const failed = await t.run(bookTrip, { traveller: "bob", hotelFull: true });
    spy.mockRestore();
    expect(failed.result).toMatchObject({ error: { message: "no rooms left" } });
    expect(logs.map((l) => l.trim())).toEqual(["returning car BUDGET-CAR-bob", "cancelling flight FL-bob"]);
  });

  it("nightlyReport: child flows, runMap and a patched step", async () => {
    t = createTestRuntime();
    const op = await t.run(nightlyReport, { regions: ["emea", "apac"] });
    expect(op.result).toEqual({ response: { total: 800, lines: ["emea: 400 rows", "apac: 400 rows"] } });
  });

  it("dagReport: independent steps in parallel, then their dependents", async () => {
    t = createTestRuntime();
    const op = await t.run(dagReport, { day: "2026-11-21" });
    expect(op.result).toMatchObject({ response: { day: "2026-11-21" } });
  });

  it("supportTicket: signals, a query, and an interrupt that times out into an escalation", async () => {
    t = createTestRuntime();
    const h = await t.start(supportTicket, { customer: "acme", subject: "login broken" });
    await t.runtime.idle();
    await t.runtime.signalFlow(supportTicket, h.id, "message", { text: "it still fails" });
    await t.runtime.idle();
    expect(await t.runtime.queryFlow(supportTicket, h.id, "messageCount")).toBe(1);
    await t.runtime.signalFlow(supportTicket, h.id, "message", { text: "any news?" });
    const op = await h.settle();
    expect(op.result).toEqual({ response: { messages: ["it still fails", "any news?"], resolution: "escalated: no reply within a day" } });
  });
});
