/**
 * Checks that a value survives a JSON round-trip unchanged, so a memoized step replays exactly what it
 * returned. `undefined` at the top level is kept by the stores (as an absent value); `undefined` object
 * properties are dropped, as JSON and Firestore do. Everything else that JSON would mangle is refused.
 */
import { UnstorableValueError, ValueTooLargeError } from "./errors.js";

export function assertStorable(step: string, value: unknown, maxBytes: number): void {
  if (value === undefined) return;
  check(step, value, "$", new Set());
  const bytes = Buffer.byteLength(JSON.stringify(value), "utf8");
  if (bytes > maxBytes) throw new ValueTooLargeError(step, bytes, maxBytes);
}

function check(step: string, v: unknown, path: string, seen: Set<object>): void {
  switch (typeof v) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(v)) throw new UnstorableValueError(step, path, `${v} (JSON has no NaN or Infinity)`);
      return;
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
  if (v === null) return;
  const obj = v as object;
  if (seen.has(obj)) throw new UnstorableValueError(step, path, "a cycle (the value refers to itself)");
  if (Array.isArray(obj)) {
    seen.add(obj);
    for (let i = 0; i < obj.length; i++) {
      if (!(i in obj)) throw new UnstorableValueError(step, `${path}[${i}]`, "a hole in an array");
      check(step, obj[i], `${path}[${i}]`, seen);
    }
    seen.delete(obj);
    return;
  }
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    const name = (obj.constructor as { name?: string } | undefined)?.name ?? "a class";
    throw new UnstorableValueError(step, path, `an instance of ${name} (JSON would not bring it back as one)`);
  }
  if (Object.getOwnPropertySymbols(obj).length) throw new UnstorableValueError(step, path, "symbol-keyed properties");
  seen.add(obj);
  for (const [k, child] of Object.entries(obj)) {
    if (child === undefined) continue;
    check(step, child, `${path}.${k}`, seen);
  }
  seen.delete(obj);
}

/** A deep copy through JSON, so the value a flow sees first is the value it sees on replay. */
export function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
