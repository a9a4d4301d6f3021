/**
 * The task-queue port on Cloud Tasks through `@google-cloud/tasks`: each wake-up becomes an HTTP task that
 * POSTs the WakeTask as JSON to a URL, signed with an OIDC token of a service account (check it on arrival
 * with `createOidcVerifier`). The caller passes the client, so Firestep does not depend on the library,
 * not even for its types: `new CloudTasksClient()` satisfies `CloudTasksClientLike`.
 */
import { InvalidArgumentError } from "../errors.js";
import type { QueuedTask, TaskQueue } from "../ports.js";
import { enqueueWithRetry, planTask, wakePayload, type EnqueueRetryOptions } from "./task-ids.js";

/** The request Firestep passes to `createTask`: one HTTP task, named for its dedupe key. */
export interface CloudTaskRequest {
  parent: string;
  task: {
    name: string;
    scheduleTime: { seconds: number; nanos: number };
    dispatchDeadline?: { seconds: number };
    httpRequest: {
      httpMethod: "POST";
      url: string;
      headers: Record<string, string>;
      /** The WakeTask as JSON, base64-encoded. */
      body: string;
      oidcToken: { serviceAccountEmail: string; audience: string };
    };
  };
}

/** The part of `@google-cloud/tasks`' `CloudTasksClient` this queue uses. */
export interface CloudTasksClientLike {
  createTask(request: CloudTaskRequest): Promise<unknown>;
}

export interface CloudTasksQueueOptions {
  client: CloudTasksClientLike;
  project: string;
  location: string;
  /** The queue's id (not its path), or one per flow name. */
  queue: string | ((flowName: string) => string);
  /** Where tasks are POSTed, or one URL per flow name. */
  url: string | ((flowName: string) => string);
  /** The service account whose OIDC token signs each request (Cloud Tasks must be allowed to act as it). */
  serviceAccountEmail: string;
  /** The token's audience. Default: the task's URL. */
  audience?: string;
  /**
   * How long Cloud Tasks waits for the URL to answer, in seconds (15 to 1800), or one per flow name: set it
   * to the service's request timeout when a delivery may run longer than Cloud Tasks' default of 10 minutes.
   */
  dispatchDeadlineSeconds?: number | ((flowName: string) => number | undefined);
  /** Epoch ms; decides how far ahead a task may be scheduled. Default `Date.now`. */
  now?: () => number;
  retry?: EnqueueRetryOptions;
}

export function createCloudTasksQueue(options: CloudTasksQueueOptions): TaskQueue {
  const { client, project, location, serviceAccountEmail } = options;
  for (const [name, value] of Object.entries({ project, location, serviceAccountEmail })) {
    if (typeof value !== "string" || value === "") throw new InvalidArgumentError(`createCloudTasksQueue: "${name}" must be a non-empty string.`);
  }
  const queueFor = typeof options.queue === "function" ? options.queue : () => options.queue as string;
  const urlFor = typeof options.url === "function" ? options.url : () => options.url as string;
  const now = options.now ?? Date.now;
  const deadlineFor = typeof options.dispatchDeadlineSeconds === "function" ? options.dispatchDeadlineSeconds : () => options.dispatchDeadlineSeconds as number | undefined;
  if (typeof options.dispatchDeadlineSeconds === "number") checkDeadline(options.dispatchDeadlineSeconds, "createCloudTasksQueue");

  return {
    async enqueue({ task, dedupeKey }: QueuedTask) {
      const payload = wakePayload(task);
      const queue = queueFor(payload.flowName);
      const url = urlFor(payload.flowName);
      const parent = `projects/${project}/locations/${location}/queues/${queue}`;
      const plan = planTask(dedupeKey, payload.at, now());
      const deadline = deadlineFor(payload.flowName);
      if (deadline !== undefined) checkDeadline(deadline, `dispatchDeadlineSeconds for flow "${payload.flowName}"`);
      const request: CloudTaskRequest = {
        parent,
        task: {
          name: `${parent}/tasks/${plan.id}`,
          scheduleTime: { seconds: Math.floor(plan.scheduleMs / 1000), nanos: (((plan.scheduleMs % 1000) + 1000) % 1000) * 1_000_000 },
          ...(deadline !== undefined ? { dispatchDeadline: { seconds: deadline } } : {}),
          httpRequest: {
            httpMethod: "POST",
            url,
            headers: { "Content-Type": "application/json" },
            body: Buffer.from(JSON.stringify(payload), "utf8").toString("base64"),
            oidcToken: { serviceAccountEmail, audience: options.audience ?? url },
          },
        },
      };
      await enqueueWithRetry(() => client.createTask(request), { task: payload, queue: parent, taskId: plan.id }, options.retry);
    },
  };
}

function checkDeadline(seconds: number, where: string): void {
  if (!Number.isInteger(seconds) || seconds < 15 || seconds > 1800) {
    throw new InvalidArgumentError(`${where}: dispatchDeadlineSeconds must be a whole number of seconds from 15 to 1800 (Cloud Tasks' limits); got ${JSON.stringify(seconds)}.`);
  }
}
