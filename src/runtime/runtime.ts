/**
 * A runtime: the calls app code makes on flows (schedule, resume, state, list, pause, continue, cancel,
 * retry, delete, history) and the delivery entry point a queue calls. Backends come in as ports.
 */
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { FlowAlreadyExistsError, FlowNotFoundError, formatIssues, InvalidArgumentError, InvalidPayloadError, isFirestepError, showValue } from "../errors.js";
import { parseInput, resolveFlow, type Flow, type FlowInput, type FlowOutput, type FlowRef, type QueryName, type QueryResult, type SignalName, type SignalPayload } from "../flow.js";
import { cloneData, storableCopy } from "../json-value.js";
import { toOperation, type Operation } from "../engine/operation.js";
import {
  assertDeletable,
  cancelRecord,
  continueRecord,
  newFlowRecord,
  pauseRecord,
  resumeRecord,
  retryPlan,
  retryRecord,
  signalRecord,
} from "../engine/transitions.js";
import type { ListPage, ListQuery } from "../ports.js";
import { isFinished, type FlowRecord, type HistoryEvent, type StepRecord, type WakeTask } from "../schemas.js";
import { withActiveRuntime } from "./active-runtime.js";
import { SEMAPHORE_FLOW_NAME } from "./concurrency-limit.js";
import { parseCancelReason, parseListQuery, parseResumeOptions, parseScheduleOptions, type ResumeOptions, type ScheduleOptions } from "./call-options.js";
import { afterOutcome, deliverTask, type DeliveryMeta, type DeliveryResult } from "./delivery.js";
import { RuntimeCore, type FlowEventListener, type RuntimeOptions } from "./runtime-core.js";

export { FLOW_ID_PATTERN, type ResumeOptions, type ScheduleOptions } from "./call-options.js";

export interface FlowDetails {
  record: FlowRecord;
  steps: StepRecord[];
  history: HistoryEvent[];
  operation: Operation;
}

export interface FlowRuntime {
  readonly core: RuntimeCore;
  scheduleFlow<F extends Flow>(flow: FlowRef<F>, input: FlowInput<F>, delayOrOptions?: number | ScheduleOptions): Promise<Operation<FlowOutput<F>>>;
  /** `flow` may be undefined for tools that do not load the flow's code: the payload is checked against the stored schema. */
  resumeFlow<F extends Flow>(flow: FlowRef<F> | undefined, flowId: string, payload: unknown, options?: ResumeOptions): Promise<Operation<FlowOutput<F>>>;
  getFlowState<F extends Flow>(flow: FlowRef<F>, flowId: string): Promise<Operation<FlowOutput<F>>>;
  /** State by id alone (for tools that do not import the flow's code). */
  getFlow(flowId: string): Promise<FlowDetails>;
  listFlows(query?: ListQuery): Promise<ListPage>;
  getFlowHistory(flow: FlowRef | undefined, flowId: string): Promise<HistoryEvent[]>;
  pauseFlow<F extends Flow>(flow: FlowRef<F> | undefined, flowId: string): Promise<Operation<FlowOutput<F>>>;
  continueFlow<F extends Flow>(flow: FlowRef<F> | undefined, flowId: string): Promise<Operation<FlowOutput<F>>>;
  cancelFlow<F extends Flow>(flow: FlowRef<F> | undefined, flowId: string, reason?: string): Promise<Operation<FlowOutput<F>>>;
  retryFlow<F extends Flow>(flow: FlowRef<F> | undefined, flowId: string): Promise<Operation<FlowOutput<F>>>;
  deleteFlow(flow: FlowRef | undefined, flowId: string): Promise<void>;
  /**
   * Sends a signal the flow declared (`signals` in its config); the payload is checked against its schema.
   * `flow` may be undefined for tools that know only the id: the definition is then the one the runtime
   * runs the stored flow with (its name and version, from the runtime's flows or this process).
   */
  signalFlow<F extends Flow, N extends SignalName<F>>(flow: FlowRef<F> | undefined, flowId: string, name: N, payload: SignalPayload<F, N>): Promise<Operation<FlowOutput<F>>>;
  /** Answers a query the flow declared (`queries` in its config) from its stored journal, without running a step. `flow` as for signalFlow. */
  queryFlow<F extends Flow, N extends QueryName<F>>(flow: FlowRef<F> | undefined, flowId: string, name: N): Promise<QueryResult<F, N>>;
  /** Handles one wake-up task (called by the queue). */
  deliver(task: WakeTask, meta?: DeliveryMeta): Promise<DeliveryResult>;
  subscribe(listener: FlowEventListener): () => void;
  close(): Promise<void>;
}

export function createRuntime(options: RuntimeOptions): FlowRuntime {
  const core = new RuntimeCore(options);
  const { store, clock } = core;

  async function mustGet(flowId: string, flow?: FlowRef): Promise<FlowRecord> {
    checkFlowId(flowId);
    const r = await store.get(flowId);
    const name = flow ? resolveFlow(flow).name : undefined;
    if (!r || (name && r.flowName !== name)) throw new FlowNotFoundError(flowId, name);
    return r;
  }

  /**
   * A call that stored its change but was cut short before enqueueing the wake-up (a crash, the queue
   * unavailable) leaves a due flow with no task, and on Cloud Tasks nothing scans for it. The caller's retry is
   * refused (the change is already made), so a refusal first re-enqueues the wake-up of a due flow; the task
   * id derives from the record's rev, so a wake-up already queued is not doubled.
   */
  async function refusedFor<T>(flowId: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (isFirestepError(e) && (e.code === "INVALID_FLOW_STATE" || e.code === "NOT_BLOCKED_ON_INTERRUPT")) {
        const r = await store.get(flowId);
        if (r && (r.status === "scheduled" || r.status === "waiting") && r.wakeAt !== undefined) await core.enqueue(r, r.wakeAt, r.status === "scheduled" ? "start" : "wake");
      }
      throw e;
    }
  }

  /** A read-modify-write through a pure transition; typed errors from the transition leave the store as it was. */
  async function transition(
    flowId: string,
    flow: FlowRef | undefined,
    change: (r: FlowRecord, now: number) => FlowRecord,
    event: HistoryEvent["type"],
  ): Promise<FlowRecord> {
    checkFlowId(flowId);
    const name = flow ? resolveFlow(flow).name : undefined;
    // One read: the flow's name is checked inside the read-modify-write rather than by a read before it.
    const stored = await refusedFor(flowId, () =>
      core.update(flowId, (r) => (name && r.flowName !== name ? undefined : change(r, clock.now())), () => [{ at: clock.now(), type: event }]),
    );
    if (!stored) throw new FlowNotFoundError(flowId, name);
    core.publish(stored, { at: clock.now(), type: event });
    return stored;
  }

  /** The flow's code: as given, else what a delivery of the stored flow would run (its name and version). */
  async function definitionOf(flow: FlowRef | undefined, flowId: string): Promise<Flow> {
    return flow ? resolveFlow(flow) : core.flowFor(await mustGet(flowId));
  }

  /** Cancels the unfinished flows `parent` started with startChild, unless its flow keeps them (cancelChildren: false). */
  async function cancelChildren(parent: FlowRecord): Promise<void> {
    let flow: Flow | undefined;
    try {
      flow = core.flowFor(parent);
    } catch {
      flow = undefined;
    }
    if (flow && !flow.cancelChildren) return;
    const loaded = await store.load(parent.id);
    for (const st of loaded?.steps ?? []) {
      const child = st.kind === "child" && st.ok ? (st.value as { flowId: string; detached?: boolean }) : undefined;
      if (!child || child.detached) continue;
      const r = await store.get(child.flowId);
      if (r && !isFinished(r.status)) {
        try {
          await runtime.cancelFlow(undefined, child.flowId, `parent flow ${parent.id} was cancelled`);
        } catch (e) {
          if (!(isFirestepError(e) && e.code === "INVALID_FLOW_STATE")) throw e;
        }
      }
    }
  }

  const runtime: FlowRuntime = {
    core,

    async scheduleFlow(flowRef, input, delayOrOptions) {
      const flow = resolveFlow(flowRef);
      const opts = parseScheduleOptions(delayOrOptions);
      const delay = opts.delaySeconds ?? 0;
      // Checked and copied: the store takes over the record, and the caller keeps its own object.
      const parsed = storableCopy(`${flow.name} (input)`, parseInput(flow, input), store.maxValueBytes, `The input of flow "${flow.name}"`);
      const now = clock.now();
      const record = newFlowRecord({ id: opts.flowId ?? randomUUID(), flowName: flow.name, ...(flow.version ? { version: flow.version } : {}), input: parsed, now, startAt: now + delay * 1000 });
      if (opts.parentId) record.parentId = opts.parentId;
      if (flow.deadlineSeconds !== undefined) record.deadlineAt = now + (delay + flow.deadlineSeconds) * 1000;
      const { created, record: stored } = await store.create(record, [{ at: now, type: "flow.scheduled", ...(delay ? { detail: `delay ${delay}s` } : {}) }]);
      if (!created) {
        if (stored.flowName !== flow.name || !isDeepStrictEqual(stored.input, parsed)) throw new FlowAlreadyExistsError(record.id);
        if (stored.status === "scheduled" && stored.wakeAt !== undefined) await core.enqueue(stored, stored.wakeAt, "start");
        return toOperation(stored);
      }
      core.metrics.count("flows_started_total", { flow: flow.name });
      core.publish(stored, { at: now, type: "flow.scheduled" });
      await core.enqueue(stored, stored.wakeAt!, "start");
      return toOperation(stored);
    },

    async resumeFlow(flowRef, flowId, payload, options) {
      const { step } = parseResumeOptions(options);
      const copy = storableCopy(`${flowId} (resume payload)`, payload, store.maxValueBytes, `The resume payload for flow "${flowId}"`);
      const stored = await transition(flowId, flowRef, (r, now) => resumeRecord(r, copy, now, step), "flow.resumed");
      if (stored.status === "scheduled") await core.enqueue(stored, stored.wakeAt ?? clock.now(), "resume");
      return toOperation(stored);
    },

    async getFlowState(flowRef, flowId) {
      return toOperation(await mustGet(flowId, resolveFlow(flowRef)));
    },

    async getFlow(flowId) {
      checkFlowId(flowId);
      const loaded = await store.load(flowId);
      if (!loaded) throw new FlowNotFoundError(flowId);
      return { record: loaded.record, steps: cloneData(loaded.steps), history: await store.history(flowId), operation: toOperation(loaded.record) };
    },

    async listFlows(query) {
      const page = await store.list(parseListQuery(query));
      return { ...page, flows: page.flows.filter((f) => f.flowName !== SEMAPHORE_FLOW_NAME) };
    },

    async getFlowHistory(flowRef, flowId) {
      await mustGet(flowId, flowRef);
      return store.history(flowId);
    },

    async pauseFlow(flowRef, flowId) {
      return toOperation(await transition(flowId, flowRef, pauseRecord, "flow.paused"));
    },

    async continueFlow(flowRef, flowId) {
      const stored = await transition(flowId, flowRef, continueRecord, "flow.continued");
      await afterOutcome(core, stored);
      if (stored.status === "scheduled") await core.enqueue(stored, stored.wakeAt ?? clock.now(), "continue");
      // Still held by its runner: the delivery finds the lease and watches it, as for any flow that is
      // running, so the flow is taken over should that runner be gone.
      if (stored.status === "running") await core.enqueue(stored, clock.now(), "continue");
      return toOperation(stored);
    },

    async cancelFlow(flowRef, flowId, reasonArg) {
      const reason = parseCancelReason(reasonArg);
      const stored = await transition(flowId, flowRef, (r, now) => cancelRecord(r, now, reason), "flow.cancelled");
      if (stored.compensating && stored.wakeAt !== undefined && !stored.lease) await core.enqueue(stored, stored.wakeAt, "wake");
      await core.wakeWaiters(stored);
      await cancelChildren(stored);
      return toOperation(stored);
    },

    async retryFlow(flowRef, flowId) {
      const r = await mustGet(flowId, flowRef);
      const next = await refusedFor(flowId, async () => retryRecord(r, clock.now()));
      // The journal is read only for a retry that goes ahead; a change since `r` fails the commit below.
      const plan = retryPlan((await store.load(flowId))?.steps ?? []);
      const stored = await store.commit(flowId, {
        expectRev: r.rev,
        record: { ...next, stepCount: plan.truncateFrom === undefined ? r.stepCount : plan.kept },
        ...(plan.truncateFrom !== undefined ? { truncateFrom: plan.truncateFrom } : {}),
        ...(plan.append.length ? { steps: plan.append } : {}),
        events: [{ at: clock.now(), type: "flow.retried", ...(plan.failed ? { step: plan.failed.key } : {}) }],
      });
      core.publish(stored, { at: clock.now(), type: "flow.retried" });
      await core.enqueue(stored, stored.wakeAt ?? clock.now(), "start");
      return toOperation(stored);
    },

    async deleteFlow(flowRef, flowId) {
      const r = await mustGet(flowId, flowRef);
      assertDeletable(r);
      await store.delete(flowId, r.rev);
      core.warm.drop(flowId);
    },

    async signalFlow(flowRef, flowId, name, payload) {
      const flow = await definitionOf(flowRef, flowId);
      const schema = flow.signals?.[name];
      if (!schema) {
        throw new InvalidArgumentError(`Flow "${flow.name}" declares no signal "${name}". It declares: ${Object.keys(flow.signals ?? {}).join(", ") || "none"}.`);
      }
      const parsed = schema.safeParse(payload);
      if (!parsed.success) throw new InvalidPayloadError(`Signal "${name}" to flow "${flowId}"`, formatIssues(parsed.error));
      const copy = storableCopy(`signal ${name}`, parsed.data, store.maxValueBytes, `The payload of signal "${name}"`);
      const stored = await transition(flowId, flow, (r, now) => signalRecord(r, name, copy, now), "flow.signalled");
      if (stored.status === "scheduled" && stored.wakeAt !== undefined) await core.enqueue(stored, stored.wakeAt, "wake");
      return toOperation(stored);
    },

    async queryFlow<F extends Flow, N extends QueryName<F>>(flowRef: FlowRef<F> | undefined, flowId: string, name: N): Promise<QueryResult<F, N>> {
      checkFlowId(flowId);
      const given = flowRef ? resolveFlow(flowRef) : undefined;
      if (given) queryHandler(given, name); // an undeclared query is refused before any read
      // One read: the record (for the definition, when none is given) and the journal the query reads.
      const loaded = await store.load(flowId);
      if (!loaded || (given && loaded.record.flowName !== given.name)) throw new FlowNotFoundError(flowId, given?.name);
      const handler = queryHandler(given ?? core.flowFor(loaded.record), name);
      const steps: Record<string, unknown> = {};
      for (const st of loaded.steps) if (st.ok && st.kind !== "compensate") steps[st.key] = cloneData(st.value);
      const r = loaded.record;
      // The handler is the one the flow's type declares under `name`, so its result is QueryResult<F, N>.
      return (await handler({ id: r.id, input: r.input, status: r.status, steps, ...(r.output ? { output: r.output.value } : {}) })) as QueryResult<F, N>;
    },

    // App-level calls a flow makes (scheduleFlow before waitFor, as the Genkit doc shows) reach this runtime.
    deliver: (task, meta) => withActiveRuntime(runtime, () => deliverTask(core, task, meta)),
    subscribe: (listener) => core.subscribe(listener),
    async close() {
      core.warm.clear();
      await core.queue.close?.();
      await store.close?.();
    },
  };
  core.startFlow = async (flowName, input, options) => {
    await runtime.scheduleFlow(core.findFlow(flowName), input, options);
  };
  return runtime;
}

function queryHandler(flow: Flow, name: string): NonNullable<Flow["queries"]>[string] {
  const handler = flow.queries?.[name];
  if (!handler) throw new InvalidArgumentError(`Flow "${flow.name}" declares no query "${name}". It declares: ${Object.keys(flow.queries ?? {}).join(", ") || "none"}.`);
  return handler;
}

function checkFlowId(flowId: unknown): asserts flowId is string {
  if (typeof flowId !== "string" || !flowId) throw new InvalidArgumentError(`A flow id (a non-empty string) is required; got ${showValue(flowId)}.`);
}
