/**
 * The request's JSON body, wherever the host left it: Cloud Functions' `onRequest` has already read the
 * stream (raw bytes in `rawBody`, parsed `body`); a plain node:http server has not, so we read it here,
 * refusing more than MAX_BODY_BYTES.
 */
import type { IncomingMessage } from "node:http";
import { InvalidArgumentError } from "../errors.js";
import { HttpError } from "./responses.js";

export const MAX_BODY_BYTES = 1024 * 1024;

export type ApiRequest = IncomingMessage & { body?: unknown; rawBody?: Buffer };

/** The parsed body, or undefined when there is none. */
export async function readJsonBody(req: ApiRequest, limit = MAX_BODY_BYTES): Promise<unknown> {
  // The raw bytes win over a parsed body: a body parser picked by content type may have mangled the JSON
  // (curl -d sends form encoding), and the API takes JSON whatever the content type says.
  if (Buffer.isBuffer(req.rawBody)) return parse(checkSize(req.rawBody, limit));
  if (req.body !== undefined) {
    if (Buffer.isBuffer(req.body)) return parse(checkSize(req.body, limit));
    if (typeof req.body === "string") return parse(checkSize(Buffer.from(req.body, "utf8"), limit));
    return req.body;
  }
  return parse(await readStream(req, limit));
}

function readStream(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        // Keep draining (and dropping) the rest so the client can read the 413.
        failed = true;
        chunks.length = 0;
        reject(tooLarge(limit));
      } else chunks.push(chunk);
    });
    req.on("end", () => !failed && resolve(Buffer.concat(chunks)));
    req.on("error", (e) => !failed && reject(e));
  });
}

function checkSize(bytes: Buffer, limit: number): Buffer {
  if (bytes.length > limit) throw tooLarge(limit);
  return bytes;
}

function parse(bytes: Buffer): unknown {
  const text = bytes.toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidArgumentError("The request body is not valid JSON.");
  }
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, "PAYLOAD_TOO_LARGE", `The request body is over ${limit} bytes. Store large data elsewhere and send a reference to it.`);
}

/**
 * The body as an object of named fields ({} when there is no body). A field the route does not take is
 * refused, as the app-level calls refuse an unknown option: a misspelt `delaySeconds` must not start a
 * flow at once.
 */
export function objectBody(body: unknown, fields: readonly string[]): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== "object" || Array.isArray(body)) throw new InvalidArgumentError("The request body must be a JSON object.");
  const unknown = Object.keys(body).filter((k) => !fields.includes(k));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `The request body has ${unknown.length === 1 ? "a field" : "fields"} this route does not take: ${unknown.map((k) => JSON.stringify(k)).join(", ")}. ` +
        (fields.length ? `It takes ${fields.map((k) => JSON.stringify(k)).join(", ")}.` : "It takes no body."),
    );
  }
  return body as Record<string, unknown>;
}
