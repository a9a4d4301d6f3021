/**
 * The dashboard end to end in a real browser: Debian's chromium (never a downloaded one) driven by
 * playwright-core, against the dev server on an embedded runtime with a memory store and the real
 * clock. Screenshots go to test-artifacts/dashboard/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { onRequest } from "firebase-functions/v2/https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createDashboard } from "../../src/dashboard/index.js";
import { run } from "../../src/engine/steps.js";
import { interrupt, sleep } from "../../src/engine/waiting-steps.js";
import { waitForSignal } from "../../src/engine/signal-steps.js";
import { defineFlow } from "../../src/flow.js";
import { createHttpApi, startDevServer, type DevServer } from "../../src/http/index.js";
import { createEmbeddedRuntime, type EmbeddedRuntime } from "../../src/runtime/embedded-runtime.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";

const CHROMIUM = "/usr/bin/chromium";
/** Keep Chromium quiet and on this machine (see the browser notes): no background traffic, no updates. */
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const ARTIFACTS = resolve("test-artifacts/dashboard");

const order = defineFlow(
  {
    name: "dashOrder",
    input: z.object({ orderId: z.string() }),
    output: z.object({ approved: z.boolean(), receipt: z.string() }),
  },
  async ({ orderId }) => {
    const loaded = await run("load-order", async () => {
      await delay(60);
      return { id: orderId, total: 42 };
    });
    const answer = await interrupt(
      "manager-approval",
      z.object({
        approved: z.boolean(),
        amount: z.number().max(100).describe("At most 100"),
        priority: z.enum(["low", "high"]),
        note: z.string().optional(),
        shipping: z.object({ express: z.boolean(), city: z.string() }),
      }),
    );
    await sleep("cool-off", 0.4);
    const receipt = await run({ name: "send-receipt", retryConfig: { maxAttempts: 3, minBackoffSeconds: 0.25 } }, async ({ attempt }) => {
      await delay(80);
      if (attempt < 3) throw new Error("mail server busy");
      return `receipt-${loaded.id}-${answer.amount}`;
    });
    return { approved: answer.approved, receipt };
  },
);

const nap = defineFlow({ name: "dashNap", input: z.object({ minutes: z.number() }), output: z.string() }, async ({ minutes }) => {
  await run("prepare", () => "pillow");
  await sleep("nap", minutes * 60);
  return "rested";
});

const ticket = defineFlow(
  { name: "dashTicket", input: z.object({ ticketId: z.string() }), output: z.string(), signals: { reply: z.object({ text: z.string().min(1) }) } },
  async ({ ticketId }) => {
    await run("open-ticket", () => ticketId);
    const { text } = await waitForSignal<{ text: string }>("reply");
    return `${ticketId}: ${text}`;
  },
);

// Waits for "note", then "close"; "close" may come first and is kept until then.
const inbox = defineFlow(
  {
    name: "dashInbox",
    input: z.object({ inboxId: z.string() }),
    output: z.string(),
    signals: { note: z.object({ text: z.string().min(1) }), close: z.object({ reason: z.enum(["done", "spam"]) }) },
    queries: { summary: (view) => ({ status: view.status, steps: Object.keys(view.steps) }), openedAt: () => new Date(0) },
  },
  async ({ inboxId }) => {
    await run("open-inbox", () => inboxId);
    const { text } = await waitForSignal<{ text: string }>("note");
    const { reason } = await waitForSignal<{ reason: string }>("close");
    return `${inboxId}: ${text} (${reason})`;
  },
);

let runtime: EmbeddedRuntime;
let server: DevServer;
let context: BrowserContext;
let page: Page;
let profile: string;
const pageErrors: string[] = [];

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard's browser tests need Debian's chromium. Run: apt-get update && apt-get install -y chromium`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  runtime = createEmbeddedRuntime({ store: createMemoryStore() });
  server = await startDevServer({ runtime, port: 0 });
  profile = mkdtempSync(join(tmpdir(), "firestep-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1100, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => {
    // A refused request (the bad payload's 400) is logged by Chromium itself; everything else is a bug.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) pageErrors.push(m.text());
  });
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  await runtime?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe("the dashboard in a browser", () => {
  it("lists flows, answers an interrupt through its form (bad input refused, good input resumes), and cancels a flow", async () => {
    const blocked = await runtime.scheduleFlow(order, { orderId: "o-7" });
    const sleeping = await runtime.scheduleFlow(nap, { minutes: 60 });
    await until("both flows to wait", async () => {
      const [a, b] = await Promise.all([runtime.getFlow(blocked.name), runtime.getFlow(sleeping.name)]);
      return a.record.status === "waiting" && b.record.status === "waiting";
    });

    // The list: both flows, with their status in words and what they wait for.
    await page.goto(`${server.url}/`);
    const blockedRow = page.locator(`tr[data-flow-id="${blocked.name}"]`);
    const sleepingRow = page.locator(`tr[data-flow-id="${sleeping.name}"]`);
    await expectText(blockedRow, /dashOrder.*waiting.*input: manager-approval/);
    await expectText(sleepingRow, /dashNap.*waiting.*sleep \(nap\) until/);
    await page.screenshot({ path: join(ARTIFACTS, "list.png"), fullPage: true });

    // Filtering by status leaves only matching flows.
    await page.getByLabel("Status").selectOption({ label: "succeeded" });
    await page.getByText("No flows match these filters.").waitFor();
    await page.getByLabel("Status").selectOption({ label: "Any status" });
    await blockedRow.waitFor();

    // The blocked flow's page: a form generated from the interrupt's JSON Schema.
    await blockedRow.getByRole("link").click();
    await page.getByRole("heading", { name: /Waiting for input: manager-approval/ }).waitFor();
    const form = page.locator("form.interrupt-form");
    expect(await form.getByLabel("approved").getAttribute("type")).toBe("checkbox");
    expect(await form.getByLabel("amount").getAttribute("type")).toBe("number");
    expect(await form.getByLabel("priority").evaluate((el) => el.tagName)).toBe("SELECT");
    expect(await form.locator("fieldset legend").textContent()).toBe("shipping");
    expect(await form.getByLabel("note (optional)").getAttribute("type")).toBe("text");

    // A payload the schema rejects: the server's message is shown and the flow keeps waiting.
    await form.getByLabel("approved").check();
    await form.getByLabel("amount").fill("500");
    await form.getByLabel("priority").selectOption("high");
    await form.getByLabel("express").check();
    await form.getByLabel("city").fill("Lyon");
    await form.getByRole("button", { name: "Resume flow" }).click();
    const error = form.locator(".form-error");
    await expectText(error, /INVALID_PAYLOAD.*still waiting/);
    await expectText(error, /amount/);
    await page.screenshot({ path: join(ARTIFACTS, "interrupt-rejected.png"), fullPage: true });
    const still = await runtime.getFlow(blocked.name);
    expect(still.record.status).toBe("waiting");
    expect(still.operation.blockedOnStep?.name).toBe("manager-approval");

    // A good one: the flow resumes and finishes; the page follows it without a reload.
    await form.getByLabel("amount").fill("42");
    await form.getByRole("button", { name: "Resume flow" }).click();
    await page.locator("h1 .status-succeeded").waitFor({ timeout: 15_000 });
    expect(await page.locator("h1").textContent()).toContain("succeeded");
    await expectText(page.locator(".io"), /receipt-o-7-42/);
    expect((await runtime.getFlow(blocked.name)).record.status).toBe("succeeded");

    // The timeline: a row per step, the retried step's attempts marked, waits hatched.
    const timeline = page.locator("svg.timeline");
    for (const step of ["load-order", "manager-approval", "cool-off", "send-receipt"]) {
      await timeline.locator(".row-label", { hasText: step }).waitFor();
    }
    const receiptRow = timeline.locator("g.row", { has: page.locator(".row-label", { hasText: "send-receipt" }) });
    expect(await receiptRow.locator(".mark-attempt").count()).toBe(3);
    expect(await receiptRow.locator(".seg-attempt").count()).toBe(2);
    expect(await receiptRow.locator(".seg-wait").count()).toBe(2);
    expect(await timeline.locator(".seg-wait").count()).toBeGreaterThanOrEqual(4);

    const legend = await page.locator("ul.legend").boundingBox();
    await page.screenshot({ path: join(ARTIFACTS, "flow-page-timeline.png"), clip: { x: 0, y: 0, width: 1100, height: legend!.y + legend!.height + 16 } });

    // Steps expand to their results; only delete (and nothing else) is offered for a succeeded flow.
    await page.locator("summary", { hasText: "load-order" }).click();
    await expectText(page.locator('details[data-step="load-order"]'), /"total": 42/);
    for (const name of ["Pause", "Continue", "Cancel", "Retry"]) expect(await page.getByRole("button", { name, exact: true }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Delete", exact: true }).isEnabled()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "flow-page.png"), fullPage: true });

    // Cancel the sleeping flow: the confirmation can be dismissed, then confirmed with a reason.
    await page.getByRole("link", { name: "← All flows" }).click();
    await sleepingRow.getByRole("link").click();
    await page.locator("h1 .status-waiting").waitFor();
    expect(await page.getByRole("button", { name: "Continue", exact: true }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    const dialog = page.locator("dialog.confirm");
    await dialog.getByRole("button", { name: "Go back" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect((await runtime.getFlow(sleeping.name)).record.status).toBe("waiting");

    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    await dialog.getByLabel("Reason (optional)").fill("not needed any more");
    await dialog.getByRole("button", { name: "Cancel flow" }).click();
    await page.locator("h1 .status-cancelled").waitFor();
    await expectText(page.locator(".io"), /not needed any more/);
    expect((await runtime.getFlow(sleeping.name)).record.status).toBe("cancelled");
    expect(await page.getByRole("button", { name: "Delete", exact: true }).isEnabled()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "flow-cancelled.png"), fullPage: true });

    // Back on the list, the cancelled flow reads "cancelled".
    await page.getByRole("link", { name: "← All flows" }).click();
    await expectText(sleepingRow, /cancelled/);
    expect(pageErrors).toEqual([]);
  });

  it("sends a signal a flow waits for from its form: a bad payload shows the API's message and the flow keeps waiting, a good one lets it finish", async () => {
    const { name: id } = await runtime.scheduleFlow(ticket, { ticketId: "t-3" });
    await until("the ticket to wait for its reply", async () => (await runtime.getFlow(id)).record.status === "waiting");

    await page.goto(`${server.url}/#/flows/${encodeURIComponent(id)}`);
    await page.getByRole("heading", { name: /Waiting for signal: reply/ }).waitFor();
    await expectText(page.locator("section[aria-label=Summary]"), /Waiting for\s*signal: reply/);
    const form = page.locator("form.signal-form");
    const payload = form.getByLabel("text");

    await payload.fill("");
    await form.getByRole("button", { name: "Send signal" }).click();
    const error = form.locator(".form-error");
    await expectText(error, /INVALID_PAYLOAD.*still waiting/);
    await expectText(error, /text/);
    await page.screenshot({ path: join(ARTIFACTS, "signal-rejected.png"), fullPage: true });
    const still = await runtime.getFlow(id);
    expect(still.record.status).toBe("waiting");
    expect(still.operation.metadata.waitingFor).toEqual([expect.objectContaining({ kind: "signal", name: "reply" })]);

    await payload.fill("fixed, thanks");
    await form.getByRole("button", { name: "Send signal" }).click();
    await page.locator("h1 .status-succeeded").waitFor({ timeout: 15_000 });
    await expectText(page.locator(".io"), /t-3: fixed, thanks/);
    expect(await page.locator("form.signal-form").count()).toBe(0);
    expect((await runtime.getFlow(id)).record.status).toBe("succeeded");
    expect(pageErrors).toEqual([]);
  });

  it("offers a form for every signal the flow declares until it finishes, built from the signal's schema; one it does not wait for yet is kept until it does", async () => {
    const { name: id } = await runtime.scheduleFlow(inbox, { inboxId: "in-1" });
    await until("the inbox to wait for a note", async () => (await runtime.getFlow(id)).record.status === "waiting");

    await page.goto(`${server.url}/#/flows/${encodeURIComponent(id)}`);
    await page.getByRole("heading", { name: /Waiting for signal: note/ }).waitFor();
    await page.getByRole("heading", { name: /Send signal: close/ }).waitFor();
    const noteForm = page.locator('form[data-wait="signal:note"]');
    const closeForm = page.locator('form[data-wait="signal:close"]');
    expect(await noteForm.getByLabel("text").getAttribute("type")).toBe("text");
    expect(await closeForm.getByLabel("reason").evaluate((el) => el.tagName)).toBe("SELECT");

    // Refused by the schema: the API's message, and nothing stored.
    await closeForm.getByRole("button", { name: "Send signal" }).click();
    await expectText(closeForm.locator(".form-error"), /INVALID_PAYLOAD Refused; nothing changed\. .*reason/);
    expect((await runtime.getFlow(id)).record.inbox ?? {}).toEqual({});

    // A signal the flow does not wait for yet: taken and kept; the flow still waits for its note.
    await closeForm.getByLabel("reason").selectOption("spam");
    await closeForm.getByRole("button", { name: "Send signal" }).click();
    await expectText(page.locator(".notice"), /Signal close sent; the flow takes it when it waits for it\./);
    const kept = await runtime.getFlow(id);
    expect(kept.record.status).toBe("waiting");
    expect(Object.keys(kept.record.inbox ?? {})).toEqual([expect.stringMatching(/^signal:close:/)]);
    await page.screenshot({ path: join(ARTIFACTS, "signals-declared.png"), fullPage: true });

    // A paused flow still takes signals, so its forms stay.
    await runtime.pauseFlow(undefined, id);
    await page.locator("h1 .status-paused").waitFor();
    expect(await page.locator("form.signal-form").count()).toBe(2);
    await runtime.continueFlow(undefined, id);
    await page.locator("h1 .status-waiting").waitFor();

    await noteForm.getByLabel("text").fill("hello");
    await noteForm.getByRole("button", { name: "Send signal" }).click();
    await page.locator("h1 .status-succeeded").waitFor({ timeout: 15_000 });
    await expectText(page.locator(".io"), /in-1: hello \(spam\)/);
    expect(await page.locator("form.signal-form").count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it("runs a query the flow declares and shows its JSON result, or the API's error, which stays through the page's refreshes", async () => {
    const { name: id } = await runtime.scheduleFlow(inbox, { inboxId: "in-2" });
    await until("the inbox to wait for a note", async () => (await runtime.getFlow(id)).record.status === "waiting");

    await page.goto(`${server.url}/#/flows/${encodeURIComponent(id)}`);
    await page.getByRole("heading", { name: "Queries" }).waitFor();
    const queries = page.locator("section", { has: page.getByRole("heading", { name: "Queries" }) });
    const select = queries.getByLabel("Query", { exact: true });
    expect(await select.locator("option").allTextContents()).toEqual(["summary", "openedAt"]);
    const output = queries.locator(".query-output");

    await queries.getByRole("button", { name: "Run query" }).click();
    await expectText(output, /Result of summary:.*"status": "waiting".*"open-inbox"/);

    await select.selectOption("openedAt");
    await queries.getByRole("button", { name: "Run query" }).click();
    await expectText(output, /INVALID_QUERY_RESULT Query "openedAt" of flow .* returned a value JSON cannot carry/);

    // A change to the flow re-renders the page; the result shown stays.
    await select.selectOption("summary");
    await queries.getByRole("button", { name: "Run query" }).click();
    await expectText(output, /Result of summary:/);
    await runtime.signalFlow(undefined, id, "close", { reason: "done" });
    await expectText(page.locator("table.history"), /flow\.signalled/);
    await expectText(output, /Result of summary:.*"open-inbox"/);
    await page.screenshot({ path: join(ARTIFACTS, "query.png"), fullPage: true });

    // A finished flow still answers queries.
    await runtime.signalFlow(undefined, id, "note", { text: "bye" });
    await page.locator("h1 .status-succeeded").waitFor({ timeout: 15_000 });
    await queries.getByRole("button", { name: "Run query" }).click();
    await expectText(output, /"status": "succeeded"/);
    expect(pageErrors).toEqual([]);
  });

  it("shows a flow this server does not define, saying its signals and queries are unknown here, and offers neither", async () => {
    // Stored by another deployment (and not due for an hour, so this runtime never tries to run it).
    const elsewhere = { ...inbox, name: "dashElsewhere" } as typeof inbox;
    const { name: id } = await runtime.scheduleFlow(elsewhere, { inboxId: "in-3" }, { delaySeconds: 3600 });

    await page.goto(`${server.url}/#/flows/${encodeURIComponent(id)}`);
    await page.locator("h1 .status-scheduled").waitFor();
    await expectText(page.locator(".definition-unknown"), /Signals and queries: Flow "dashElsewhere" is not defined where this API runs/);
    await expectText(page.locator(".io"), /in-3/);
    expect(await page.locator("form.signal-form").count()).toBe(0);
    expect(await page.locator("form.query-form").count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "definition-unknown.png"), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it("pages through flows with the cursor, filters by name, and updates the list live", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 22; i++) ids.push((await runtime.scheduleFlow(nap, { minutes: 30 + i })).name);
    await until("the naps to sleep", async () => (await runtime.listFlows({ flowName: "dashNap", status: "waiting", limit: 100 })).flows.length === 22);

    await page.goto(`${server.url}/#/?flow=dashNap&status=waiting`);
    const rows = page.locator("table.flows tbody tr");
    await until("a full first page", async () => (await rows.count()) === 20);
    expect(await page.getByLabel("Flow name").inputValue()).toBe("dashNap");
    await page.getByRole("button", { name: "Older →" }).click();
    await until("the second page", async () => (await rows.count()) === 2);
    expect(await page.getByRole("button", { name: "Older →" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "← Newer" }).click();
    await until("the first page again", async () => (await rows.count()) === 20);

    // No reload: the next poll shows a flow cancelled elsewhere.
    await page.getByLabel("Status").selectOption({ label: "Any status" });
    const newest = page.locator(`tr[data-flow-id="${ids[21]}"]`);
    await expectText(newest, /waiting/);
    await runtime.cancelFlow(undefined, ids[21]!);
    await expectText(newest, /cancelled/);
    expect(pageErrors).toEqual([]);
  });

  it("works mounted with the API in one onRequest function, opened without a trailing slash", async () => {
    // As docs/dashboard.md shows it. A function called at its own URL sees paths without its name.
    const api = createHttpApi({ runtime, auth: { allowUnauthenticated: true } });
    const dashboard = createDashboard();
    const firestep = onRequest((req, res) => (dashboard.serves(req) ? dashboard(req, res) : api(req, res)));
    const host = createServer((req, res) => {
      if (!req.url?.startsWith("/firestep")) return void res.writeHead(404).end();
      req.url = req.url.slice("/firestep".length) || "/";
      const header = (name: string) => req.headers[name.toLowerCase()];
      void firestep(Object.assign(req, { rawBody: Buffer.alloc(0), body: {}, header, get: header }) as unknown as Parameters<typeof firestep>[0], res as Parameters<typeof firestep>[1]);
    });
    await new Promise<void>((done) => host.listen(0, "127.0.0.1", done));
    try {
      const { name } = await runtime.scheduleFlow(nap, { minutes: 5 });
      await page.goto(`http://127.0.0.1:${(host.address() as AddressInfo).port}/firestep`);
      await page.locator(`tr[data-flow-id="${name}"]`).waitFor();
      await page.locator(`tr[data-flow-id="${name}"] a`).click();
      await page.locator("h1 .status-waiting").waitFor();
      expect(pageErrors).toEqual([]);
    } finally {
      host.closeAllConnections();
      await new Promise((done) => host.close(done));
    }
  });

  it("asks for a token when the API refuses, and sends it from then on", async () => {
    const secret = "dashboard-secret-0123456789abcdef";
    const guarded = await startDevServer({ runtime, port: 0, auth: { secret } });
    try {
      await page.goto(`${guarded.url}/`);
      await expectText(page.getByRole("alert"), /Sign-in needed/);
      await page.getByLabel(/Bearer token/).fill(secret);
      await page.getByRole("button", { name: "Use token" }).click();
      await page.locator("table.flows").waitFor();
      expect(await page.locator("table.flows tbody tr").count()).toBeGreaterThanOrEqual(2);
    } finally {
      await guarded.close();
    }
  });
});

async function expectText(locator: ReturnType<Page["locator"]>, pattern: RegExp): Promise<void> {
  await until(`text ${pattern}`, async () => pattern.test(((await locator.textContent({ timeout: 10_000 })) ?? "").replace(/\s+/g, " ")), 10_000).catch(async (e) => {
    throw new Error(`${(e as Error).message}; found: ${await locator.textContent().catch(() => "(nothing)")}`);
  });
}
