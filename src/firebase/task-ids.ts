/**
 * What both Cloud Tasks adapters share when they turn a wake-up into a task: its id, derived from the dedupe
 * key so that a repeated enqueue is refused by Cloud Tasks itself; its schedule time, kept inside Cloud Tasks'
 * 30-day horizon; its payload, the WakeTask and nothing else; and the retry of transient enqueue errors.
 */
import { createHash } from "node:crypto";
import { InvalidArgumentError, QueueUnavailableError, formatIssues } from "../errors.js";
import { WakeTaskSchema, type WakeTask } from "../schemas.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Cloud Tasks refuses a schedule time more than 30 days ahead. A wake-up further out is scheduled this far
 * ahead instead (a day short of the limit, so clock skew cannot push it over); the runtime sees the early
 * delivery and defers again, until the real time is within reach.
 */
export const MAX_SCHEDULE_AHEAD_MS = 29 * DAY_MS;

export interface TaskPlan {
  /** A valid Cloud Tasks id ([A-Za-z0-9_-], 64 hex characters). */
  id: string;
  /** When Cloud Tasks should deliver it, epoch ms: `task.at`, or the farthest allowed time if that is too far. */
  scheduleMs: number;
  /** True when `scheduleMs` is earlier than `task.at` because of the 30-day horizon. */
  capped: boolean;
}

/**
 * The id is the SHA-256 of the dedupe key: deterministic, so the same wake-up enqueued twice is one task, and
 * uniformly spread, as Cloud Tasks recommends. A capped hop mixes in the hour it is scheduled for: the runtime
 * defers an early delivery with the same dedupe key, and that next hop must not collide with the task that is
 * being delivered (Cloud Tasks keeps a task's id taken while it runs and for a while after).
 */
export function planTask(dedupeKey: string, at: number, now: number): TaskPlan {
  if (at - now <= MAX_SCHEDULE_AHEAD_MS) return { id: sha256Hex(dedupeKey), scheduleMs: at, capped: false };
  const scheduleMs = now + MAX_SCHEDULE_AHEAD_MS;
  return { id: sha256Hex(`${dedupeKey}\u0000hop@${Math.floor(scheduleMs / HOUR_MS)}`), scheduleMs, capped: true };
}

function sha256Hex(s: string): string {
  return createHash("sha256").update(s, "utf8").digest("hex");
}

/** The task body: exactly the WakeTask's fields, checked, so nothing else (step data least of all) rides along. */
export function wakePayload(task: WakeTask): WakeTask {
  const r = WakeTaskSchema.safeParse(task);
  if (!r.success) throw new InvalidArgumentError(`Cannot enqueue a wake-up that does not match WakeTaskSchema: ${formatIssues(r.error)}.`);
  return r.data;
}

export interface EnqueueRetryOptions {
  /** Tries in all, the first included (default 4). */
  attempts?: number;
  /** Wait before the first retry, doubled for each next one up to 30 s, in milliseconds (default 200). */
  baseDelayMs?: number;
}

/** The longest wait between two tries: the caller is waiting on the enqueue. */
const MAX_ENQUEUE_BACKOFF_MS = 30_000;

const TRANSIENT_GRPC = new Set([4, 8, 13, 14]); // DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE
const TRANSIENT_NAMES = new Set(["DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "INTERNAL", "UNAVAILABLE"]);
const TRANSIENT_FIREBASE = new Set(["functions/internal-error", "functions/unavailable", "app/network-error", "app/network-timeout"]);
const TRANSIENT_NET = new Set(["ECONNRESET", "ETIMEDOUT", "ECONNREFUSED", "EPIPE", "EAI_AGAIN", "ECONNABORTED", "UND_ERR_SOCKET"]);
const TRANSIENT_TEXT = /\b(UNAVAILABLE|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED|ECONNRESET|ETIMEDOUT|ECONNREFUSED|EPIPE|EAI_AGAIN)\b|socket hang up|status:? (5\d\d|429)\b/i;

/** Whether an error from gRPC (`@google-cloud/tasks`), firebase-admin or the network is worth trying again. */
export function isTransientEnqueueError(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const { code, status, statusCode, response, message, cause } = e as Record<string, unknown>;
  if (typeof code === "number" && TRANSIENT_GRPC.has(code)) return true;
  if (typeof code === "string" && (TRANSIENT_NAMES.has(code) || TRANSIENT_FIREBASE.has(code) || TRANSIENT_NET.has(code))) return true;
  const http = [status, statusCode, (response as { status?: unknown } | undefined)?.status].find((s) => typeof s === "number") as number | undefined;
  if (http !== undefined && (http >= 500 || http === 429)) return true;
  if (typeof message === "string" && TRANSIENT_TEXT.test(message)) return true;
  return cause !== undefined && cause !== e && isTransientEnqueueError(cause);
}

/** Whether Cloud Tasks refused the task because one with its id exists: the wake-up is already queued. */
export function isAlreadyExistsError(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const { code, status } = e as Record<string, unknown>;
  return code === 6 || code === "ALREADY_EXISTS" || code === "functions/task-already-exists" || status === 409;
}

export interface EnqueueTarget {
  task: WakeTask;
  /** The queue, as the user named it (for messages). */
  queue: string;
  taskId: string;
}

/** Runs `send` until it succeeds, finds the task already there, or fails for good; then throws a FirestepError. */
export async function enqueueWithRetry(send: () => Promise<unknown>, target: EnqueueTarget, options: EnqueueRetryOptions = {}): Promise<void> {
  const attempts = Math.max(1, Math.floor(options.attempts ?? 4));
  const baseDelayMs = Math.max(0, options.baseDelayMs ?? 200);
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return;
    } catch (e) {
      if (isAlreadyExistsError(e)) return;
      const transient = isTransientEnqueueError(e);
      if (transient && attempt < attempts) {
        await sleep(Math.min(MAX_ENQUEUE_BACKOFF_MS, baseDelayMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5));
        continue;
      }
      throw enqueueFailed(e, target, transient, attempt);
    }
  }
}

function enqueueFailed(e: unknown, { task, queue, taskId }: EnqueueTarget, transient: boolean, attempts: number): QueueUnavailableError {
  const what = `the "${task.reason}" wake-up of flow "${task.flowId}" (due ${new Date(task.at).toISOString()}, task id ${taskId}) on Cloud Tasks queue "${queue}"`;
  const why = e instanceof Error ? e.message : String(e);
  const message = transient
    ? `Could not enqueue ${what}: ${why} (gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}). Cloud Tasks is unavailable or overloaded; the flow is stored, so retry the call.`
    : `Cloud Tasks refused ${what}: ${why}. Check that the queue exists (deploy its task function first) and that this service account may enqueue to it (roles/cloudtasks.enqueuer).`;
  return new QueueUnavailableError(message, { cause: e });
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
