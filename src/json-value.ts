/**
 * Checks that a value survives a JSON round-trip unchanged, so a memoized step replays exactly what it
 * returned. `undefined` at the top level is kept by the stores (as an absent value); `undefined` object
 * properties are dropped, as JSON and Firestore do. Everything else that JSON would mangle is refused.
 *
 * These run on every step, so they walk the value once and never build its JSON text: the check measures
 * the JSON size as it goes, and the copy clones plain data directly (falling back to a JSON round trip for
 * anything JSON would transform).
 */
import { UnstorableValueError, ValueTooLargeError } from "./errors.js";

export function assertStorable(step: string, value: unknown, maxBytes: number): void {
  if (value === undefined) return;
  const bytes = check(step, value, "$", new Set());
  if (bytes > maxBytes) throw new ValueTooLargeError(step, bytes, maxBytes);
}

/** Validates `v` and returns the UTF-8 size of `JSON.stringify(v)`. */
function check(step: string, v: unknown, path: string, seen: Set<object>): number {
  switch (typeof v) {
    case "string":
      return stringBytes(v);
    case "boolean":
      return v ? 4 : 5;
    case "number":
      if (!Number.isFinite(v)) throw new UnstorableValueError(step, path, `${v} (JSON has no NaN or Infinity)`);
      return String(v).length;
    case "bigint":
      throw new UnstorableValueError(step, path, "a BigInt");
    case "function":
      throw new UnstorableValueError(step, path, "a function");
    case "symbol":
      throw new UnstorableValueError(step, path, "a symbol");
    case "undefined":
      throw new UnstorableValueError(step, path, "undefined inside an array (JSON would turn it into null)");
    case "object":
      break;
  }
  if (v === null) return 4;
  const obj = v as object;
  if (seen.has(obj)) throw new UnstorableValueError(step, path, "a cycle (the value refers to itself)");
  if (Array.isArray(obj)) {
    seen.add(obj);
    let bytes = obj.length > 0 ? obj.length + 1 : 2; // brackets and commas
    for (let i = 0; i < obj.length; i++) {
      if (!(i in obj)) throw new UnstorableValueError(step, `${path}[${i}]`, "a hole in an array");
      bytes += check(step, obj[i], `${path}[${i}]`, seen);
    }
    seen.delete(obj);
    return bytes;
  }
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    const name = (obj.constructor as { name?: string } | undefined)?.name ?? "a class";
    throw new UnstorableValueError(step, path, `an instance of ${name} (JSON would not bring it back as one)`);
  }
  if (Object.getOwnPropertySymbols(obj).length) throw new UnstorableValueError(step, path, "symbol-keyed properties");
  seen.add(obj);
  let bytes = 2;
  let fields = 0;
  for (const k of Object.keys(obj)) {
    const child = (obj as Record<string, unknown>)[k];
    if (child === undefined) continue;
    bytes += stringBytes(k) + 1 + check(step, child, `${path}.${k}`, seen);
    fields++;
  }
  seen.delete(obj);
  return fields > 1 ? bytes + fields - 1 : bytes;
}

/** Characters JSON escapes, and lone-surrogate candidates (which JSON.stringify escapes as \u and four hex digits). */
const NEEDS_CARE = /[\u0000-\u001f"\\\ud800-\udfff]/;

function stringBytes(s: string): number {
  return NEEDS_CARE.test(s) ? Buffer.byteLength(JSON.stringify(s), "utf8") : Buffer.byteLength(s, "utf8") + 2;
}

/** A deep copy through JSON, so the value a flow sees first is the value it sees on replay. */
export function jsonCopy<T>(value: T): T {
  if (value === undefined) return value;
  const copied = plainCopy(value, 0);
  return copied === NOT_PLAIN ? (JSON.parse(JSON.stringify(value)) as T) : (copied as T);
}

const NOT_PLAIN = Symbol("not plain JSON data");
/** Deeper than this, the copy leaves it to JSON (which also reports cycles). */
const MAX_DEPTH = 512;

/** What JSON.parse(JSON.stringify(v)) gives for plain data, or NOT_PLAIN when JSON would transform `v`. */
function plainCopy(v: unknown, depth: number): unknown {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return Number.isFinite(v) ? (v === 0 ? 0 : v) : NOT_PLAIN;
    case "object":
      break;
    default:
      return NOT_PLAIN;
  }
  if (v === null) return null;
  if (depth > MAX_DEPTH) return NOT_PLAIN;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const c = v[i] === undefined ? NOT_PLAIN : plainCopy(v[i], depth + 1);
      if (c === NOT_PLAIN) return NOT_PLAIN;
      out[i] = c;
    }
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === "function") return NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const child = (v as Record<string, unknown>)[k];
    if (child === undefined) continue;
    const c = plainCopy(child, depth + 1);
    if (c === NOT_PLAIN) return NOT_PLAIN;
    if (k === "__proto__") Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
    else out[k] = c;
  }
  return out;
}

/**
 * A deep copy of stored data (records, journal entries, events) that keeps it exactly as it is, properties
 * holding `undefined` included. Much cheaper than structuredClone for the small objects stores hand out.
 */
export function cloneData<T>(value: T): T {
  return cloneNode(value, 0) as T;
}

function cloneNode(v: unknown, depth: number): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (depth > MAX_DEPTH) return structuredClone(v);
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = cloneNode(v[i], depth + 1);
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  // A spread copies the primitive fields (V8's fastest object copy); only nested objects need more.
  const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  for (const k in out) {
    const child = out[k];
    if (typeof child !== "object" || child === null) continue;
    const c = cloneNode(child, depth + 1);
    if (k === "__proto__") Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
    else out[k] = c;
  }
  return out;
}
