/**
 * Suspension is a typed signal: a step that cannot finish now (an interrupt, a sleep, a poll, a retry,
 * other flows) throws an `InterruptError` carrying what the flow waits for. The flow must let it through.
 */
import type { Wait } from "../schemas.js";

const INTERRUPT = Symbol.for("firestep.interrupt");

/** Thrown by steps that suspend the flow. Rethrow it from any catch block around a step. */
export class InterruptError extends Error {
  readonly [INTERRUPT] = true;
  readonly wait: Wait;
  constructor(wait: Wait) {
    super(`Flow suspended at step "${wait.step}" (${wait.kind}); this is expected, rethrow it.`);
    this.name = "InterruptError";
    this.wait = wait;
  }
}

export function isInterruptError(e: unknown): e is InterruptError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[INTERRUPT] === true;
}

const STOP = Symbol.for("firestep.stop");

/** Thrown into a flow whose runner must stop at once (lost its lease, or the flow was paused or cancelled). */
export class StopSignal extends Error {
  readonly [STOP] = true;
  constructor(reason: string) {
    super(`Flow stopped: ${reason}.`);
    this.name = "StopSignal";
  }
}

export function isStopSignal(e: unknown): e is StopSignal {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[STOP] === true;
}
