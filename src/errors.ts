/**
 * The one errors module. Every error Firestep throws at a user carries a stable `code` and a message
 * that says what to fix. Checks use a `Symbol.for` marker so they survive duplicate package copies.
 */
import { z } from "zod";

const FIRESTEP_ERROR = Symbol.for("firestep.error");

/** Every code a Firestep error may carry; docs/errors.md has a row for each (a test checks it). */
export const ERROR_CODES = [
  "INVALID_INPUT",
  "INVALID_OUTPUT",
  "INVALID_QUERY_RESULT",
  "INVALID_PAYLOAD",
  "INVALID_ARGUMENT",
  "INVALID_STEP_NAME",
  "UNSTORABLE_VALUE",
  "VALUE_TOO_LARGE",
  "FLOW_NOT_FOUND",
  "FLOW_NOT_REGISTERED",
  "FLOW_ALREADY_EXISTS",
  "INVALID_FLOW_STATE",
  "NOT_BLOCKED_ON_INTERRUPT",
  "CONFLICT",
  "FENCED",
  "NON_RETRIABLE",
  "STEP_FAILED",
  "POLL_TIMEOUT",
  "INTERRUPT_TIMEOUT",
  "SIGNAL_TIMEOUT",
  "STEP_TIMEOUT",
  "DEADLINE_EXCEEDED",
  "INTERRUPT_SWALLOWED",
  "NON_DETERMINISM",
  "FLOW_CANCELLED",
  "CORRUPT_RECORD",
  "STORE_UNAVAILABLE",
  "QUEUE_UNAVAILABLE",
  "UNAUTHENTICATED",
  "PERMISSION_DENIED",
  "NOT_CONFIGURED",
  "INTERNAL",
  "USER_ERROR",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Base class of every Firestep error; `C` is its code, a literal type on each subclass so a check on `code` narrows. */
export class FirestepError<C extends ErrorCode = ErrorCode> extends Error {
  readonly [FIRESTEP_ERROR] = true;
  readonly code: C;
  /** Extra facts that help a caller act on the error (never another flow's data). */
  readonly details?: Record<string, unknown>;

  constructor(code: C, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options?.details) this.details = options.details;
  }
}

/** Whether `e` is a Firestep error (from any copy of the package), and when `code` is given, one with that code. */
export function isFirestepError<C extends ErrorCode = ErrorCode>(e: unknown, code?: C): e is FirestepError<C> {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[FIRESTEP_ERROR] === true && (code === undefined || (e as FirestepError).code === code);
}

export class InvalidInputError extends FirestepError<"INVALID_INPUT"> {
  constructor(flowName: string, issues: string) {
    super("INVALID_INPUT", `Input for flow "${flowName}" does not match its input schema: ${issues}. Fix the input and call again.`);
  }
}

export class InvalidOutputError extends FirestepError<"INVALID_OUTPUT"> {
  constructor(flowName: string, issues: string) {
    super("INVALID_OUTPUT", `Flow "${flowName}" returned a value that does not match its output schema: ${issues}. Fix the flow's return value or its output schema.`);
  }
}

export class InvalidPayloadError extends FirestepError<"INVALID_PAYLOAD"> {
  constructor(what: string, issues: string) {
    super("INVALID_PAYLOAD", `${what}: the payload does not match the schema: ${issues}. Nothing was changed; send a payload that matches.`);
  }
}

export class InvalidArgumentError extends FirestepError<"INVALID_ARGUMENT"> {
  constructor(message: string) {
    super("INVALID_ARGUMENT", message);
  }
}

export class InvalidStepNameError extends FirestepError<"INVALID_STEP_NAME"> {
  constructor(message: string) {
    super("INVALID_STEP_NAME", message);
  }
}

/**
 * `subject` names a value that is not a step's result, the way a caller would ("The input of flow
 * \"x\""); `step` stays the key it is stored under.
 */
export class UnstorableValueError extends FirestepError<"UNSTORABLE_VALUE"> {
  constructor(step: string, path: string, why: string, subject?: string) {
    super(
      "UNSTORABLE_VALUE",
      `${subject ?? `Step "${step}" returned a value that`} cannot be stored faithfully: ${why} at ${path}. ` +
        `${subject ? "Use" : "Return"} plain JSON (objects, arrays, strings, finite numbers, booleans, null, undefined); ` +
        `convert it first (e.g. date.toISOString(), String(bigint), Object.fromEntries(map)).`,
      { details: { step, path, why } },
    );
  }
}

/** A query's handler returned what JSON cannot carry, so it cannot be answered over HTTP or printed as JSON. */
export class InvalidQueryResultError extends FirestepError<"INVALID_QUERY_RESULT"> {
  constructor(flowId: string, query: string, path: string, why: string) {
    super(
      "INVALID_QUERY_RESULT",
      `Query "${query}" of flow "${flowId}" returned a value JSON cannot carry: ${why} at ${path}. ` +
        `Fix the query's handler in the flow's definition to return plain JSON (e.g. date.toISOString(), String(bigint), Object.fromEntries(map)).`,
      { details: { flowId, query, path } },
    );
  }
}

export class ValueTooLargeError extends FirestepError<"VALUE_TOO_LARGE"> {
  constructor(step: string, bytes: number, limit: number, subject?: string) {
    super(
      "VALUE_TOO_LARGE",
      subject
        ? `${subject} is ${bytes} bytes of JSON, over the store's limit of ${limit} bytes for one value. ` +
            `Store large data elsewhere (e.g. Cloud Storage) and pass a reference to it.`
        : `Step "${step}" produced ${bytes} bytes of JSON, over the store's limit of ${limit} bytes for one step. ` +
            `Store large data elsewhere (e.g. Cloud Storage) and return a reference to it.`,
      { details: { step, bytes, limit } },
    );
  }
}

export class FlowNotFoundError extends FirestepError<"FLOW_NOT_FOUND"> {
  constructor(flowId: string, flowName?: string) {
    super("FLOW_NOT_FOUND", `No flow with id "${flowId}"${flowName ? ` of flow "${flowName}"` : ""} exists. Check the id (it is the operation's "name").`, {
      details: { flowId },
    });
  }
}

export class FlowNotRegisteredError extends FirestepError<"FLOW_NOT_REGISTERED"> {
  constructor(flowName: string, known: string[]) {
    super(
      "FLOW_NOT_REGISTERED",
      `No flow named "${flowName}" is defined in this process. Known flows: ${known.length ? known.join(", ") : "(none)"}. ` +
        `Import the module that defines it before running the runtime.`,
    );
  }
}

export class FlowAlreadyExistsError extends FirestepError<"FLOW_ALREADY_EXISTS"> {
  constructor(flowId: string) {
    super("FLOW_ALREADY_EXISTS", `A flow with id "${flowId}" already exists with a different flow name or input. Choose another flowId, or send the same input to get the existing operation.`, {
      details: { flowId },
    });
  }
}

export class InvalidFlowStateError extends FirestepError<"INVALID_FLOW_STATE"> {
  constructor(flowId: string, action: string, status: string, hint: string) {
    super("INVALID_FLOW_STATE", `Cannot ${action} flow "${flowId}": it is ${status}. ${hint}`, { details: { flowId, status } });
  }
}

export class NotBlockedOnInterruptError extends FirestepError<"NOT_BLOCKED_ON_INTERRUPT"> {
  constructor(flowId: string, detail: string) {
    super("NOT_BLOCKED_ON_INTERRUPT", `Cannot resume flow "${flowId}": ${detail}. Nothing was changed; check getFlowState(...).blockedOnStep.`, {
      details: { flowId },
    });
  }
}

/** A conditional write lost: the stored record changed since it was read. Internal; callers re-read. */
export class ConflictError extends FirestepError<"CONFLICT"> {
  constructor(flowId: string, detail = "the record changed since it was read") {
    super("CONFLICT", `Write to flow "${flowId}" was rejected: ${detail}. Re-read the flow and try again.`, { details: { flowId } });
  }
}

/** A runner that lost its lease tried to write. */
export class FencedError extends FirestepError<"FENCED"> {
  constructor(flowId: string, epoch: number, current: number) {
    super("FENCED", `Runner of flow "${flowId}" with epoch ${epoch} lost its lease (the flow is at epoch ${current}); its writes are rejected.`, {
      details: { flowId, epoch, current },
    });
  }
}

/** Throw from a step to fail it at once, skipping its retry policy. */
export class NonRetriableError extends FirestepError<"NON_RETRIABLE"> {
  constructor(message: string, options?: { cause?: unknown }) {
    super("NON_RETRIABLE", message, options);
  }
}

/** A step failed for good (after its retries); thrown into the flow where the step was awaited. */
export class StepFailedError extends FirestepError<"STEP_FAILED"> {
  readonly step: string;
  readonly attempts: number;
  constructor(step: string, attempts: number, cause: SerializedError) {
    super("STEP_FAILED", `Step "${step}" failed after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${cause.message}`, {
      details: { step, attempts, cause },
    });
    this.step = step;
    this.attempts = attempts;
  }
}

export class PollTimeoutError extends FirestepError<"POLL_TIMEOUT"> {
  constructor(step: string, seconds: number) {
    super("POLL_TIMEOUT", `Poll "${step}" did not see true within ${seconds} s.`, { details: { step, seconds } });
  }
}

export class InterruptTimeoutError extends FirestepError<"INTERRUPT_TIMEOUT"> {
  constructor(step: string, seconds: number) {
    super("INTERRUPT_TIMEOUT", `Interrupt "${step}" was not answered within ${seconds} s.`, { details: { step, seconds } });
  }
}

export class SignalTimeoutError extends FirestepError<"SIGNAL_TIMEOUT"> {
  constructor(name: string, seconds: number) {
    super("SIGNAL_TIMEOUT", `No signal "${name}" arrived within ${seconds} s.`, { details: { signal: name, seconds } });
  }
}

export class StepTimeoutError extends FirestepError<"STEP_TIMEOUT"> {
  constructor(step: string, seconds: number) {
    super("STEP_TIMEOUT", `Step "${step}" did not finish within ${seconds} s (its timeoutSeconds).`, { details: { step, seconds } });
  }
}

export class DeadlineExceededError extends FirestepError<"DEADLINE_EXCEEDED"> {
  constructor(flowId: string, deadline: number) {
    super("DEADLINE_EXCEEDED", `Flow "${flowId}" passed its deadline (${new Date(deadline).toISOString()}) before finishing.`, { details: { flowId } });
  }
}

export class InterruptSwallowedError extends FirestepError<"INTERRUPT_SWALLOWED"> {
  constructor(step: string) {
    super(
      "INTERRUPT_SWALLOWED",
      `A step called inside "${step}" had to wait (an interrupt, sleep, poll, waitFor or a retry), but "${step}" caught its InterruptError and returned. ` +
        `Rethrow it (if (e instanceof InterruptError) throw e;), or call steps that wait from the flow's own function, where they wait without throwing.`,
      { details: { step } },
    );
  }
}

export class NonDeterminismError extends FirestepError<"NON_DETERMINISM"> {
  constructor(flowId: string, callIndex: number, expected: string, found: string) {
    super(
      "NON_DETERMINISM",
      `Flow "${flowId}" replayed differently from its journal at step call #${callIndex}: the journal has ${expected}, the code now calls ${found}. ` +
        `Step order, names and kinds must not change for flows already running: deploy the change under a new flow version, or branch with patched().`,
      { details: { flowId, callIndex, expected, found } },
    );
  }
}

export class FlowCancelledError extends FirestepError<"FLOW_CANCELLED"> {
  constructor(flowId: string, reason?: string) {
    super("FLOW_CANCELLED", `Flow "${flowId}" was cancelled${reason ? `: ${reason}` : ""}.`, { details: { flowId } });
  }
}

export class CorruptRecordError extends FirestepError<"CORRUPT_RECORD"> {
  constructor(flowId: string, where: string, issues: string) {
    super(
      "CORRUPT_RECORD",
      `Stored ${where} of flow "${flowId}" is corrupt or from an incompatible version: ${issues}. Inspect or delete it; Firestep will not guess.`,
      { details: { flowId, where } },
    );
  }
}

export class StoreUnavailableError extends FirestepError<"STORE_UNAVAILABLE"> {
  constructor(message: string, options?: { cause?: unknown }) {
    super("STORE_UNAVAILABLE", message, options);
  }
}

/** Enqueueing a wake-up failed for good; the caller's delivery should fail so it is retried. */
export class QueueUnavailableError extends FirestepError<"QUEUE_UNAVAILABLE"> {
  constructor(message: string, options?: { cause?: unknown }) {
    super("QUEUE_UNAVAILABLE", message, options);
  }
}

/** A request or task came without valid credentials. */
export class UnauthenticatedError extends FirestepError<"UNAUTHENTICATED"> {
  constructor(message: string) {
    super("UNAUTHENTICATED", message);
  }
}

/** The credentials are valid but do not allow this call. */
export class PermissionDeniedError extends FirestepError<"PERMISSION_DENIED"> {
  constructor(message: string) {
    super("PERMISSION_DENIED", message);
  }
}

export class NotConfiguredError extends FirestepError<"NOT_CONFIGURED"> {
  constructor(message: string) {
    super("NOT_CONFIGURED", message);
  }
}

/** How an error is kept in the store and sent over HTTP: no stack for clients, the class rebuilt on read. */
export const SerializedErrorSchema = z.object({
  name: z.string(),
  code: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type SerializedError = z.infer<typeof SerializedErrorSchema>;

export function serializeError(e: unknown): SerializedError {
  if (isFirestepError(e)) {
    return {
      name: e.name,
      code: e.code,
      message: e.message,
      ...(e.stack ? { stack: e.stack } : {}),
      ...(e.details ? { details: jsonSafeDetails(e.details) } : {}),
    };
  }
  if (e instanceof Error) {
    const code = typeof (e as { code?: unknown }).code === "string" ? String((e as { code?: unknown }).code) : "USER_ERROR";
    return { name: e.name || "Error", code, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
  }
  return { name: "Error", code: "USER_ERROR", message: typeof e === "string" ? e : safeString(e) };
}

/** The error without any stack (its own or a cause's), as it may be shown to an HTTP client or in an operation. */
export function publicError(e: SerializedError): Omit<SerializedError, "stack"> {
  const { stack: _stack, ...rest } = e;
  return rest.details ? { ...rest, details: withoutStacks(rest.details) as Record<string, unknown> } : rest;
}

function withoutStacks(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutStacks);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== "stack").map(([k, x]) => [k, withoutStacks(x)]));
}

const REBUILD: Record<string, (s: SerializedError) => Error> = {
  NonRetriableError: (s) => new NonRetriableError(s.message),
  FlowCancelledError: (s) => Object.assign(new FirestepError("FLOW_CANCELLED", s.message), { name: "FlowCancelledError" }),
};

/** Rebuilds an Error from its stored form, keeping its name, code and message. */
export function deserializeError(s: SerializedError): Error {
  const rebuilt =
    REBUILD[s.name]?.(s) ??
    (isKnownCode(s.code) ? Object.assign(new FirestepError(s.code, s.message, s.details ? { details: s.details } : undefined), { name: s.name }) : undefined) ??
    Object.assign(new Error(s.message), { name: s.name, code: s.code });
  if (s.stack) rebuilt.stack = s.stack;
  return rebuilt;
}

/** USER_ERROR is what a plain Error thrown by user code carries: it is rebuilt as a plain Error, not a FirestepError. */
const KNOWN_CODES = new Set<string>(ERROR_CODES.filter((c) => c !== "USER_ERROR"));
function isKnownCode(code: string): code is ErrorCode {
  return KNOWN_CODES.has(code);
}

function jsonSafeDetails(d: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(d)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Formats zod issues as one line a person can act on. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
}

/**
 * A value as a message shows it: JSON where JSON can say it (so "5" and 5 differ), cut short, and what JSON
 * cannot say (NaN, Infinity, undefined, a BigInt, a function) by name.
 */
export function showValue(v: unknown): string {
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return "a function";
  if (typeof v === "symbol") return v.toString();
  if (v instanceof Date) return `a Date (${Number.isFinite(v.getTime()) ? v.toISOString() : "invalid"})`;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined;
  }
  if (text === undefined) return String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
