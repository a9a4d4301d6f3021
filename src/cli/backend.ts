/**
 * Which store the CLI works on, by flag or environment: the embedded file store (--dir, FIRESTEP_DIR,
 * default ./.firestep), or Firestore (--backend firestore / FIRESTEP_BACKEND=firestore, with --project
 * or GCLOUD_PROJECT, honouring FIRESTORE_EMULATOR_HOST; wake-ups to the deployed task functions in
 * --region or FIRESTEP_REGION). An empty environment variable counts as unset.
 *
 * Two runtimes over it: one for commands that do not load flow code (on files it only records changes; on
 * Firestore it also enqueues their wake-ups to Cloud Tasks), and the embedded runtime for commands that
 * load a flow module, opened after the module is loaded so that its recovery carries on that module's due
 * flows.
 */
import { resolve } from "node:path";
import { InvalidArgumentError } from "../errors.js";
import type { FlowStore, TaskQueue } from "../ports.js";
import { createEmbeddedRuntime, recover, type EmbeddedRuntime } from "../runtime/embedded-runtime.js";
import { createRuntime, type FlowRuntime } from "../runtime/runtime.js";
import type { FlowEventListener } from "../runtime/runtime-core.js";
import { createFileStore } from "../stores/file-store.js";
import { flag, type ParsedArgs } from "./args.js";

export interface OpenedStore {
  store: FlowStore;
  describe: string;
  /** On Firestore: Cloud Tasks to the flows' deployed functions, and where a flow's wake-ups go. */
  cloudQueue?: { queue: TaskQueue; queueFor(flowName: string): string };
}

export async function openStore(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<OpenedStore> {
  const backend = flag(args, "backend") ?? (env.FIRESTEP_BACKEND || "embedded");
  const region = flag(args, "region") ?? (env.FIRESTEP_REGION || undefined);
  if (backend === "embedded") {
    if (flag(args, "region") !== undefined) throw new InvalidArgumentError("--region names where the deployed task functions are: it applies with --backend firestore only.");
    const dir = resolve(flag(args, "dir") ?? (env.FIRESTEP_DIR || ".firestep"));
    return { store: createFileStore({ dir }), describe: `files in ${dir}` };
  }
  if (backend === "firestore" || backend === "firebase") {
    const project = flag(args, "project") ?? (env.GCLOUD_PROJECT || env.GOOGLE_CLOUD_PROJECT);
    if (!project) throw new InvalidArgumentError("--backend firestore needs --project PROJECT_ID (or GCLOUD_PROJECT).");
    const { firestoreBackendFor } = await import("../firebase/cli-store.js");
    const { store, queue, queueFor } = firestoreBackendFor(project, flag(args, "collection"), region);
    return {
      store,
      describe: `Firestore project ${project}${env.FIRESTORE_EMULATOR_HOST ? ` (emulator ${env.FIRESTORE_EMULATOR_HOST})` : ""}`,
      cloudQueue: { queue, queueFor },
    };
  }
  throw new InvalidArgumentError(`--backend must be "embedded" or "firestore"; got "${backend}".`);
}

/** A queue that records nothing: without the flow's code this process could not run what it enqueues. */
const noQueue: TaskQueue = { enqueue: async () => {} };

export interface ControlRuntime {
  runtime: FlowRuntime;
  /** Where a flow's wake-ups go (a Cloud Tasks queue); undefined when nothing runs it until a command loads its module. */
  wakeUpsTo?: (flowName: string) => string;
}

/** For commands that change or read state without loading flow code. */
export async function openControlRuntime(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<ControlRuntime> {
  const { store, cloudQueue } = await openStore(args, env);
  if (!cloudQueue) return { runtime: createRuntime({ store, queue: noQueue }) };
  return { runtime: createRuntime({ store, queue: cloudQueue.queue }), wakeUpsTo: (flowName) => `Cloud Tasks queue "${cloudQueue.queueFor(flowName)}"` };
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
  return ["backend", "project", "collection", "region", "dir"].flatMap((name) => {
    const v = flag(args, name);
    return v === undefined ? [] : [`--${name}`, v];
  });
}
