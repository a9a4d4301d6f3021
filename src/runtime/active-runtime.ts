/**
 * The runtime running the current flow invocation, so app-level calls made inside a flow go to it.
 * Generic over the runtime's type so this module depends on nothing.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const active = new AsyncLocalStorage<object>();

export function withActiveRuntime<T>(rt: object, fn: () => Promise<T>): Promise<T> {
  return active.run(rt, fn);
}

export function activeRuntime<R extends object>(): R | undefined {
  return active.getStore() as R | undefined;
}
