/**
 * The world each bad-input case runs in: a runtime on a memory, file or Firestore store with a fake clock and
 * a recording queue, holding a few flows in known states, and a snapshot of everything stored.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import { createRuntime, defineFlow, interrupt, run, sleep, type FlowRuntime, type FlowStore, type QueuedTask } from "../../../src/index.js";
import { createFirestoreStore } from "../../../src/firebase/firestore-store.js";
import { createFileStore } from "../../../src/stores/file-store.js";
import { createMemoryStore } from "../../../src/stores/memory-store.js";
import { createFakeClock, type FakeClock } from "../../../src/testing/index.js";

export const greet = defineFlow({ name: "badInputGreet", input: z.object({ name: z.string() }), output: z.string() }, async ({ name }) => run("greet", () => `Hello, ${name}`));
export const approval = defineFlow({ name: "badInputApproval", input: z.object({ amount: z.number() }), output: z.boolean() }, async () => {
  const { approved } = await interrupt("manager", z.object({ approved: z.boolean() }));
  return approved;
});
export const anyAnswer = defineFlow({ name: "badInputAnyAnswer", input: z.void(), output: z.unknown() }, async () => interrupt("anything", z.unknown()));
export const nap = defineFlow({ name: "badInputNap", input: z.void(), output: z.string() }, async () => {
  await sleep("nap", 3600);
  return "rested";
});
export const broken = defineFlow({ name: "badInputBroken", input: z.void(), output: z.string() }, async () =>
  run("broken", () => {
    throw new Error("the upstream said no");
  }),
);
export const anything = defineFlow({ name: "badInputAnything", input: z.any(), output: z.unknown() }, async (v) => v);

/** A flow whose first step returns `value` (or is named `name`): the step cases. */
export function stepFlow(flowName: string, stepName: string, value: () => unknown) {
  return defineFlow({ name: flowName, input: z.void(), output: z.unknown() }, async () => run(stepName, value));
}

export type StoreKind = "memory" | "file" | "firestore";

export interface Env {
  kind: StoreKind;
  rt: FlowRuntime;
  store: FlowStore;
  clock: FakeClock;
  tasks: QueuedTask[];
  /** The file store's directory. */
  dir?: string;
  firestore?: Firestore;
  collection?: string;
  deliverAll(): Promise<void>;
  snapshot(): Promise<unknown>;
  /** Replaces paths and names that differ from run to run, for the catalogue's messages. */
  normalize(message: string): string;
}

/** Ids of the flows every env holds, by the state they are in. */
export const FIXTURE = {
  done: "done-1",
  blocked: "blocked-1",
  answered: "answered-1",
  napping: "napping-1",
  failed: "failed-1",
  paused: "paused-1",
  running: "running-1",
  anyAnswer: "any-answer-1",
} as const;

export const VALUE_LIMIT = 64 * 1024;

export async function makeEnv(kind: StoreKind, firebase?: { firestore: Firestore; collection: string }): Promise<Env> {
  const clock = createFakeClock();
  const tasks: QueuedTask[] = [];
  const dir = kind === "file" ? mkdtempSync(join(tmpdir(), "firestep-bad-input-")) : undefined;
  const store =
    kind === "memory"
      ? createMemoryStore({ maxValueBytes: VALUE_LIMIT })
      : kind === "file"
        ? createFileStore({ dir: dir!, maxValueBytes: VALUE_LIMIT })
        : createFirestoreStore({ firestore: firebase!.firestore, collection: firebase!.collection });
  const rt = createRuntime({ store, queue: { enqueue: async (t) => void tasks.push(t) }, clock, leaseSeconds: 60, logger: () => {} });
  const deliverAll = async () => {
    for (let i = 0; i < 100 && tasks.some((t) => t.task.at <= clock.now()); i++) {
      const t = tasks.find((x) => x.task.at <= clock.now())!;
      tasks.splice(tasks.indexOf(t), 1);
      await rt.deliver(t.task, { taskId: t.dedupeKey });
    }
  };
  await rt.scheduleFlow(greet, { name: "Ann" }, { flowId: FIXTURE.done });
  await rt.scheduleFlow(approval, { amount: 5 }, { flowId: FIXTURE.blocked });
  await rt.scheduleFlow(approval, { amount: 6 }, { flowId: FIXTURE.answered });
  await rt.scheduleFlow(approval, { amount: 7 }, { flowId: FIXTURE.paused });
  await rt.scheduleFlow(anyAnswer, undefined, { flowId: FIXTURE.anyAnswer });
  await rt.scheduleFlow(nap, undefined, { flowId: FIXTURE.napping });
  await rt.scheduleFlow(broken, undefined, { flowId: FIXTURE.failed });
  await deliverAll();
  await rt.resumeFlow(approval, FIXTURE.answered, { approved: true });
  await rt.pauseFlow(approval, FIXTURE.paused);
  // A runner claimed this one and has not written since.
  await rt.scheduleFlow(greet, { name: "Bo" }, { flowId: FIXTURE.running });
  const r = (await store.get(FIXTURE.running))!;
  await store.commit(FIXTURE.running, { expectRev: r.rev, record: { ...r, rev: r.rev + 1, epoch: 1, status: "running", lease: { owner: "elsewhere", until: clock.now() + 60_000 } } });
  tasks.length = 0;

  const snapshot = async (): Promise<unknown> => {
    if (kind === "file") {
      // The flow files: not the dot files the store works with while open (write-ahead segments, which
      // only copy flow files' bytes, and empty files made ahead for creates, in the background).
      const names = readdirSync(dir!).filter((f) => !f.startsWith(".")).sort();
      return Object.fromEntries(names.map((f) => [f, readFileSync(join(dir!, f), "utf8")]));
    }
    if (kind === "firestore") {
      const docs = await firebase!.firestore.collection(firebase!.collection).get();
      const out: Record<string, unknown> = {};
      for (const d of docs.docs) {
        out[d.id] = { data: d.data(), updateTime: d.updateTime.toMillis() };
        for (const sub of await d.ref.listCollections()) for (const p of (await sub.get()).docs) out[`${d.id}/${sub.id}/${p.id}`] = { data: p.data(), updateTime: p.updateTime.toMillis() };
      }
      return out;
    }
    const page = await store.list({ limit: 1000 });
    return Promise.all(page.flows.map(async (f) => ({ loaded: await store.load(f.id), history: await store.history(f.id) })));
  };
  const normalize = (m: string) => {
    let out = m;
    if (dir) out = out.split(dir).join("<dir>");
    if (firebase) out = out.split(firebase.collection).join("<collection>");
    return out;
  };
  return { kind, rt, store, clock, tasks, ...(dir ? { dir } : {}), ...(firebase ? firebase : {}), deliverAll, snapshot, normalize };
}
