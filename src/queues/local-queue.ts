/**
 * The in-process task queue of the embedded runtime: tasks wait on the clock's timers and are handed to
 * the listener at their time, up to `maxConcurrent` at once (the rest wait their turn, in order, as with
 * Cloud Tasks' maxConcurrentDispatches). A handler that throws is retried with back-off, as Cloud Tasks
 * would. Repeated dedupe keys are dropped while remembered (the last 100,000).
 */
import type { Clock, LocalTaskQueue, QueuedTask } from "../ports.js";
import type { WakeTask } from "../schemas.js";

export interface LocalQueueOptions {
  clock: Clock;
  /** Retries of a failing handler before the task is dropped and logged (default 10). */
  maxRetries?: number;
  /**
   * Handlers running at once (default 256). Ten thousand flows waking at the same instant then run a few
   * hundred at a time, instead of all holding their state in memory and contending for the store together.
   */
  maxConcurrent?: number;
  onDrop?: (task: WakeTask, error: unknown) => void;
}

const DEDUPE_MEMORY = 100_000;

export function createLocalQueue(options: LocalQueueOptions): LocalTaskQueue {
  const { clock } = options;
  const maxRetries = options.maxRetries ?? 10;
  const maxConcurrent = Math.max(1, options.maxConcurrent ?? 256);
  const seen = new Set<string>();
  const timers = new Map<number, () => void>();
  let nextTimer = 0;
  let handler: ((task: WakeTask, meta: { taskId: string }) => Promise<void>) | undefined;
  const backlog: Array<[WakeTask, string]> = [];
  /** Due tasks waiting for a free slot, oldest first (a plain array used as a queue from `turnHead`). */
  const turn: Array<[WakeTask, string, number]> = [];
  let turnHead = 0;
  let running = 0;
  let closed = false;
  let idleWaiters: Array<() => void> = [];

  const settleIdle = () => {
    if (running === 0 && backlog.length === 0 && dueNow === 0 && turnHead === turn.length) {
      const ws = idleWaiters;
      idleWaiters = [];
      ws.forEach((w) => w());
    }
  };
  let dueNow = 0;

  function dispatch(task: WakeTask, key: string, attempt: number): void {
    if (closed) return;
    if (!handler) {
      backlog.push([task, key]);
      return;
    }
    if (running >= maxConcurrent) {
      turn.push([task, key, attempt]);
      return;
    }
    running++;
    handler(task, { taskId: key })
      .catch((e) => {
        if (attempt >= maxRetries) options.onDrop?.(task, e);
        else schedule(task, key, Math.min(60_000, 100 * 2 ** attempt), attempt + 1);
      })
      .finally(() => {
        running--;
        if (turnHead < turn.length) {
          const [t, k, a] = turn[turnHead]!;
          turn[turnHead++] = undefined as never;
          if (turnHead === turn.length) turn.length = turnHead = 0;
          dispatch(t, k, a);
        }
        settleIdle();
      });
  }

  /**
   * A task due now runs on the next turn of the event loop (setImmediate), not on a zero-delay timer:
   * Node's timers wait at least 1 ms, which would be most of a short flow's latency. Only tasks for later
   * wait on the clock.
   */
  function schedule(task: WakeTask, key: string, delayMs: number, attempt: number): void {
    const id = nextTimer++;
    const fire = () => {
      timers.delete(id);
      if (delayMs <= 0) dueNow--;
      dispatch(task, key, attempt);
      settleIdle();
    };
    if (delayMs <= 0) {
      dueNow++;
      const immediate = setImmediate(fire);
      timers.set(id, () => clearImmediate(immediate));
    } else {
      timers.set(id, clock.setTimer(delayMs, fire));
    }
  }

  return {
    async enqueue({ task, dedupeKey }: QueuedTask) {
      if (closed) return;
      if (seen.has(dedupeKey)) return;
      seen.add(dedupeKey);
      if (seen.size > DEDUPE_MEMORY) seen.delete(seen.values().next().value as string);
      schedule(task, dedupeKey, task.at - clock.now(), 0);
    },
    listen(h) {
      handler = h;
      for (const [t, k] of backlog.splice(0)) dispatch(t, k, 0);
    },
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      });
    },
    pending() {
      return timers.size;
    },
    async close() {
      closed = true;
      turn.length = turnHead = 0;
      for (const cancel of timers.values()) cancel();
      timers.clear();
      dueNow = 0;
      settleIdle();
    },
  };
}
