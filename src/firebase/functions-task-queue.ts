/**
 * The task-queue port on Cloud Tasks through firebase-admin: each wake-up is enqueued to the flow's task
 * function (`onTaskDispatched`) with `getFunctions().taskQueue(name).enqueue(...)`, which also talks to the
 * Cloud Tasks emulator when `CLOUD_TASKS_EMULATOR_HOST` is set.
 */
import type { TaskOptions } from "firebase-admin/functions";
import { NotConfiguredError } from "../errors.js";
import type { QueuedTask, TaskQueue } from "../ports.js";
import type { WakeTask } from "../schemas.js";
import { enqueueWithRetry, planTask, wakePayload, type EnqueueRetryOptions } from "./task-ids.js";

/** The part of firebase-admin's `Functions` this queue uses (`getFunctions()` satisfies it). */
export interface FunctionsLike {
  taskQueue(functionName: string): { enqueue(data: WakeTask, opts?: TaskOptions): Promise<void> };
}

export interface FunctionsTaskQueueOptions {
  /** Default: `getFunctions()` of the default app, resolved at the first enqueue (so `initializeApp()` may come later). */
  functions?: FunctionsLike;
  /**
   * The task function that handles a flow's wake-ups: its name, `locations/L/functions/F`, or its full resource
   * name, as `taskQueue()` takes it. Default: the flow's name.
   */
  queueFor?: (flowName: string) => string;
  /** How long Cloud Tasks waits for the delivery, in seconds (15 to 1800), per flow. Default: Cloud Tasks' own (10 minutes). */
  dispatchDeadlineFor?: (flowName: string) => number | undefined;
  /** Epoch ms; decides how far ahead a task may be scheduled. Default `Date.now`. */
  now?: () => number;
  retry?: EnqueueRetryOptions;
}

export function createFunctionsTaskQueue(options: FunctionsTaskQueueOptions = {}): TaskQueue {
  const queueFor = options.queueFor ?? ((flowName: string) => flowName);
  const now = options.now ?? Date.now;
  let functions: Promise<FunctionsLike> | undefined = options.functions ? Promise.resolve(options.functions) : undefined;
  const resolveFunctions = () =>
    (functions ??= import("firebase-admin/functions")
      .then((m) => m.getFunctions())
      .catch((e: unknown) => {
        functions = undefined;
        throw new NotConfiguredError(
          `The Cloud Tasks queue could not get firebase-admin's Functions service: ${e instanceof Error ? e.message : String(e)}. ` +
            `Install firebase-admin and call initializeApp() before the first enqueue, or pass { functions: getFunctions(app) }.`,
        );
      }));

  return {
    async enqueue({ task, dedupeKey }: QueuedTask) {
      const payload = wakePayload(task);
      const queue = queueFor(payload.flowName);
      const plan = planTask(dedupeKey, payload.at, now());
      const deadline = options.dispatchDeadlineFor?.(payload.flowName);
      const taskOptions: TaskOptions = { id: plan.id, scheduleTime: new Date(plan.scheduleMs), ...(deadline ? { dispatchDeadlineSeconds: deadline } : {}) };
      const taskQueue = (await resolveFunctions()).taskQueue(queue);
      await enqueueWithRetry(
        () => taskQueue.enqueue(payload, taskOptions),
        { task: payload, queue, taskId: plan.id },
        options.retry,
      );
    },
  };
}
