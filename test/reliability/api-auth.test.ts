/**
 * Security of the HTTP surfaces. The control API with Firebase ID tokens (real RS256 JWTs, checked by a
 * verifier that does what getAuth().verifyIdToken does): missing, malformed, expired, wrong-audience, wrong-
 * issuer, forged and wrong-claim tokens are refused before anything is touched. The Cloud Tasks HTTP path:
 * an RS256 OIDC token checked by createOidcVerifier (issuer, audience, service account) before a task is
 * delivered. No error response carries a stack trace or another flow's data.
 */
import { generateKeyPairSync, sign, verify as verifySignature, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createRuntime, defineFlow, interrupt, run, WakeTaskSchema, type FlowRuntime, type FlowStore, type QueuedTask } from "../../src/index.js";
import { createOidcVerifier } from "../../src/firebase/oidc-verify.js";
import { createHttpApi, type HttpAuth } from "../../src/http/index.js";
import { errorReply, sendJson } from "../../src/http/responses.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";

const PROJECT = "demo-firestep";
const NOW = Math.floor(Date.now() / 1000);
const firebaseKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
const googleKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
const strangerKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

function jwt(claims: Record<string, unknown>, key: KeyObject, kid: string): string {
  const head = b64({ alg: "RS256", kid, typ: "JWT" });
  const body = b64(claims);
  return `${head}.${body}.${sign("RSA-SHA256", Buffer.from(`${head}.${body}`), key).toString("base64url")}`;
}

const idToken = (claims: Record<string, unknown> = {}, key = firebaseKey.privateKey) =>
  jwt({ iss: `https://securetoken.google.com/${PROJECT}`, aud: PROJECT, sub: "uid-1", user_id: "uid-1", iat: NOW - 10, exp: NOW + 3600, auth_time: NOW - 10, ...claims }, key, "firebase-1");

/** What getAuth().verifyIdToken checks: RS256 by a known key, issuer, audience, subject, time window. */
async function verifyIdToken(token: string): Promise<Record<string, unknown>> {
  const [h, p, s] = token.split(".");
  const header = JSON.parse(Buffer.from(h!, "base64url").toString()) as { alg?: string; kid?: string };
  if (header.alg !== "RS256" || header.kid !== "firebase-1") throw new Error("auth/argument-error: bad header");
  if (!verifySignature("RSA-SHA256", Buffer.from(`${h}.${p}`), firebaseKey.publicKey, Buffer.from(s!, "base64url"))) throw new Error("auth/argument-error: bad signature");
  const c = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
  if (c.aud !== PROJECT) throw new Error("auth/argument-error: incorrect aud");
  if (c.iss !== `https://securetoken.google.com/${PROJECT}`) throw new Error("auth/argument-error: incorrect iss");
  if (typeof c.sub !== "string" || !c.sub) throw new Error("auth/argument-error: no sub");
  if (typeof c.exp !== "number" || c.exp < Date.now() / 1000) throw new Error("auth/id-token-expired");
  return { ...c, uid: c.sub };
}

const SECRET_INPUT = "card-4111-1111-1111-1111";
const orders = defineFlow({ name: "authOrders", input: z.object({ card: z.string() }), output: z.string() }, async ({ card }) => {
  await interrupt("approve", z.object({ ok: z.boolean() }));
  return run("charge", () => `charged ${card.slice(-4)}`);
});
const failing = defineFlow({ name: "authFailing", input: z.void(), output: z.string() }, async () =>
  run("explode", () => {
    throw new Error("the upstream exploded");
  }),
);

/** A store that records every call, so a refused request can be shown to have touched nothing. */
function recording(inner: FlowStore): FlowStore & { calls: string[] } {
  const calls: string[] = [];
  const wrap = (op: keyof FlowStore) => (...a: unknown[]) => (calls.push(String(op)), (inner[op] as (...x: unknown[]) => unknown).apply(inner, a));
  return { calls, create: wrap("create"), get: wrap("get"), load: wrap("load"), commit: wrap("commit"), history: wrap("history"), list: wrap("list"), delete: wrap("delete"), maxValueBytes: inner.maxValueBytes } as FlowStore & { calls: string[] };
}

let server: Server;
let base = "";
let store: ReturnType<typeof recording>;
let rt: FlowRuntime;
const tasks: QueuedTask[] = [];
let secretFlowId = "";
let failedFlowId = "";

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const s = createServer(handler);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  store = recording(createMemoryStore());
  rt = createRuntime({ store, queue: { enqueue: async (t) => void tasks.push(t) }, logger: () => {} });
  secretFlowId = (await rt.scheduleFlow(orders, { card: SECRET_INPUT })).name;
  failedFlowId = (await rt.scheduleFlow(failing, undefined)).name;
  for (const t of tasks.splice(0)) await rt.deliver(t.task);
  const auth: HttpAuth = { secret: "service-secret-0123456789abcdef", idTokens: { verify: verifyIdToken } };
  const api = createHttpApi({ runtime: rt, auth });
  ({ server, url: base } = await listen((req, res) => void api(req, res)));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function call(path: string, authorization?: string, init: RequestInit = {}) {
  const res = await fetch(base + path, { ...init, headers: { ...(authorization !== undefined ? { authorization } : {}), ...(init.headers ?? {}) } });
  const text = await res.text();
  return { status: res.status, text, body: text ? (JSON.parse(text) as { error?: { code: string; message: string } }) : undefined };
}

/** Nothing in a response may carry a stack trace or the secret input of a flow the request is not about. */
function clean(text: string, about?: string): void {
  expect(text).not.toMatch(/"stack"|\n\s+at |at .*\.(ts|js):\d+/);
  if (about !== secretFlowId) expect(text).not.toContain(SECRET_INPUT);
}

describe("control API: Firebase ID tokens", () => {
  const REFUSED: Array<[string, string | undefined, number, string]> = [
    ["no Authorization header", undefined, 401, "UNAUTHENTICATED"],
    ["an empty header", "", 401, "UNAUTHENTICATED"],
    ["not a bearer token", `Basic ${Buffer.from("a:b").toString("base64")}`, 401, "UNAUTHENTICATED"],
    ["a token that is not a JWT", "Bearer not-a-jwt", 401, "UNAUTHENTICATED"],
    ["an expired token", `Bearer ${idToken({ firestepAdmin: true, iat: NOW - 7200, exp: NOW - 3600 })}`, 401, "UNAUTHENTICATED"],
    ["a token for another project (wrong audience)", `Bearer ${idToken({ firestepAdmin: true, aud: "someone-elses-project" })}`, 401, "UNAUTHENTICATED"],
    ["a token from another issuer", `Bearer ${idToken({ firestepAdmin: true, iss: "https://accounts.example.com" })}`, 401, "UNAUTHENTICATED"],
    ["a token signed with another key", `Bearer ${idToken({ firestepAdmin: true }, strangerKey.privateKey)}`, 401, "UNAUTHENTICATED"],
    ["a valid token without the admin claim", `Bearer ${idToken()}`, 403, "PERMISSION_DENIED"],
    ["a valid token whose claim is false", `Bearer ${idToken({ firestepAdmin: false })}`, 403, "PERMISSION_DENIED"],
    ["a valid token whose claim is the string \"true\"", `Bearer ${idToken({ firestepAdmin: "true" })}`, 403, "PERMISSION_DENIED"],
    ["a wrong service secret", "Bearer service-secret-0123456789abcdeX", 401, "UNAUTHENTICATED"],
  ];

  it.each(REFUSED)("refuses %s before touching anything", async (_what, authorization, status, code) => {
    for (const [path, init] of [
      ["/flows", {}],
      [`/flows/${secretFlowId}`, {}],
      [`/flows/${secretFlowId}/resume`, { method: "POST", body: JSON.stringify({ payload: { ok: true } }) }],
      [`/flows/${secretFlowId}/cancel`, { method: "POST" }],
      [`/flows/${secretFlowId}/signals/note`, { method: "POST", body: JSON.stringify({ payload: {} }) }],
      [`/flows/${secretFlowId}/queries/card`, {}],
      ["/flows/authOrders", { method: "POST", body: JSON.stringify({ input: { card: "x" } }) }],
      ["/metrics", {}],
    ] as const) {
      store.calls.length = 0;
      const r = await call(path, authorization, init);
      expect(r.status, `${path}: ${r.text}`).toBe(status);
      expect(r.body?.error?.code).toBe(code);
      expect(store.calls, `${path} touched the store`).toEqual([]);
      clean(r.text);
      if (authorization && authorization.length > 20) expect(r.text).not.toContain(authorization.slice(7, 60));
    }
  });

  it("lets a valid admin token and the service secret in", async () => {
    expect((await call("/flows", `Bearer ${idToken({ firestepAdmin: true })}`)).status).toBe(200);
    expect((await call("/flows", "Bearer service-secret-0123456789abcdef")).status).toBe(200);
  });

  it("answers errors about one flow without stack traces or other flows' data", async () => {
    const admin = `Bearer ${idToken({ firestepAdmin: true })}`;
    const failed = await call(`/flows/${failedFlowId}`, admin);
    expect(failed.status).toBe(200);
    expect(failed.text).toContain("the upstream exploded");
    clean(failed.text, failedFlowId);
    for (const [path, init] of [
      [`/flows/${failedFlowId}/resume`, { method: "POST", body: "{}" }],
      [`/flows/${failedFlowId}/pause`, { method: "POST" }],
      [`/flows/${failedFlowId}/continue`, { method: "POST" }],
      [`/flows/${secretFlowId}x`, {}],
      ["/flows/authOrders", { method: "POST", body: JSON.stringify({ input: { card: "another card" }, flowId: secretFlowId }) }],
      ["/flows?cursor=AAAA", {}],
    ] as const) {
      const r = await call(path, admin, init);
      expect(r.status, path).toBeGreaterThanOrEqual(400);
      clean(r.text);
    }
  });

  it("turns an unexpected failure into a generic 500 that leaks nothing", async () => {
    const leaky: FlowStore = { ...createMemoryStore(), list: async () => Promise.reject(new Error(`connection to db failed while reading ${SECRET_INPUT}`)) };
    const api = createHttpApi({ runtime: createRuntime({ store: leaky, queue: { enqueue: async () => {} }, logger: () => {} }), auth: { allowUnauthenticated: true } });
    const { server: s, url } = await listen((req, res) => void api(req, res));
    try {
      const res = await fetch(`${url}/flows`);
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(JSON.parse(text)).toEqual({ error: { code: "INTERNAL", message: "Internal error. The server logged the details." } });
      clean(text);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});

describe("Cloud Tasks HTTP path: OIDC tokens checked by createOidcVerifier", () => {
  const AUDIENCE = "https://tasks.example.test/firestep";
  const EMAIL = "tasks@demo-firestep.iam.gserviceaccount.com";
  const oidc = (claims: Record<string, unknown> = {}, key = googleKey.privateKey) =>
    jwt({ iss: "https://accounts.google.com", aud: AUDIENCE, sub: "1234", email: EMAIL, email_verified: true, iat: NOW - 5, exp: NOW + 3595, ...claims }, key, "google-1");

  let tasksServer: Server;
  let tasksUrl = "";
  beforeAll(async () => {
    const verifier = createOidcVerifier({
      audience: AUDIENCE,
      serviceAccountEmail: EMAIL,
      getPublicKeys: async () => ({ "google-1": googleKey.publicKey.export({ type: "spki", format: "pem" }).toString() }),
    });
    // The task endpoint as an HTTP function would mount it: check the token, then deliver the task.
    ({ server: tasksServer, url: tasksUrl } = await listen(async (req, res) => {
      try {
        await verifier.verify(req.headers.authorization);
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        await rt.deliver(WakeTaskSchema.parse(JSON.parse(Buffer.concat(chunks).toString())));
        sendJson(res, 204, undefined);
      } catch (e) {
        const reply = errorReply(e);
        sendJson(res, reply.status, reply.body, reply.headers);
      }
    }));
  });
  afterAll(() => new Promise<void>((r) => tasksServer.close(() => r())));

  const post = async (authorization: string | undefined) => {
    const body = JSON.stringify({ flowId: secretFlowId, flowName: "authOrders", reason: "wake", at: 0 });
    const res = await fetch(tasksUrl, { method: "POST", body, headers: authorization === undefined ? {} : { authorization } });
    return { status: res.status, text: await res.text() };
  };

  const REFUSED: Array<[string, string | undefined]> = [
    ["no token", undefined],
    ["a token from another issuer", `Bearer ${oidc({ iss: "https://evil.example.com" })}`],
    ["a token for another audience", `Bearer ${oidc({ aud: "https://elsewhere.example.test/" })}`],
    ["a token of another service account", `Bearer ${oidc({ email: "intruder@demo-firestep.iam.gserviceaccount.com" })}`],
    ["a token whose email is not verified", `Bearer ${oidc({ email_verified: false })}`],
    ["an expired token", `Bearer ${oidc({ iat: NOW - 7200, exp: NOW - 3600 })}`],
    ["a token signed with another key", `Bearer ${oidc({}, strangerKey.privateKey)}`],
    ["an unsigned token", `Bearer ${b64({ alg: "none", kid: "google-1" })}.${b64({ iss: "https://accounts.google.com", aud: AUDIENCE, email: EMAIL })}.`],
  ];

  it.each(REFUSED)("refuses %s with 401, delivering nothing", async (_what, authorization) => {
    store.calls.length = 0;
    const r = await post(authorization);
    expect(r.status, r.text).toBe(401);
    expect(JSON.parse(r.text).error.code).toBe("UNAUTHENTICATED");
    expect(store.calls).toEqual([]);
    clean(r.text);
    if (authorization) expect(r.text).not.toContain(authorization.slice(7, 60));
  });

  it("accepts the service account's token for this URL and delivers the task", async () => {
    store.calls.length = 0;
    const r = await post(`Bearer ${oidc()}`);
    expect(r.status, r.text).toBe(204);
    expect(store.calls.length, "the task never reached the runtime").toBeGreaterThan(0);
  });
});
