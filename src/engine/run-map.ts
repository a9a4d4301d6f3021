/**
 * `runMap`: fans a function out over items as durable steps (`name[0]`, `name[1]`, ...) and gathers the
 * results in order. Steps are called in index order, so replay is deterministic whatever order they
 * finish in; `concurrency` limits how many run at once.
 */
import { InvalidArgumentError } from "../errors.js";
import type { RetryConfig } from "./retry-policy.js";
import { run } from "./steps.js";

export async function runMap<T, R>(
  name: string,
  items: readonly T[],
  fn: (item: T, index: number) => Promise<R> | R,
  options: { concurrency?: number; retryConfig?: RetryConfig } = {},
): Promise<R[]> {
  if (!Array.isArray(items)) throw new InvalidArgumentError(`runMap("${name}") needs an array of items.`);
  const limit = options.concurrency ?? Infinity;
  if (!(limit >= 1)) throw new InvalidArgumentError(`runMap("${name}"): concurrency must be at least 1.`);
  let active = 0;
  const queue: Array<() => void> = [];
  const acquire = () => (active < limit ? (active++, Promise.resolve()) : new Promise<void>((r) => queue.push(() => (active++, r()))));
  const release = () => {
    active--;
    queue.shift()?.();
  };
  return Promise.all(
    items.map((item, i) =>
      run<R>({ name: `${name}[${i}]`, ...(options.retryConfig ? { retryConfig: options.retryConfig } : {}) }, async () => {
        await acquire();
        try {
          return await fn(item, i);
        } finally {
          release();
        }
      }),
    ),
  );
}
