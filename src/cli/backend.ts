/**
 * Which store the CLI works on, by flag or environment: the embedded file store (--dir, FIRESTEP_DIR,
 * default ./.firestep), or Firestore (--backend firestore / FIRESTEP_BACKEND=firestore, with --project
 * or GCLOUD_PROJECT, honouring FIRESTORE_EMULATOR_HOST). An empty environment variable counts as unset.
 *
 * Two runtimes over it: one that only records changes (commands that do not load flow code), and the
 * embedded runtime for commands that load a flow module, opened after the module is loaded so that its
 * recovery carries on that module's due flows.
 */
import { resolve } from "node:path";
import { InvalidArgumentError } from "../errors.js";
import type { FlowStore, TaskQueue } from "../ports.js";
import { createEmbeddedRuntime, recover, type EmbeddedRuntime } from "../runtime/embedded-runtime.js";
import { createRuntime, type FlowRuntime } from "../runtime/runtime.js";
import type { FlowEventListener } from "../runtime/runtime-core.js";
import { createFileStore } from "../stores/file-store.js";
import { flag, type ParsedArgs } from "./args.js";

export async function openStore(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<{ store: FlowStore; describe: string }> {
  const backend = flag(args, "backend") ?? (env.FIRESTEP_BACKEND || "embedded");
  if (backend === "embedded") {
    const dir = resolve(flag(args, "dir") ?? (env.FIRESTEP_DIR || ".firestep"));
    return { store: createFileStore({ dir }), describe: `files in ${dir}` };
  }
  if (backend === "firestore" || backend === "firebase") {
    const project = flag(args, "project") ?? (env.GCLOUD_PROJECT || env.GOOGLE_CLOUD_PROJECT);
    if (!project) throw new InvalidArgumentError("--backend firestore needs --project PROJECT_ID (or GCLOUD_PROJECT).");
    const { firestoreStoreFor } = await import("../firebase/cli-store.js");
    const collection = flag(args, "collection");
    return { store: firestoreStoreFor(project, collection), describe: `Firestore project ${project}${env.FIRESTORE_EMULATOR_HOST ? ` (emulator ${env.FIRESTORE_EMULATOR_HOST})` : ""}` };
  }
  throw new InvalidArgumentError(`--backend must be "embedded" or "firestore"; got "${backend}".`);
}

/** A queue that records nothing: without the flow's code this process could not run what it enqueues. */
const noQueue: TaskQueue = { enqueue: async () => {} };

/** For commands that change or read state without loading flow code. */
export async function openControlRuntime(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<FlowRuntime> {
  const { store } = await openStore(args, env);
  return createRuntime({ store, queue: noQueue });
}

/**
 * The embedded runtime, for commands that have loaded a flow module: its recovery re-arms that module's
 * unfinished flows found in the store (flows of other modules are left alone). `check` runs first, so a
 * command refused by it has carried nothing on. Resolves once recovery has run, so a store it cannot read
 * fails the command with the store's error. `listener` hears every event of this runtime.
 */
export async function openModuleRuntime(
  args: ParsedArgs,
  env: NodeJS.ProcessEnv,
  listener: FlowEventListener,
  check: (rt: EmbeddedRuntime) => Promise<void> = async () => {},
): Promise<EmbeddedRuntime> {
  const { store } = await openStore(args, env);
  const rt = createEmbeddedRuntime({ store, recover: false });
  rt.subscribe(listener);
  try {
    await check(rt);
    await recover(rt);
  } catch (e) {
    await rt.close();
    throw e;
  }
  return rt;
}

/** The store flags given on this command line, to repeat in a printed command so it works as printed. */
export function storeFlags(args: ParsedArgs): string[] {
  return ["backend", "project", "collection", "dir"].flatMap((name) => {
    const v = flag(args, name);
    return v === undefined ? [] : [`--${name}`, v];
  });
}
