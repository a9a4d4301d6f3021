/** The runtime running the current flow invocation, so app-level calls made inside a flow go to it. */
import { AsyncLocalStorage } from "node:async_hooks";
import type { FlowRuntime } from "./runtime.js";

const active = new AsyncLocalStorage<FlowRuntime>();

export function withActiveRuntime<T>(rt: FlowRuntime, fn: () => Promise<T>): Promise<T> {
  return active.run(rt, fn);
}

export function activeRuntime(): FlowRuntime | undefined {
  return active.getStore();
}
