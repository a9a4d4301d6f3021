/**
 * Which store the CLI works on, by flag or environment: the embedded file store (--dir, FIRESTEP_DIR,
 * default ./.firestep), or Firestore (--backend firestore / FIRESTEP_BACKEND=firestore, with --project
 * or GCLOUD_PROJECT, honouring FIRESTORE_EMULATOR_HOST).
 */
import { resolve } from "node:path";
import type { FlowStore, TaskQueue } from "../ports.js";
import { createEmbeddedRuntime } from "../runtime/embedded-runtime.js";
import { createRuntime, type FlowRuntime } from "../runtime/runtime.js";
import { createFileStore } from "../stores/file-store.js";
import { flag, UsageError, type ParsedArgs } from "./args.js";

export async function openStore(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<{ store: FlowStore; describe: string }> {
  const backend = flag(args, "backend") ?? env.FIRESTEP_BACKEND ?? "embedded";
  if (backend === "embedded") {
    const dir = resolve(flag(args, "dir") ?? env.FIRESTEP_DIR ?? ".firestep");
    return { store: createFileStore({ dir }), describe: `files in ${dir}` };
  }
  if (backend === "firestore" || backend === "firebase") {
    const project = flag(args, "project") ?? env.GCLOUD_PROJECT ?? env.GOOGLE_CLOUD_PROJECT;
    if (!project) throw new UsageError("--backend firestore needs --project PROJECT_ID (or GCLOUD_PROJECT).");
    const { firestoreStoreFor } = await import("../firebase/cli-store.js");
    const collection = flag(args, "collection");
    return { store: firestoreStoreFor(project, collection), describe: `Firestore project ${project}${env.FIRESTORE_EMULATOR_HOST ? ` (emulator ${env.FIRESTORE_EMULATOR_HOST})` : ""}` };
  }
  throw new UsageError(`--backend must be "embedded" or "firestore"; got "${backend}".`);
}

/** A queue that records nothing: control commands change state; a running runtime picks the flow up. */
const noQueue: TaskQueue = { enqueue: async () => {} };

export async function openRuntime(args: ParsedArgs, env: NodeJS.ProcessEnv, forRun: boolean): Promise<FlowRuntime> {
  const { store } = await openStore(args, env);
  return forRun ? createEmbeddedRuntime({ store }) : createRuntime({ store, queue: noQueue });
}
