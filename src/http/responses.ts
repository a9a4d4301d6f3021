/**
 * What the HTTP API sends back: JSON bodies, the error format `{ error: { code, message } }`, the status
 * for each error code, and the scrubbing that keeps stack traces out of every response.
 */
import type { ServerResponse } from "node:http";
import { isFirestepError, type ErrorCode } from "../errors.js";

/** A failure of the HTTP layer itself (no route, wrong method, body too large): its own status and code. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/**
 * The codes a caller can act on, with their status; a store or queue failure is a 503 (below), and every
 * other code (a corrupt record, a bug) is a generic 500 INTERNAL, logged. docs/errors.md and docs/http-api.md list the same
 * (test/http/responses.test.ts checks them against this table).
 */
export const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  INVALID_INPUT: 400,
  INVALID_PAYLOAD: 400,
  INVALID_ARGUMENT: 400,
  // An input or payload JSON would not bring back unchanged: the caller's to fix, like a bad input.
  UNSTORABLE_VALUE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  FLOW_NOT_FOUND: 404,
  FLOW_NOT_REGISTERED: 404,
  FLOW_ALREADY_EXISTS: 409,
  INVALID_FLOW_STATE: 409,
  NOT_BLOCKED_ON_INTERRUPT: 409,
  CONFLICT: 409,
  // The caller sent more than the store keeps for one value: their fault, and they can act on it.
  VALUE_TOO_LARGE: 413,
  // The flow's query code is at fault, not the request; its message (no data, no stack) says what to fix there.
  INVALID_QUERY_RESULT: 500,
};

/**
 * Failures a caller should retry: sent as 503 with their code, so a client can tell "try again" from a bug,
 * but with a fixed message (the real one names files, queues and backends) and logged in full.
 */
export const RETRY_MESSAGE_BY_CODE: Partial<Record<ErrorCode, string>> = {
  STORE_UNAVAILABLE: "The flow store is unavailable. Retry the call; the server logged the details.",
  QUEUE_UNAVAILABLE: "The change is stored but its wake-up could not be enqueued. Retry the call; the server logged the details.",
};

export interface ErrorReply {
  status: number;
  body: { error: { code: string; message: string } };
  headers: Record<string, string>;
  /** True when the real error must be logged: the client only sees a generic message. */
  internal: boolean;
}

/** The reply for an error. Only known, caller-facing codes keep their message; the rest become a generic 500. */
export function errorReply(e: unknown): ErrorReply {
  if (e instanceof HttpError) return { status: e.status, body: { error: { code: e.code, message: e.message } }, headers: e.headers, internal: false };
  if (isFirestepError(e)) {
    const status = STATUS_BY_CODE[e.code];
    if (status !== undefined) {
      const headers: Record<string, string> = status === 401 ? { "www-authenticate": 'Bearer realm="firestep"' } : {};
      return { status, body: { error: { code: e.code, message: e.message } }, headers, internal: false };
    }
    const retry = RETRY_MESSAGE_BY_CODE[e.code];
    if (retry !== undefined) return { status: 503, body: { error: { code: e.code, message: retry } }, headers: { "retry-after": "1" }, internal: true };
  }
  return {
    status: 500,
    body: { error: { code: "INTERNAL", message: "Internal error. The server logged the details." } },
    headers: {},
    internal: true,
  };
}

const COMMON_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" };

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (status === 204) {
    res.writeHead(204, { ...COMMON_HEADERS, ...headers }).end();
    return;
  }
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      ...COMMON_HEADERS,
      ...headers,
      "content-type": "application/json; charset=utf-8",
      "content-length": String(Buffer.byteLength(text)),
    })
    .end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  res
    .writeHead(status, { ...COMMON_HEADERS, "content-type": contentType, "content-length": String(Buffer.byteLength(text)) })
    .end(text);
}

/**
 * A copy of a stored error without any `stack`, however deep (a step failure keeps its cause, stack and
 * all, in `details.cause`). Only error values go through this: flow inputs and outputs are left alone.
 */
export function withoutStacks<T>(error: T): T {
  if (Array.isArray(error)) return error.map(withoutStacks) as T;
  if (typeof error !== "object" || error === null) return error;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(error)) if (k !== "stack") out[k] = withoutStacks(v);
  return out as T;
}
