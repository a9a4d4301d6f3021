/** Type tests: the factories' option types, each exported under its name, and what the factories return. Compiled, never run. */
import type { Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import {
  configureFirestep, createEmbeddedRuntime, scheduleCron, createFileStore, createLocalQueue, createMemoryStore, createRuntime, defineFlow, systemClock,
  type DeliveryMeta, type DeliveryResult, type EmbeddedRuntime, type EmbeddedRuntimeOptions, type FileStoreOptions, type FileStoreStats, type FlowRuntime,
  type FlowStore, type LocalQueueOptions, type LocalTaskQueue, type MemoryStoreOptions, type Operation, type RuntimeOptions, type WakeTask,
} from "../../src/index.js";
import {
  createFirebaseRuntime, createFirestoreStore, createFunctionsTaskQueue,
  type FirestoreStoreOptions, type FirestoreStoreStats, type FunctionsLike, type EnqueueRetryOptions, type PublicKeys,
} from "../../src/firebase/index.js";
import { createFakeClock, createTestRuntime, type FakeClock, type FlowHandle, type TestRuntime } from "../../src/testing/index.js";
import { expectType } from "./expect-type.js";

declare const firestore: Firestore;

export async function factories(): Promise<void> {
  const memoryOptions: MemoryStoreOptions = { maxValueBytes: 1024 };
  expectType<FlowStore>()(createMemoryStore(memoryOptions));
  expectType<FlowStore>()(createMemoryStore());
  // @ts-expect-error an unknown store option is refused
  createMemoryStore({ maxBytes: 1 });
  const stats: FileStoreStats = { bytesRead: 0, bytesWritten: 0, syncs: 0 } as FileStoreStats;
  const fileOptions: FileStoreOptions = { dir: ".firestep", fsync: false, maxOpenFlows: 10, stats };
  expectType<FlowStore>()(createFileStore(fileOptions));
  // @ts-expect-error the file store needs a dir
  createFileStore({});
  // @ts-expect-error an unknown store option is refused
  createFileStore({ dir: "x", directory: "y" });

  const clock = createFakeClock(0);
  expectType<FakeClock>()(clock);
  const queueOptions: LocalQueueOptions = { clock, maxConcurrent: 4 };
  expectType<LocalTaskQueue>()(createLocalQueue(queueOptions));
  // @ts-expect-error the local queue needs a clock
  createLocalQueue({});

  const runtimeOptions: RuntimeOptions = { store: createMemoryStore(), queue: createLocalQueue({ clock: systemClock }), warmExecutions: 0 };
  expectType<FlowRuntime>()(createRuntime(runtimeOptions));
  // @ts-expect-error createRuntime needs a queue
  createRuntime({ store: createMemoryStore() });
  // @ts-expect-error an unknown runtime option is refused
  createRuntime({ ...runtimeOptions, warm: 1 });

  const embeddedOptions: EmbeddedRuntimeOptions = { store: createMemoryStore(), maxConcurrentDeliveries: 10, retention: { finishedOlderThanSeconds: 86400, everySeconds: 3600 } };
  const embedded = createEmbeddedRuntime(embeddedOptions);
  expectType<EmbeddedRuntime>()(embedded);
  expectType<number>()(await embedded.ready);
  // @ts-expect-error the embedded runtime takes its own queue
  createEmbeddedRuntime({ store: createMemoryStore(), queue: createLocalQueue({ clock }) });
  configureFirestep({ runtime: embedded });
  configureFirestep({ embedded: true, dir: ".firestep" });
  configureFirestep({ store: createMemoryStore(), queue: createLocalQueue({ clock }) });
  // @ts-expect-error an unknown configuration key is refused
  configureFirestep({ store: createMemoryStore(), queue: createLocalQueue({ clock }), bogus: 1 });
  // @ts-expect-error and in the embedded form
  configureFirestep({ embedded: true, dir: ".firestep", directory: "x" });

  // A cron's input is the flow's.
  scheduleCron(embedded, { flow: order, schedule: "0 9 * * *", input: { orderId: "daily" }, overlap: "skip" });
  scheduleCron(embedded, { flow: order, schedule: "0 9 * * *", input: (tick) => ({ orderId: tick.toISOString() }), overlap: "allow" });
  // @ts-expect-error the input is checked against the flow's schema
  scheduleCron(embedded, { flow: order, schedule: "0 9 * * *", input: { orderId: 1 }, overlap: "skip" });
  // @ts-expect-error overlap is "skip" or "allow"
  scheduleCron(embedded, { flow: order, schedule: "0 9 * * *", input: { orderId: "x" }, overlap: "queue" });

  const meta: DeliveryMeta = { taskId: "t-1" };
  const task: WakeTask = { flowId: "f", flowName: "n", at: 0 } as WakeTask;
  expectType<DeliveryResult>()(await embedded.deliver(task, meta));

  const firestoreOptions: FirestoreStoreOptions = { firestore, collection: "flows", journalCacheBytes: 0 };
  expectType<FlowStore>()(createFirestoreStore(firestoreOptions));
  const fsStats: FirestoreStoreStats | undefined = firestoreOptions.stats;
  void fsStats;
  // @ts-expect-error the Firestore store needs a Firestore
  createFirestoreStore({ collection: "flows" });
  expectType<FlowRuntime>()(createFirebaseRuntime({ firestore }));
  const functions: FunctionsLike | undefined = undefined;
  const retry: EnqueueRetryOptions = {};
  createFunctionsTaskQueue({ ...(functions ? { functions } : {}), retry });
  const keys: PublicKeys = {};
  void keys;
}

const order = defineFlow({ name: "typesFactoryOrder", input: z.object({ orderId: z.string() }), output: z.boolean() }, async () => true);

export async function testing(): Promise<void> {
  const t = createTestRuntime({ warmExecutions: 100, start: 0 });
  expectType<TestRuntime>()(t);
  // @ts-expect-error an unknown test runtime option is refused
  createTestRuntime({ warm: 1 });
  const h = await t.start(order, { orderId: "o-1" });
  expectType<FlowHandle<typeof order>>()(h);
  expectType<Operation<boolean>>()(await h.settle());
  expectType<Operation<boolean>>()(await h.resume({ approved: true }));
  expectType<Operation<boolean>>()(await h.state());
  expectType<Operation<boolean>>()(await t.run(order, { orderId: "o-2" }));
  // @ts-expect-error the test runtime checks the input too
  await t.start(order, { orderId: 1 });
  // @ts-expect-error and on run
  await t.run(order, {});
  expectType<FlowHandle<typeof order>>()(t.handle(order, "id"));
  expectType<number>()(await t.clock.advance(1000) ?? 0);
}
