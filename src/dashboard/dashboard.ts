/**
 * The dashboard as a framework-free `(req, res)` handler: the page and its static assets, nothing
 * else. It reads no flow and needs no credentials; the browser calls the HTTP API for every piece of
 * data, with the bearer token the user gives it, so the API's auth guards everything.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { InvalidArgumentError } from "../errors.js";
import { sendJson } from "../http/responses.js";
import { CLIENT_ASSETS } from "./assets.js";
import { contentSecurityPolicy, renderPage } from "./page.js";

export interface DashboardOptions {
  /** A prefix the dashboard lives under, as the handler sees request paths (e.g. "/dashboard"). Default: none. */
  basePath?: string;
  /**
   * Where the browser finds the HTTP API: an absolute URL, a path ("/api"), or a path relative to the
   * dashboard's address ("..", "../api"). Default "." (the API answers under the same prefix).
   * Another origin needs CORS on the API, which createHttpApi does not add; keep both on one origin.
   */
  apiBase?: string;
  /** The page title (default "Firestep"). */
  title?: string;
}

export type DashboardHandler = ((req: IncomingMessage, res: ServerResponse) => Promise<void>) & {
  /** True for the paths this handler answers, so one server or function can route between it and the API. */
  serves(req: { url?: string }): boolean;
};

interface Asset {
  body: Buffer;
  contentType: string;
  etag: string;
  headers?: Record<string, string>;
}

const COMMON_HEADERS = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-cache" };

export function createDashboard(options: DashboardOptions = {}): DashboardHandler {
  const basePath = (options.basePath ?? "").replace(/\/+$/, "");
  if (basePath && !basePath.startsWith("/")) throw new InvalidArgumentError(`basePath must start with "/"; got "${options.basePath}".`);
  const apiBase = options.apiBase ?? ".";
  if (typeof apiBase !== "string" || apiBase.trim() === "") throw new InvalidArgumentError('apiBase must be a URL or a path, e.g. "/api" or "..".');

  const page = asset(renderPage(apiBase, options.title ?? "Firestep"), "text/html; charset=utf-8", {
    "content-security-policy": contentSecurityPolicy(apiBase),
    "x-frame-options": "DENY",
  });
  const assets = new Map<string, Asset>(
    Object.entries(CLIENT_ASSETS).map(([name, a]) => [name, asset(a.body, a.contentType)]),
  );

  /** The asset a path names: "" for the page, "assets/<file>" for the rest; undefined when it is not ours. */
  const resolvePath = (url: string | undefined): Asset | undefined => {
    const pathname = (url ?? "/").split(/[?#]/, 1)[0]!;
    let rest: string;
    if (!basePath) rest = pathname;
    else if (pathname === basePath || pathname.startsWith(basePath + "/")) rest = pathname.slice(basePath.length);
    else return undefined;
    if (rest === "" || rest === "/" || rest === "/index.html") return page;
    const m = /^\/assets\/([a-z0-9-]+\.(?:js|css))$/.exec(rest);
    return m ? assets.get(m[1]!) : undefined;
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const found = resolvePath(req.url);
    if (!found) return sendJson(res, 404, apiError("NOT_FOUND", "Not found. The dashboard serves its page and /assets/* only."), COMMON_HEADERS);
    const method = (req.method ?? "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD") {
      return sendJson(res, 405, apiError("METHOD_NOT_ALLOWED", "The dashboard accepts GET and HEAD."), { ...COMMON_HEADERS, allow: "GET, HEAD" });
    }
    const headers = { ...COMMON_HEADERS, ...found.headers, etag: found.etag };
    if (req.headers["if-none-match"] === found.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, "content-type": found.contentType, "content-length": String(found.body.length) });
    res.end(method === "HEAD" ? undefined : found.body);
  };
  return Object.assign(handler, { serves: (req: { url?: string }) => resolvePath(req.url) !== undefined });
}

function asset(text: string, contentType: string, headers?: Record<string, string>): Asset {
  const body = Buffer.from(text, "utf8");
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { body, contentType, etag, ...(headers ? { headers } : {}) };
}

/** Errors in the HTTP API's shape: a client of both (or a proxy in front) sees one format. */
function apiError(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
