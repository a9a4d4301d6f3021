/**
 * The control plane over HTTP: a framework-free `(req, res)` handler that works mounted in a Cloud
 * Functions `onRequest` and in a plain node:http server. JSON in and out; errors as
 * `{ error: { code, message } }`, never with a stack trace.
 */
import type { ServerResponse } from "node:http";
import { FlowNotRegisteredError, isFirestepError } from "../errors.js";
import { registeredFlows, type Flow } from "../flow.js";
import type { FlowRuntime } from "../runtime/runtime.js";
import { createAuthenticator, type HttpAuth } from "./auth.js";
import { readJsonBody, type ApiRequest } from "./request-body.js";
import { errorReply, HttpError, sendJson, sendText } from "./responses.js";
import { matchRoute, type Method, type Reply } from "./routes.js";

export interface HttpApiOptions {
  /** The runtime, or a function that returns it (called per request, after auth; e.g. `getRuntime`). */
  runtime: FlowRuntime | (() => FlowRuntime);
  auth: HttpAuth;
  /** A prefix the routes live under, e.g. "/firestep" (default: none). */
  basePath?: string;
  /** Flows `POST /flows/:name` may start, besides those the runtime or this process defines. */
  flows?: Flow[];
}

export type HttpApiHandler = (req: ApiRequest, res: ServerResponse) => Promise<void>;

export function createHttpApi(options: HttpApiOptions): HttpApiHandler {
  const authenticate = createAuthenticator(options.auth);
  const basePath = (options.basePath ?? "").replace(/\/+$/, "");
  const extraFlows = new Map((options.flows ?? []).map((f) => [f.name, f]));
  const resolveRuntime = (): FlowRuntime => (typeof options.runtime === "function" ? options.runtime() : options.runtime);

  return async (req, res) => {
    let runtime: FlowRuntime | undefined;
    const getRuntime = () => (runtime ??= resolveRuntime());
    const method = (req.method ?? "GET").toUpperCase();
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      let match: ReturnType<typeof matchRoute>;
      let badPath: unknown;
      try {
        match = matchRoute(pathSegments(url.pathname, basePath));
      } catch (e) {
        badPath = e;
      }
      // Credentials first, so a caller without them learns nothing about the routes, not even which exist.
      if (!match?.route.public) await authenticate(req);
      if (badPath) throw badPath;
      if (!match) throw new HttpError(404, "NOT_FOUND", "No such route. The routes are listed in docs/http-api.md.");
      const handler = match.route.methods[method as Method];
      if (!handler) {
        const allow = Object.keys(match.route.methods).join(", ");
        throw new HttpError(405, "METHOD_NOT_ALLOWED", `This route accepts ${allow}.`, { allow });
      }
      const reply = await handler({
        params: match.params,
        query: url.searchParams,
        runtime: getRuntime,
        body: () => readJsonBody(req),
        findFlow: (name) => findFlow(name, extraFlows, getRuntime()),
      });
      send(res, reply);
    } catch (e) {
      const reply = errorReply(e);
      if (reply.internal) {
        const fields = { method, path: req.url, error: String(e), ...(e instanceof Error && e.stack ? { stack: e.stack } : {}) };
        if (runtime) runtime.core.log("error", "HTTP API request failed", fields);
        else console.error("[firestep] HTTP API request failed", fields);
      }
      if (res.headersSent) res.destroy();
      else sendJson(res, reply.status, reply.body, reply.headers);
    }
  };
}

function pathSegments(pathname: string, basePath: string): string[] {
  let path = pathname;
  if (basePath) {
    if (path !== basePath && !path.startsWith(basePath + "/")) return ["\0outside-base-path"];
    path = path.slice(basePath.length);
  }
  const raw = path.replace(/\/+$/, "").split("/").slice(1);
  try {
    return raw.map((s) => decodeURIComponent(s));
  } catch {
    throw new HttpError(400, "INVALID_ARGUMENT", "The path is not valid percent-encoding.");
  }
}

function findFlow(name: string, extra: Map<string, Flow>, runtime: FlowRuntime): Flow {
  const own = extra.get(name);
  if (own) return own;
  try {
    return runtime.core.findFlow(name);
  } catch (e) {
    if (isFirestepError(e) && e.code === "FLOW_NOT_REGISTERED") {
      throw new FlowNotRegisteredError(name, [...new Set([...extra.keys(), ...registeredFlows().map((f) => f.name)])]);
    }
    throw e;
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if ("text" in reply) sendText(res, reply.status, reply.text, reply.contentType);
  else if ("json" in reply) sendJson(res, reply.status, reply.json);
  else sendJson(res, 204, undefined);
}
