/**
 * A test harness for flows: an embedded runtime on a fake clock (a week's sleep takes milliseconds),
 * with helpers to run a flow to completion or to its next interrupt, resume it, and inspect its steps.
 */
import type { z } from "zod";
import { resolveFlow, type Flow, type FlowOutput, type FlowRef } from "../flow.js";
import type { Operation } from "../engine/operation.js";
import type { FlowStore } from "../ports.js";
import { cloneData } from "../json-value.js";
import { createEmbeddedRuntime, type EmbeddedRuntime } from "../runtime/embedded-runtime.js";
import type { ScheduleOptions } from "../runtime/runtime.js";
import { isFinished, type FlowRecord, type HistoryEvent, type StepRecord } from "../schemas.js";
import { createMemoryStore } from "../stores/memory-store.js";
import { createFakeClock, type FakeClock } from "./fake-clock.js";

export interface TestRuntimeOptions {
  store?: FlowStore;
  /** Start time of the fake clock (epoch ms). */
  start?: number;
  leaseSeconds?: number;
  /**
   * Suspended flows kept in memory and continued instead of replayed (default 0: every wake-up replays
   * the journal from the start, so a flow that does not replay the same way fails here, in a test).
   */
  warmExecutions?: number;
}

export interface FlowHandle<F extends Flow> {
  readonly id: string;
  /** Runs the flow (moving the fake clock as needed) until it finishes, is paused, or waits for an interrupt. */
  settle(): Promise<Operation<FlowOutput<F>>>;
  /** Answers the pending interrupt and settles again. */
  resume(payload: unknown, options?: { step?: string }): Promise<Operation<FlowOutput<F>>>;
  state(): Promise<Operation<FlowOutput<F>>>;
  record(): Promise<FlowRecord>;
  steps(): Promise<StepRecord[]>;
  history(): Promise<HistoryEvent[]>;
}

export interface TestRuntime {
  readonly runtime: EmbeddedRuntime;
  readonly clock: FakeClock;
  readonly store: FlowStore;
  start<F extends Flow>(flow: FlowRef<F>, input: z.input<F["inputSchema"]>, options?: number | ScheduleOptions): Promise<FlowHandle<F>>;
  /** Starts and settles in one call. */
  run<F extends Flow>(flow: FlowRef<F>, input: z.input<F["inputSchema"]>): Promise<Operation<FlowOutput<F>>>;
  handle<F extends Flow>(flow: FlowRef<F>, id: string): FlowHandle<F>;
  close(): Promise<void>;
}

const MAX_ROUNDS = 100_000;

export function createTestRuntime(options: TestRuntimeOptions = {}): TestRuntime {
  const clock = createFakeClock(options.start);
  const store = options.store ?? createMemoryStore();
  const runtime = createEmbeddedRuntime({
    store,
    clock,
    recover: false,
    warmExecutions: options.warmExecutions ?? 0,
    ...(options.leaseSeconds ? { leaseSeconds: options.leaseSeconds } : {}),
  });

  const handle = <F extends Flow>(flowRef: FlowRef<F>, id: string): FlowHandle<F> => {
    const flow = resolveFlow(flowRef);
    const h: FlowHandle<F> = {
      id,
      async settle() {
        for (let round = 0; round < MAX_ROUNDS; round++) {
          await runtime.idle();
          const r = await h.record();
          if (isFinished(r.status) || r.status === "paused" || (r.status === "waiting" && r.wakeAt === undefined)) return toOp(r);
          if (!(await clock.next())) throw new Error(`Flow ${id} is ${r.status} but nothing is scheduled to wake it: a bug in the runtime or the test.`);
        }
        throw new Error(`Flow ${id} did not settle in ${MAX_ROUNDS} rounds.`);
      },
      async resume(payload, opts) {
        await runtime.resumeFlow(flow, id, payload, opts);
        return h.settle();
      },
      state: () => runtime.getFlowState(flow, id),
      async record() {
        return (await runtime.getFlow(id)).record;
      },
      async steps() {
        return cloneData((await store.load(id))?.steps ?? []);
      },
      history: () => runtime.getFlowHistory(flow, id),
    };
    const toOp = (_r: FlowRecord) => runtime.getFlowState(flow, id);
    return h;
  };

  return {
    runtime,
    clock,
    store,
    async start(flow, input, opts) {
      const op = await runtime.scheduleFlow(flow, input, opts);
      return handle(flow, op.name);
    },
    async run(flow, input) {
      const op = await runtime.scheduleFlow(flow, input);
      return handle(flow, op.name).settle();
    },
    handle,
    close: () => runtime.close(),
  };
}
