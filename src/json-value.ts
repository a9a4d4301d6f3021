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

/**
 * Checks `value` and returns the copy a replay would see, in one walk. Values that enter stored data from
 * outside (inputs, payloads, step results) go through here, so the store never holds the caller's object.
 */
export function storableCopy<T>(step: string, value: T, maxBytes: number, subject?: string): T {
  return storableCopyExact(step, value, maxBytes, subject).copy;
}

/**
 * `storableCopy`, also telling whether `value` itself reads back the same as the copy (JSON dropped no
 * `undefined` property and turned no -0 into 0), so it may be handed on in place of a second copy, and the
 * size of its JSON text in bytes.
 */
export function storableCopyExact<T>(step: string, value: T, maxBytes: number, subject?: string): { copy: T; exact: boolean; bytes: number } {
  if (value === undefined) return { copy: value, exact: true, bytes: 0 };
  const walk = new StorableWalk(step, subject);
  const copy = walk.node(value);
  if (walk.bytes > maxBytes) throw new ValueTooLargeError(step, walk.bytes, maxBytes, subject);
  return { copy: copy as T, exact: walk.exact, bytes: walk.bytes };
}

/** Below this depth cycles are not looked for: a cycle makes the walk deeper than any real value needs. */
const CYCLE_CHECK_DEPTH = 32;

/**
 * Validates a value, sums the UTF-8 size of its JSON text and copies it. The path to each
 * node is kept as a stack of keys and formatted only for an error message.
 */
class StorableWalk {
  bytes = 0;
  /** False once the copy differs from the value: an `undefined` property dropped, or -0 made 0. */
  exact = true;
  private readonly keys: Array<string | number> = [];
  private readonly ancestors: object[] = [];

  constructor(
    private readonly step: string,
    private readonly subject?: string,
  ) {}

  node(v: unknown): unknown {
    switch (typeof v) {
      case "string":
        this.bytes += stringBytes(v);
        return v;
      case "boolean":
        this.bytes += v ? 4 : 5;
        return v;
      case "number":
        if (!Number.isFinite(v)) this.fail(`${v} (JSON has no NaN or Infinity)`);
        this.bytes += numberLength(v);
        if (v === 0) {
          if (Object.is(v, -0)) this.exact = false;
          return 0;
        }
        return v;
      case "bigint":
        return this.fail("a BigInt");
      case "function":
        return this.fail("a function");
      case "symbol":
        return this.fail("a symbol");
      case "undefined":
        return this.fail("undefined inside an array (JSON would turn it into null)");
    }
    if (v === null) {
      this.bytes += 4;
      return null;
    }
    const obj = v as object;
    const ancestors = this.ancestors;
    if (ancestors.length >= CYCLE_CHECK_DEPTH && ancestors.includes(obj)) this.failCycle(obj);
    ancestors.push(obj);
    const out = Array.isArray(obj) ? this.array(obj) : this.object(obj);
    ancestors.pop();
    return out;
  }

  private array(arr: unknown[]): unknown {
    const out = new Array<unknown>(arr.length);
    this.bytes += arr.length > 0 ? arr.length + 1 : 2; // brackets and commas
    const keys = this.keys;
    for (let i = 0; i < arr.length; i++) {
      keys.push(i);
      if (!(i in arr)) this.fail("a hole in an array");
      out[i] = this.node(arr[i]);
      keys.pop();
    }
    return out;
  }

  private object(obj: object): unknown {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj.constructor as { name?: string } | undefined)?.name ?? "a class";
      this.fail(`an instance of ${name} (JSON would not bring it back as one)`);
    }
    if (Object.getOwnPropertySymbols(obj).length) this.fail("symbol-keyed properties");
    const out: Record<string, unknown> = {};
    const keys = this.keys;
    let fields = 0;
    this.bytes += 2;
    for (const k in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
      const child = (obj as Record<string, unknown>)[k];
      if (child === undefined) {
        this.exact = false;
        continue;
      }
      keys.push(k);
      this.bytes += stringBytes(k) + 1;
      const c = this.node(child);
      keys.pop();
      if (k === "__proto__") Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
      else out[k] = c;
      fields++;
    }
    if (fields > 1) this.bytes += fields - 1;
    return out;
  }

  private fail(what: string): never {
    throw new UnstorableValueError(this.step, formatPath(this.keys), what, this.subject);
  }

  /** Reports the cycle at its first repeat: the path from the root to where `obj` appears again. */
  private failCycle(obj: object): never {
    const first = this.ancestors.indexOf(obj);
    const again = this.ancestors.indexOf(obj, first + 1);
    const repeatAt = again === -1 ? this.ancestors.length : again;
    throw new UnstorableValueError(this.step, formatPath(this.keys.slice(0, repeatAt)), "a cycle (the value refers to itself)", this.subject);
  }
}

function formatPath(keys: Array<string | number>): string {
  let path = "$";
  for (const k of keys) path += typeof k === "number" ? `[${k}]` : `.${k}`;
  return path;
}

/** `String(n).length` without building the string for the common case, an integer. */
function numberLength(n: number): number {
  if (Number.isInteger(n) && n > -1e15 && n < 1e15) {
    let len = n < 0 ? 2 : 1;
    for (let a = Math.abs(n); a >= 10; a = Math.floor(a / 10)) len++;
    return n === 0 ? 1 : len;
  }
  return String(n).length;
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
 * Whether `a` (JSON data) and `b` write the same JSON. Keys holding `undefined` count as absent, as JSON
 * drops them. Errs only towards "different": a value JSON would transform (a Date, a class instance, a
 * non-finite number) or nests very deep is reported as different.
 */
export function jsonEqual(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return typeof a !== "number" || Number.isFinite(a);
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || depth > MAX_DEPTH) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const proto = Object.getPrototypeOf(b);
  if ((proto !== Object.prototype && proto !== null) || typeof (b as { toJSON?: unknown }).toJSON === "function") return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let defined = 0;
  for (const k of Object.keys(rb)) {
    const v = rb[k];
    if (v === undefined) {
      if (ra[k] !== undefined) return false;
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(ra, k) || !jsonEqual(ra[k], v, depth + 1)) return false;
    defined++;
  }
  for (const k of Object.keys(ra)) if (ra[k] !== undefined) defined--;
  return defined === 0;
}

/**
 * Freezes `value` and everything in it, so data shared between readers cannot be changed by one of them.
 * A frozen object is taken to be frozen throughout (this module froze it), so data that shares frozen parts
 * with earlier data costs only its new parts. Written without `Object.keys`, as a memory store freezes on
 * every step.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
  } else {
    for (const k in value) {
      if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
      const child = (value as Record<string, unknown>)[k];
      if (typeof child === "object" && child !== null) deepFreeze(child);
    }
  }
  return value;
}

/**
 * A deep copy of stored data (records, journal entries, events) that keeps it exactly as it is, properties
 * holding `undefined` included. Much cheaper than structuredClone for the small objects stores hand out.
 */
export function cloneData<T>(value: T): T {
  return cloneNode(value, 0, false) as T;
}

/** `cloneData` and `deepFreeze` in one walk: a copy to share between readers (a memory store's journal). */
export function frozenCopy<T>(value: T): T {
  return cloneNode(value, 0, true) as T;
}

function cloneNode(v: unknown, depth: number, freeze: boolean): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (depth > MAX_DEPTH) return structuredCopy(v, freeze);
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = cloneNode(v[i], depth + 1, freeze);
    return freeze ? Object.freeze(out) : out;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredCopy(v, freeze);
  // A spread copies the primitive fields (V8's fastest object copy); only nested objects need more.
  const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  for (const k in out) {
    const child = out[k];
    if (typeof child !== "object" || child === null) continue;
    const c = cloneNode(child, depth + 1, freeze);
    if (k === "__proto__") Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
    else out[k] = c;
  }
  return freeze ? Object.freeze(out) : out;
}

function structuredCopy(v: unknown, freeze: boolean): unknown {
  const c = structuredClone(v);
  return freeze ? deepFreeze(c) : c;
}
