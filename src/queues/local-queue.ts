/**
 * The in-process task queue of the embedded runtime: tasks for later wait in a heap under one clock timer
 * (armed for the earliest), tasks due now run on the next turn of the event loop; each is handed to the
 * listener at its time, up to `maxConcurrent` at once (the rest wait their turn, in order, as with
 * Cloud Tasks' maxConcurrentDispatches). A handler that throws is retried with back-off, as Cloud Tasks
 * would. A dedupe key is remembered while its task waits, runs or backs off to retry: enqueueing it again
 * then adds nothing. Once its handler has finished (or the task was given up), the key is forgotten, so a
 * process that has run a million tasks holds the keys of those still to come only. Enqueueing a finished
 * task's key again delivers it again, which at-least-once delivery allows and the runtime expects.
 */
import type { Clock, LocalTaskQueue, QueuedTask } from "../ports.js";
import type { WakeTask } from "../schemas.js";
import { DueHeap, type DueEntry } from "./due-heap.js";

export interface LocalQueueOptions {
  clock: Clock;
  /** Retries of a failing handler before the task is dropped and logged (default 10). */
  maxRetries?: number;
  /**
   * Handlers running at once (default 100, a deployed flow function's default maxConcurrentDispatches).
   * Ten thousand flows waking at the same instant then run a hundred at a time, instead of all holding
   * their state in memory and contending for the store together.
   */
  maxConcurrent?: number;
  onDrop?: (task: WakeTask, error: unknown) => void;
}

interface LaterTask extends DueEntry {
  task: WakeTask;
  key: string;
  attempt: number;
}

/**
 * A flat copy of a key built by concatenation: V8 keeps such a string as a tree of pieces, several times
 * its size, and a sleeping flow's wake-up holds its key until it runs.
 */
function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/** The default of `maxConcurrent`. With 256, ten thousand flows waking at once peaked at 172–191 MB RSS against 164–175 MB, and woke no faster. */
export const DEFAULT_MAX_CONCURRENT = 100;

export function createLocalQueue(options: LocalQueueOptions): LocalTaskQueue {
  const { clock } = options;
  const maxRetries = options.maxRetries ?? 10;
  const maxConcurrent = Math.max(1, options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT);
  /** Keys of tasks not yet finished: waiting, due, running, or backing off to retry. */
  const seen = new Set<string>();
  /** Tasks for later (and retries), earliest first, under one timer armed for the head. */
  const later = new DueHeap<LaterTask>();
  let armed: { at: number; cancel: () => void } | undefined;
  /** Tasks due now, each waiting for its turn of the event loop. */
  const immediates = new Set<NodeJS.Immediate>();
  let handler: ((task: WakeTask, meta: { taskId: string }) => Promise<void>) | undefined;
  const backlog: Array<[WakeTask, string]> = [];
  /** Due tasks waiting for a free slot, oldest first (a plain array used as a queue from `turnHead`). */
  const turn: Array<[WakeTask, string, number]> = [];
  let turnHead = 0;
  let running = 0;
  let closed = false;
  let idleWaiters: Array<() => void> = [];

  const settleIdle = () => {
    if (running === 0 && backlog.length === 0 && immediates.size === 0 && turnHead === turn.length) {
      const ws = idleWaiters;
      idleWaiters = [];
      ws.forEach((w) => w());
    }
  };

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
      .then(
        () => seen.delete(key),
        (e) => {
          if (attempt < maxRetries) return schedule(task, key, Math.min(60_000, 100 * 2 ** attempt), attempt + 1);
          seen.delete(key);
          options.onDrop?.(task, e);
        },
      )
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
    if (delayMs > 0) {
      later.push({ at: clock.now() + delayMs, seq: 0, task, key, attempt });
      arm();
      return;
    }
    const immediate = setImmediate(() => {
      immediates.delete(immediate);
      dispatch(task, key, attempt);
      settleIdle();
    });
    immediates.add(immediate);
  }

  /** Keeps one timer armed for the earliest task for later. */
  function arm(): void {
    const at = later.peekAt();
    if (armed && (at === undefined || armed.at > at)) {
      armed.cancel();
      armed = undefined;
    }
    if (armed || at === undefined || closed) return;
    const timer = { at, cancel: () => {} };
    armed = timer;
    timer.cancel = clock.setTimer(at - clock.now(), () => {
      if (armed !== timer) return;
      armed = undefined;
      for (let due = later.popDue(clock.now()); due; due = later.popDue(clock.now())) dispatch(due.task, due.key, due.attempt);
      arm();
      settleIdle();
    });
  }

  return {
    async enqueue({ task, dedupeKey }: QueuedTask) {
      if (closed) return;
      if (seen.has(dedupeKey)) return;
      const key = flat(dedupeKey);
      seen.add(key);
      schedule(task, key, task.at - clock.now(), 0);
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
      return later.size + immediates.size;
    },
    async close() {
      closed = true;
      turn.length = turnHead = 0;
      armed?.cancel();
      armed = undefined;
      later.clear();
      seen.clear();
      for (const immediate of immediates) clearImmediate(immediate);
      immediates.clear();
      settleIdle();
    },
  };
}
