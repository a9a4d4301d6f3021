/**
 * Which runtime the app-level calls (scheduleFlow, resumeFlow, ...) use. Resolved at the edge, in this
 * order: an explicit `configureFirestep(...)`; then a backend that registered itself for this
 * environment (importing `firestep/firebase` registers Firestore + Cloud Tasks inside Cloud Functions or
 * when FIRESTEP_BACKEND=firebase); then the embedded default: files under FIRESTEP_DIR (default
 * ./.firestep) and an in-process queue.
 */
import { resolve } from "node:path";
import { InvalidArgumentError } from "../errors.js";
import { createFileStore } from "../stores/file-store.js";
import { activeRuntime } from "./active-runtime.js";
import { createEmbeddedRuntime, type EmbeddedRuntimeOptions } from "./embedded-runtime.js";
import { createRuntime, type FlowRuntime } from "./runtime.js";
import type { RuntimeOptions } from "./runtime-core.js";

export type FirestepConfig =
  | { runtime: FlowRuntime }
  | RuntimeOptions
  | ({ embedded: true; dir?: string } & Partial<EmbeddedRuntimeOptions>);

/** A backend that can supply the default runtime for the current environment. */
export interface BackendResolver {
  name: string;
  applies(env: NodeJS.ProcessEnv): boolean;
  create(env: NodeJS.ProcessEnv): FlowRuntime;
}

let configured: FlowRuntime | undefined;

const resolvers: BackendResolver[] = [];

export function configureFirestep(config: FirestepConfig): FlowRuntime {
  if ("runtime" in config) configured = config.runtime;
  else if ("embedded" in config) configured = embeddedDefault(config.dir, config);
  else if ("store" in config && "queue" in config) configured = createRuntime(config);
  else throw new InvalidArgumentError("configureFirestep needs { runtime }, { store, queue } or { embedded: true, dir? }.");
  return configured;
}

export function registerBackend(resolver: BackendResolver): void {
  if (!resolvers.some((r) => r.name === resolver.name)) resolvers.push(resolver);
}

/** The runtime app-level calls use: the one running the current flow, else the configured one, created on first use. */
export function getRuntime(): FlowRuntime {
  const running = activeRuntime<FlowRuntime>();
  if (running) return running;
  if (configured) return configured;
  const env = process.env;
  const forced = env.FIRESTEP_BACKEND;
  if (forced && forced !== "embedded" && !resolvers.some((r) => r.name === forced)) {
    throw new InvalidArgumentError(`FIRESTEP_BACKEND="${forced}" names no backend loaded in this process. Use "embedded", or import "firestep/firebase" for "firebase".`);
  }
  const resolver = forced === "embedded" ? undefined : resolvers.find((r) => (forced ? r.name === forced : r.applies(env)));
  configured = resolver ? resolver.create(env) : embeddedDefault(env.FIRESTEP_DIR);
  return configured;
}

/** Forgets the configured runtime (tests; a new configuration). Closes it. */
export async function resetFirestep(): Promise<void> {
  const rt = configured;
  configured = undefined;
  await rt?.close();
}

function embeddedDefault(dir: string | undefined, extra: Partial<EmbeddedRuntimeOptions> = {}): FlowRuntime {
  const store = extra.store ?? createFileStore({ dir: resolve(dir ?? ".firestep") });
  return createEmbeddedRuntime({ ...extra, store });
}
