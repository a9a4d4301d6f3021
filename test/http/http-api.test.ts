import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { onRequest } from "firebase-functions/v2/https";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { defineFlow } from "../../src/flow.js";
import { run } from "../../src/engine/steps.js";
import { interrupt, sleep } from "../../src/engine/waiting-steps.js";
import { waitForSignal } from "../../src/engine/signal-steps.js";
import type { FlowStore } from "../../src/ports.js";
import type { FlowRuntime } from "../../src/runtime/runtime.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { createTestRuntime, type TestRuntime } from "../../src/testing/index.js";
import { createHttpApi, startDevServer, type HttpApiHandler, type HttpApiOptions } from "../../src/http/index.js";
import { ROUTES } from "../../src/http/routes.js";
import { interceptStore } from "../../src/stores/store-helpers.js";

const SECRET = "s3cret-for-tests-0123456789";
const ADMIN_TOKEN = "id-token-admin";
const USER_TOKEN = "id-token-user";

const greet = defineFlow({ name: "httpGreet", input: z.object({ name: z.string() }), output: z.string() }, async ({ name }) =>
  run("greet", () => `Hello, ${name}`),
);
const approval = defineFlow({ name: "httpApproval", input: z.object({ amount: z.number() }), output: z.boolean() }, async () => {
  const { approved } = await interrupt("manager", z.object({ approved: z.boolean() }));
  return approved;
});
// Reached only by name, through the API (POST /flows/httpNap).
defineFlow({ name: "httpNap", input: z.void(), output: z.string() }, async () => {
  await sleep("nap", 3600);
  return "rested";
});
// Takes any input, so a value JSON cannot store reaches the store's check.
defineFlow({ name: "httpAnything", input: z.unknown(), output: z.unknown() }, async (v) => v);
// Takes one "item" signal per item; its queries read the prices back from the journal.
const cart = defineFlow(
  {
    name: "httpCart",
    input: z.object({ items: z.number().int() }),
    output: z.number(),
    signals: { item: z.object({ price: z.number().positive() }) },
    queries: {
      total: (view) => Object.values(view.steps).reduce<number>((sum, s) => sum + ((s as { payload?: { price: number } }).payload?.price ?? 0), 0),
      openedAt: () => new Date(0),
    },
  },
  async ({ items }) => {
    await run("open", () => "opened");
    let total = 0;
    for (let i = 0; i < items; i++) total += (await waitForSignal<{ price: number }>("item")).price;
    return total;
  },
);
// Two versions of one flow: a flow keeps the signals and queries of the version it started with.
const versionedV1 = defineFlow({ name: "httpVersioned", version: "v1", input: z.object({}), output: z.void(), signals: { stop: z.void() } }, async () => {
  await sleep("wait", 3600);
});
defineFlow(
  { name: "httpVersioned", version: "v2", input: z.object({}), output: z.void(), signals: { cancelOrder: z.object({}) }, queries: { stage: () => "waiting" } },
  async () => {
    await sleep("wait", 3600);
  },
);
let flakyFails = 0;
const flaky = defineFlow({ name: "httpFlaky", input: z.void(), output: z.string() }, async () =>
  run({ name: "flaky", retryConfig: { maxAttempts: 1 } }, () => {
    if (flakyFails-- > 0) throw new Error("the upstream said no");
    return "ok";
  }),
);

/** A store that counts every call, so a test can say "nothing was touched". */
function countingStore(inner: FlowStore): FlowStore & { calls: string[] } {
  const calls: string[] = [];
  return Object.assign(interceptStore(inner, (op, call) => (calls.push(op), call())), { calls });
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const verify = async (token: string): Promise<Record<string, unknown>> => {
  if (token === ADMIN_TOKEN) return { uid: "admin", firestepAdmin: true };
  if (token === USER_TOKEN) return { uid: "user", firestepAdmin: "yes" };
  throw new Error("auth/argument-error: Decoding Firebase ID token failed");
};

function expectNoStack(text: string): void {
  expect(text).not.toMatch(/(\\n|\n)\s*at /);
  expect(text).not.toMatch(/\.(ts|js):\d+:\d+/);
}

let t: TestRuntime;
let store: ReturnType<typeof countingStore>;
let base: string;
let closeServer: () => Promise<void>;

async function startApi(options: Partial<HttpApiOptions> = {}, wrap?: (h: HttpApiHandler) => (req: IncomingMessage, res: ServerResponse) => void) {
  const handler = createHttpApi({ runtime: t.runtime, auth: { secret: SECRET, idTokens: { verify } }, ...options });
  const server = await serve(wrap ? wrap(handler) : (req, res) => void handler(req, res));
  base = server.url;
  closeServer = server.close;
}

async function call(method: string, path: string, body?: unknown, auth: string | null = `Bearer ${SECRET}`) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  expectNoStack(text);
  const json = res.headers.get("content-type")?.startsWith("application/json") ? (JSON.parse(text) as Record<string, any>) : undefined;
  return { status: res.status, headers: res.headers, text, json: json as any };
}

beforeEach(async () => {
  flakyFails = 0;
  store = countingStore(createMemoryStore());
  t = createTestRuntime({ store });
  await startApi();
});
afterEach(async () => {
  await closeServer?.();
  await t?.close();
});

describe("authentication", () => {
  it("answers /health without credentials", async () => {
    const r = await call("GET", "/health", undefined, null);
    expect(r).toMatchObject({ status: 200, json: { ok: true } });
  });

  it("refuses missing, wrong, malformed and unverifiable credentials with 401, touching no store", async () => {
    const cases: Array<string | null> = [null, "Bearer wrong-secret-0123456789", `Basic ${SECRET}`, "Bearer", `Bearer ${SECRET} extra`, "Bearer not-a-real-id-token"];
    for (const auth of cases) {
      const r = await call("GET", "/flows", undefined, auth);
      expect(r.status, String(auth)).toBe(401);
      expect(r.json.error.code).toBe("UNAUTHENTICATED");
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    expect(store.calls).toEqual([]);
  });

  it("refuses a verified ID token without the admin claim with 403, and admits one with it", async () => {
    const denied = await call("GET", "/flows", undefined, `Bearer ${USER_TOKEN}`);
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe("PERMISSION_DENIED");
    expect(denied.json.error.message).toContain("firestepAdmin");
    expect(store.calls).toEqual([]);
    expect((await call("GET", "/flows", undefined, `Bearer ${ADMIN_TOKEN}`)).status).toBe(200);
    expect((await call("GET", "/flows", undefined, `bearer ${SECRET}`)).status).toBe(200);
  });

  it("an unauthorised POST changes nothing and never resolves the runtime", async () => {
    await closeServer();
    let resolved = 0;
    await startApi({ runtime: () => (resolved++, t.runtime) });
    for (const path of ["/flows/httpGreet", "/flows/some-id/cancel", "/flows/some-id/resume", "/flows/some-id/signals/item"]) {
      const r = await call("POST", path, { input: { name: "Eve" }, payload: {} }, "Bearer guess");
      expect(r.status).toBe(401);
    }
    expect((await call("DELETE", "/flows/some-id", undefined, `Bearer ${USER_TOKEN}`)).status).toBe(403);
    expect((await call("GET", "/flows/some-id/queries/total", undefined, "Bearer guess")).status).toBe(401);
    expect(resolved).toBe(0);
    expect(store.calls).toEqual([]);
    expect(t.runtime.queue.pending()).toBe(0);
  });

  it("checks credentials before routing: an unauthenticated request to no route or with a wrong method is 401, not 404 or 405", async () => {
    for (const [method, path] of [["GET", "/nope"], ["DELETE", "/flows"], ["PUT", "/flows/x"], ["GET", "/flows/%E0%A4%A"], ["GET", "/flows/a/b/c"]] as const) {
      const r = await call(method, path, undefined, null);
      expect({ method, path, status: r.status, code: r.json?.error?.code }).toEqual({ method, path, status: 401, code: "UNAUTHENTICATED" });
    }
    expect((await call("GET", "/nope", undefined, `Bearer ${USER_TOKEN}`)).status).toBe(403);
    expect((await call("POST", "/health", undefined, null)).status).toBe(405);
    expect(store.calls).toEqual([]);
  });

  it("refuses a configuration that lets nobody in or has a guessable secret", () => {
    expect(() => createHttpApi({ runtime: t.runtime, auth: {} })).toThrow(/allows nobody/);
    expect(() => createHttpApi({ runtime: t.runtime, auth: { secret: "short" } })).toThrow(/at least 16/);
  });
});

describe("flows", () => {
  it("schedules a flow by name and reads it back by id, in a list and as history", async () => {
    const created = await call("POST", "/flows/httpGreet", { input: { name: "Ada" } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ done: false, metadata: { flowName: "httpGreet", status: "scheduled" } });
    const id = created.json.name as string;
    await t.handle(greet, id).settle();

    const got = await call("GET", `/flows/${id}`);
    expect(got.status).toBe(200);
    expect(got.json.operation).toMatchObject({ name: id, done: true, result: { response: "Hello, Ada" } });
    expect(got.json.record).toMatchObject({ id, status: "succeeded", input: { name: "Ada" } });
    expect(got.json.steps.map((s: { key: string }) => s.key)).toEqual(["greet"]);
    expect(got.json.history.map((e: { type: string }) => e.type)).toContain("flow.succeeded");

    const history = await call("GET", `/flows/${encodeURIComponent(id)}/history`);
    expect(history.json.history[0].type).toBe("flow.scheduled");
    expect(history.json.history.at(-1).type).toBe("flow.succeeded");

    const list = await call("GET", "/flows?flow=httpGreet&status=succeeded");
    expect(list.json.operations.map((o: { name: string }) => o.name)).toEqual([id]);
    expect((await call("GET", "/flows?status=failed,cancelled")).json.operations).toEqual([]);
  });

  it("pages a list with limit and cursor", async () => {
    const ids: string[] = [];
    for (const name of ["a", "b", "c"]) {
      ids.push((await call("POST", "/flows/httpGreet", { input: { name }, delaySeconds: 60 })).json.name);
      await t.clock.advance(1);
    }
    const first = await call("GET", "/flows?limit=2");
    expect(first.json.operations).toHaveLength(2);
    expect(first.json.cursor).toEqual(expect.any(String));
    const second = await call("GET", `/flows?limit=2&cursor=${encodeURIComponent(first.json.cursor)}`);
    const seen = [...first.json.operations, ...second.json.operations].map((o: { name: string }) => o.name);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it("keeps a caller's flowId idempotent and refuses it for different input", async () => {
    const a = await call("POST", "/flows/httpGreet", { input: { name: "Bo" }, flowId: "order-42" });
    const again = await call("POST", "/flows/httpGreet", { input: { name: "Bo" }, flowId: "order-42" });
    expect([a.status, again.status]).toEqual([201, 201]);
    expect(again.json.name).toBe("order-42");
    const clash = await call("POST", "/flows/httpGreet", { input: { name: "Cy" }, flowId: "order-42" });
    expect(clash.status).toBe(409);
    expect(clash.json.error.code).toBe("FLOW_ALREADY_EXISTS");
  });

  it("starts a flow given in options.flows by name", async () => {
    await closeServer();
    const local = { ...greet, name: "httpUnregistered" } as typeof greet;
    await startApi({ flows: [local] });
    const r = await call("POST", "/flows/httpUnregistered", { input: { name: "Di" } });
    expect(r.status).toBe(201);
    expect(r.json.metadata.flowName).toBe("httpUnregistered");
  });

  it("answers an interrupt through /resume, refusing a bad payload and a wrong step", async () => {
    const id = (await call("POST", "/flows/httpApproval", { input: { amount: 10 } })).json.name as string;
    const blocked = await t.handle(approval, id).settle();
    expect(blocked.blockedOnStep?.name).toBe("manager");

    const bad = await call("POST", `/flows/${id}/resume`, { payload: { approved: "yes" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("INVALID_PAYLOAD");
    const wrongStep = await call("POST", `/flows/${id}/resume`, { payload: { approved: true }, step: "nope" });
    expect(wrongStep.status).toBe(409);
    expect(wrongStep.json.error.code).toBe("NOT_BLOCKED_ON_INTERRUPT");

    const ok = await call("POST", `/flows/${id}/resume`, { payload: { approved: true }, step: "manager" });
    expect(ok.status).toBe(200);
    expect(ok.json.name).toBe(id);
    expect(await t.handle(approval, id).settle()).toMatchObject({ done: true, result: { response: true } });
    expect((await call("POST", `/flows/${id}/resume`, { payload: { approved: true } })).status).toBe(409);
  });

  it("delivers a signal to a flow waiting in waitForSignal, which then finishes, and refuses one to a finished flow", async () => {
    const id = (await call("POST", "/flows/httpCart", { input: { items: 1 } })).json.name as string;
    expect((await t.handle(cart, id).settle()).metadata.waitingFor).toEqual([expect.objectContaining({ kind: "signal", name: "item" })]);

    const signalled = await call("POST", `/flows/${id}/signals/item`, { payload: { price: 7 } });
    expect(signalled).toMatchObject({ status: 200, json: { name: id, metadata: { status: "scheduled" } } });
    expect(await t.handle(cart, id).settle()).toMatchObject({ done: true, result: { response: 7 } });

    const late = await call("POST", `/flows/${id}/signals/item`, { payload: { price: 1 } });
    expect(late).toMatchObject({ status: 409, json: { error: { code: "INVALID_FLOW_STATE" } } });
    expect(late.json.error.message).toContain("it is succeeded");
  });

  it("answers a query with the value computed from the flow's steps, while it waits and once it has finished", async () => {
    const id = (await call("POST", "/flows/httpCart", { input: { items: 2 } })).json.name as string;
    await t.handle(cart, id).settle();
    expect(await call("GET", `/flows/${id}/queries/total`)).toMatchObject({ status: 200, json: { result: 0 } });
    await call("POST", `/flows/${id}/signals/item`, { payload: { price: 7 } });
    await t.handle(cart, id).settle();
    await call("POST", `/flows/${id}/signals/item`, { payload: { price: 5 } });
    expect((await t.handle(cart, id).settle()).done).toBe(true);
    store.calls.length = 0;
    expect(await call("GET", `/flows/${id}/queries/total`)).toMatchObject({ status: 200, json: { result: 12 } });
    expect(store.calls).toEqual(["load"]); // the record and journal, read once
  });

  it("says which signals and queries the flow's definition declares, each signal with its payload's JSON Schema", async () => {
    const id = (await call("POST", "/flows/httpCart", { input: { items: 1 } })).json.name as string;
    const got = await call("GET", `/flows/${id}`);
    expect(got.status).toBe(200);
    expect(got.json.definition).toEqual({
      known: true,
      signals: [{ name: "item", schema: expect.objectContaining({ type: "object", properties: { price: { type: "number", exclusiveMinimum: 0 } }, required: ["price"] }) }],
      queries: [{ name: "total" }, { name: "openedAt" }],
    });
    expect(Object.keys(got.json)).toEqual(["operation", "record", "steps", "history", "definition"]);
  });

  it("lists no signals or queries for a flow that declares none", async () => {
    const id = (await call("POST", "/flows/httpGreet", { input: { name: "Gil" } })).json.name as string;
    expect((await call("GET", `/flows/${id}`)).json.definition).toEqual({ known: true, signals: [], queries: [] });
  });

  it("describes the definition of the version a flow was started with, as the signal route checks it", async () => {
    // POST starts the newest version; an older one is started through the runtime, as before a deploy.
    const current = (await call("POST", "/flows/httpVersioned", { input: {} })).json.name as string;
    const got = await call("GET", `/flows/${current}`);
    expect(got.json.definition).toMatchObject({ known: true, version: "v2", signals: [{ name: "cancelOrder" }], queries: [{ name: "stage" }] });
    const old = (await t.runtime.scheduleFlow(versionedV1, {})).name;
    const oldGot = await call("GET", `/flows/${old}`);
    expect(oldGot.json.definition).toMatchObject({ known: true, version: "v1", signals: [{ name: "stop" }], queries: [] });
    expect((await call("POST", `/flows/${old}/signals/cancelOrder`, { payload: {} })).json.error.code).toBe("INVALID_ARGUMENT");
    expect((await call("POST", `/flows/${old}/signals/stop`, {})).status).toBe(200);
  });

  it("still shows a flow whose definition this process does not know, saying plainly that its signals and queries are unknown", async () => {
    // Stored by another deployment: this process has never defined "httpElsewhere".
    const id = (await t.runtime.scheduleFlow({ ...greet, name: "httpElsewhere" } as typeof greet, { name: "Hal" })).name;
    const got = await call("GET", `/flows/${id}`);
    expect(got.status).toBe(200);
    expect(got.json.operation).toMatchObject({ name: id, metadata: { flowName: "httpElsewhere", status: "scheduled" } });
    expect(got.json.record).toMatchObject({ id, input: { name: "Hal" } });
    expect(got.json.definition).toEqual({ known: false, message: expect.stringContaining('Flow "httpElsewhere" is not defined where this API runs') });
    expect(got.json.definition.message).toContain("404 FLOW_NOT_REGISTERED");
    // What the message promises: the routes that need the definition refuse it.
    expect((await call("POST", `/flows/${id}/signals/item`, { payload: {} })).json.error.code).toBe("FLOW_NOT_REGISTERED");
    expect((await call("GET", `/flows/${id}/queries/total`)).json.error.code).toBe("FLOW_NOT_REGISTERED");
  });

  it("pauses, continues, cancels and deletes a flow", async () => {
    const id = (await call("POST", "/flows/httpNap", {})).json.name as string;
    await t.runtime.idle();
    expect((await call("DELETE", `/flows/${id}`)).json.error.code).toBe("INVALID_FLOW_STATE");

    const paused = await call("POST", `/flows/${id}/pause`);
    expect(paused).toMatchObject({ status: 200, json: { metadata: { status: "paused" } } });
    expect((await call("POST", `/flows/${id}/pause`)).status).toBe(409);
    const continued = await call("POST", `/flows/${id}/continue`);
    expect(continued.status).toBe(200);
    expect(continued.json.metadata.status).not.toBe("paused");

    const cancelled = await call("POST", `/flows/${id}/cancel`, { reason: "no longer needed" });
    expect(cancelled).toMatchObject({ status: 200, json: { done: true, metadata: { status: "cancelled" } } });
    expect(cancelled.json.result.error.message).toContain("no longer needed");

    const deleted = await call("DELETE", `/flows/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    const gone = await call("GET", `/flows/${id}`);
    expect(gone).toMatchObject({ status: 404, json: { error: { code: "FLOW_NOT_FOUND" } } });
  });

  it("retries a failed flow, and shows its failure without a stack trace", async () => {
    flakyFails = 1;
    const id = (await call("POST", "/flows/httpFlaky", {})).json.name as string;
    await t.handle(flaky, id).settle();
    const failed = await call("GET", `/flows/${id}`);
    expect(failed.json.operation).toMatchObject({ done: true, result: { error: { code: "USER_ERROR", message: "the upstream said no" } } });
    expect(failed.json.record.error.message).toBe("the upstream said no");
    expect(failed.json.steps[0].error.message).toBe("the upstream said no");
    expect(failed.text).not.toContain('"stack"');
    expect((await call("GET", "/flows?status=failed")).text).not.toContain('"stack"');

    const retried = await call("POST", `/flows/${id}/retry`);
    expect(retried.status).toBe(200);
    expect(await t.handle(flaky, id).settle()).toMatchObject({ done: true, result: { response: "ok" } });
    expect((await call("POST", `/flows/${id}/retry`)).json.error.code).toBe("INVALID_FLOW_STATE");
  });

  it("serves the runtime's metrics as Prometheus text", async () => {
    await call("POST", "/flows/httpGreet", { input: { name: "Mo" } });
    const r = await call("GET", "/metrics");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(r.text).toContain('firestep_flows_started_total{flow="httpGreet"} 1');
    expect((await call("GET", "/metrics", undefined, null)).status).toBe(401);
  });
});

describe("errors", () => {
  it("maps caller mistakes to 4xx with a code and a message", async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ["POST", "/flows/httpGreet", { input: { name: 7 } }, 400, "INVALID_INPUT"],
      ["POST", "/flows/httpGreet", { input: { name: "x" }, delaySeconds: -1 }, 400, "INVALID_ARGUMENT"],
      ["POST", "/flows/httpGreet", { input: { name: "x" }, flowId: "../etc" }, 400, "INVALID_ARGUMENT"],
      ["POST", "/flows/httpGreet", "{not json", 400, "INVALID_ARGUMENT"],
      ["POST", "/flows/httpGreet", "[1,2]", 400, "INVALID_ARGUMENT"],
      ["POST", "/flows/noSuchFlow", { input: {} }, 404, "FLOW_NOT_REGISTERED"],
      ["GET", "/flows/no-such-id", undefined, 404, "FLOW_NOT_FOUND"],
      ["GET", "/flows/no-such-id/history", undefined, 404, "FLOW_NOT_FOUND"],
      ["POST", "/flows/no-such-id/cancel", { reason: 5 }, 400, "INVALID_ARGUMENT"],
      ["POST", "/flows/no-such-id/pause", undefined, 404, "FLOW_NOT_FOUND"],
      ["GET", "/flows?limit=abc", undefined, 400, "INVALID_ARGUMENT"],
      ["GET", "/flows?limit=0", undefined, 400, "INVALID_ARGUMENT"],
      ["GET", "/flows?status=sleeping", undefined, 400, "INVALID_ARGUMENT"],
      ["GET", "/nope", undefined, 404, "NOT_FOUND"],
      ["GET", "/flows/a/b/c", undefined, 404, "NOT_FOUND"],
      ["GET", "/flows/x/explode", undefined, 404, "NOT_FOUND"],
      ["PUT", "/flows/x", undefined, 405, "METHOD_NOT_ALLOWED"],
      ["GET", "/flows/x/cancel", undefined, 405, "METHOD_NOT_ALLOWED"],
      ["POST", "/flows/no-such-id/signals/item", { payload: { price: 1 } }, 404, "FLOW_NOT_FOUND"],
      ["GET", "/flows/no-such-id/queries/total", undefined, 404, "FLOW_NOT_FOUND"],
      ["GET", "/flows/x/signals/item", undefined, 405, "METHOD_NOT_ALLOWED"],
      ["POST", "/flows/x/queries/total", undefined, 405, "METHOD_NOT_ALLOWED"],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await call(method, path, body);
      expect({ path, status: r.status, code: r.json?.error?.code }).toEqual({ path, status, code });
      expect(typeof r.json.error.message).toBe("string");
    }
    const wrongMethod = await call("PATCH", "/flows/x");
    expect(wrongMethod.headers.get("allow")).toBe("GET, POST, DELETE");
  });

  it("refuses a list query that would widen what it lists: an empty flow name or status, or a parameter it does not take", async () => {
    await call("POST", "/flows/httpGreet", { input: { name: "x" }, delaySeconds: 60 });
    for (const [path, says] of [
      ["/flows?flow=", "flow needs a flow name"],
      ["/flows?status=", "status takes one or more of"],
      ["/flows?status=failed,", "got an empty one in"],
      ["/flows?stauts=failed", 'does not take "stauts"'],
    ]) {
      const r = await call("GET", path);
      expect({ path, status: r.status, code: r.json?.error?.code }).toEqual({ path, status: 400, code: "INVALID_ARGUMENT" });
      expect(r.json.error.message).toContain(says);
    }
    expect((await call("GET", "/flows?cursor=")).json.operations).toHaveLength(1);
  });

  it("refuses a delaySeconds past 100 years with 400 before storing anything, so listing keeps working", async () => {
    const r = await call("POST", "/flows/httpNap", { delaySeconds: 1e300 });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("INVALID_ARGUMENT");
    expect(r.json.error.message).toContain("100 years");
    expect(store.calls).not.toContain("create");
    expect(await call("GET", "/flows")).toMatchObject({ status: 200, json: { operations: [] } });
  });

  it("says which type an option takes and shows the value sent as JSON", async () => {
    const id = await call("POST", "/flows/httpGreet", { input: { name: "x" }, flowId: 5 });
    expect(id.status).toBe(400);
    expect(id.json.error.message).toMatch(/flowId must be a string .*; got 5\.$/);
    const delay = await call("POST", "/flows/httpGreet", { input: { name: "x" }, delaySeconds: "3" });
    expect(delay.json.error.message).toMatch(/delaySeconds must be a number .*; got "3"\.$/);
    const reason = await call("POST", "/flows/x/cancel", { reason: 5 });
    expect(reason.json.error.message).toMatch(/reason.* must be a string; got 5\.$/);
  });

  it("refuses an input or resume payload that JSON cannot store (1e400 is Infinity) with 400 UNSTORABLE_VALUE", async () => {
    const scheduled = await call("POST", "/flows/httpAnything", '{"input":{"x":1e400}}');
    expect(scheduled).toMatchObject({ status: 400, json: { error: { code: "UNSTORABLE_VALUE" } } });
    expect(store.calls).not.toContain("create");
    const blocked = await call("POST", "/flows/httpApproval", { input: { amount: 1 } });
    await t.runtime.idle();
    const resumed = await call("POST", `/flows/${blocked.json.name}/resume`, '{"payload":{"approved":true,"x":1e400}}');
    expect(resumed).toMatchObject({ status: 400, json: { error: { code: "UNSTORABLE_VALUE" } } });
    expect((await t.runtime.getFlow(blocked.json.name)).record.status).toBe("waiting");
  });

  it("refuses a body field the route does not take, naming it and the ones it takes, before anything is stored", async () => {
    const misspelt = await call("POST", "/flows/httpGreet", { input: { name: "x" }, delay: 5 });
    expect(misspelt).toMatchObject({ status: 400, json: { error: { code: "INVALID_ARGUMENT" } } });
    expect(misspelt.json.error.message).toBe('The request body has a field this route does not take: "delay". It takes "input", "delaySeconds", "flowId".');
    expect(store.calls).not.toContain("create");
    const blocked = await call("POST", "/flows/httpApproval", { input: { amount: 1 } });
    await t.runtime.idle();
    const resumed = await call("POST", `/flows/${blocked.json.name}/resume`, { payload: { approved: true }, stepName: "x" });
    expect(resumed.json.error.message).toMatch(/"stepName"\. It takes "payload", "step"\.$/);
    const paused = await call("POST", `/flows/${blocked.json.name}/pause`, { now: true });
    expect(paused.status).toBe(400);
    expect(paused.json.error.message).toMatch(/"now"\. It takes no body\.$/);
    expect((await call("DELETE", `/flows/${blocked.json.name}`, { force: true })).status).toBe(400);
    expect((await t.runtime.getFlow(blocked.json.name)).record.status).toBe("waiting");
  });

  it("names the input, payload or signal that cannot be stored, not a step", async () => {
    const scheduled = await call("POST", "/flows/httpAnything", '{"input":{"x":1e400}}');
    expect(scheduled.json.error.message).toMatch(/^The input of flow "httpAnything" cannot be stored faithfully: .* at \$\.x\. Use plain JSON/);
  });

  it("refuses a signal the flow does not declare, a payload its schema rejects and a body field it does not take, leaving the stored flow unchanged", async () => {
    const id = (await call("POST", "/flows/httpCart", { input: { items: 1 } })).json.name as string;
    await t.handle(cart, id).settle();
    const stored = async () => JSON.stringify({ record: await store.get(id), journal: await store.load(id), history: await store.history(id) });
    const before = await stored();
    const pending = t.runtime.queue.pending();
    store.calls.length = 0;

    const bad = await call("POST", `/flows/${id}/signals/item`, { payload: { price: -3 } });
    expect(bad).toMatchObject({ status: 400, json: { error: { code: "INVALID_PAYLOAD" } } });
    expect(bad.json.error.message).toMatch(/^Signal "item" to flow ".+": the payload does not match the schema: price: .*Nothing was changed/);
    const undeclared = await call("POST", `/flows/${id}/signals/itme`, { payload: { price: 3 } });
    expect(undeclared).toMatchObject({ status: 400, json: { error: { code: "INVALID_ARGUMENT" } } });
    expect(undeclared.json.error.message).toBe('Flow "httpCart" declares no signal "itme". It declares: item.');
    const extra = await call("POST", `/flows/${id}/signals/item`, { payload: { price: 3 }, step: "x" });
    expect(extra.json.error.message).toBe('The request body has a field this route does not take: "step". It takes "payload".');
    const query = await call("GET", `/flows/${id}/queries/totl`);
    expect(query).toMatchObject({ status: 400, json: { error: { code: "INVALID_ARGUMENT", message: 'Flow "httpCart" declares no query "totl". It declares: total, openedAt.' } } });

    expect(store.calls.filter((op) => op !== "get" && op !== "load")).toEqual([]);
    expect(await stored()).toBe(before);
    expect(t.runtime.queue.pending()).toBe(pending);
  });

  it("answers a query whose result JSON cannot carry with 500 INVALID_QUERY_RESULT, naming the query and what to fix", async () => {
    const id = (await call("POST", "/flows/httpCart", { input: { items: 1 } })).json.name as string;
    await t.handle(cart, id).settle();
    const r = await call("GET", `/flows/${id}/queries/openedAt`);
    expect(r.status).toBe(500);
    expect(r.json.error).toEqual({
      code: "INVALID_QUERY_RESULT",
      message: `Query "openedAt" of flow "${id}" returned a value JSON cannot carry: an instance of Date (JSON would not bring it back as one) at $. ` +
        "Fix the query's handler in the flow's definition to return plain JSON (e.g. date.toISOString(), String(bigint), Object.fromEntries(map)).",
    });
  });

  it("refuses a body over 1 MiB with 413, whether or not its length is declared", async () => {
    const big = JSON.stringify({ input: { name: "x".repeat(1024 * 1024) } });
    const declared = await call("POST", "/flows/httpGreet", big);
    expect(declared).toMatchObject({ status: 413, json: { error: { code: "PAYLOAD_TOO_LARGE" } } });
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 4; i++) c.enqueue(new TextEncoder().encode(big.slice((i * big.length) / 4, ((i + 1) * big.length) / 4)));
        c.close();
      },
    });
    const streamed = await fetch(`${base}/flows/httpGreet`, { method: "POST", headers: { authorization: `Bearer ${SECRET}` }, body: chunks, duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await t.runtime.listFlows()).toMatchObject({ flows: [] });
  });

  it("hides an unexpected failure behind a generic 500 and logs the real one", async () => {
    await closeServer();
    const log = vi.spyOn(t.runtime.core, "log").mockImplementation(() => undefined);
    const broken: FlowRuntime = {
      ...t.runtime,
      listFlows: async () => {
        throw new Error("connect ECONNREFUSED 10.0.0.7:5432 while reading flows of tenant acme");
      },
    };
    await startApi({ runtime: broken });
    const r = await call("GET", "/flows");
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ error: { code: "INTERNAL", message: expect.any(String) } });
    expect(r.text).not.toContain("ECONNREFUSED");
    expect(log).toHaveBeenCalledWith("error", "HTTP API request failed", expect.objectContaining({ error: expect.stringContaining("ECONNREFUSED") }));
  });
});

describe("mounting", () => {
  it("works inside a firebase-functions onRequest, whose request already carries the body", async () => {
    await closeServer();
    const api = onRequest(createHttpApi({ runtime: () => t.runtime, auth: { secret: SECRET }, basePath: "/api/" }));
    // What the functions framework hands the function: the stream read into rawBody, and `body` as the
    // parser for the content type left it (express's urlencoded parser for `curl -d '{...}'`).
    const server = await serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const rawBody = Buffer.concat(chunks);
        const body = rawBody.length ? { [rawBody.toString()]: "" } : {};
        const header = (name: string) => req.headers[name.toLowerCase()];
        void api(Object.assign(req, { rawBody, body, header, get: header }) as unknown as Parameters<typeof api>[0], res as Parameters<typeof api>[1]);
      });
    });
    base = server.url;
    closeServer = server.close;
    const r = await call("POST", "/api/flows/httpGreet", JSON.stringify({ input: { name: "Ed" } }));
    expect(r.status).toBe(201);
    expect((await t.handle(greet, r.json.name).settle()).result).toEqual({ response: "Hello, Ed" });
    expect((await call("GET", "/api/health", undefined, null)).status).toBe(200);
    expect((await call("GET", "/health")).status).toBe(404);
    expect((await call("GET", "/apiflows")).status).toBe(404);
    expect((await call("GET", "/health", undefined, null)).status).toBe(401);
  });

  it("runs as a dev server on loopback without credentials, and refuses other hosts without auth", async () => {
    const dev = await startDevServer({ runtime: t.runtime, port: 0 });
    try {
      expect(dev.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const r = await fetch(`${dev.url}/flows/httpGreet`, { method: "POST", body: JSON.stringify({ input: { name: "Fay" } }) });
      expect(r.status).toBe(201);
      expect(((await fetch(`${dev.url}/flows`).then((x) => x.json())) as { operations: unknown[] }).operations).toHaveLength(1);
    } finally {
      await dev.close();
    }
    await expect(startDevServer({ runtime: t.runtime, port: 0, host: "0.0.0.0" })).rejects.toThrow(/needs auth/);
  });
});

describe("docs", () => {
  it("docs/openapi.yaml lists exactly the routes the API serves", () => {
    const yaml = readFileSync(new URL("../../docs/openapi.yaml", import.meta.url), "utf8");
    const documented: string[] = [];
    let path = "";
    for (const line of yaml.slice(yaml.indexOf("\npaths:"), yaml.indexOf("\ncomponents:")).split("\n")) {
      const p = /^  (\/\S*):$/.exec(line);
      if (p) path = p[1]!.replace(/\{[^}]+\}/g, ":");
      const m = /^    (get|post|delete|put|patch):$/.exec(line);
      if (m) documented.push(`${m[1]!.toUpperCase()} ${path}`);
    }
    const served = ROUTES.flatMap((r) => Object.keys(r.methods).map((m) => `${m} /${r.path.map((s) => (s.startsWith(":") ? ":" : s)).join("/")}`));
    expect(documented.sort()).toEqual(served.sort());
  });
});
