/**
 * Child flows as memoized steps: `startChild` starts another flow under an id derived from the parent's
 * id and the step's key (so a replay finds the same child), `awaitFlows` waits for children to finish.
 * A finishing child wakes its parent through the queue; cancelling the parent cancels its children
 * unless the parent's flow says `cancelChildren: false` or the child was started `detached`.
 */
import { createHash } from "node:crypto";
import { InvalidArgumentError, NotConfiguredError } from "../errors.js";
import { parseInput, resolveFlow, type Flow, type FlowInput, type FlowOutput, type FlowRef } from "../flow.js";
import { currentContext } from "./invocation-context.js";
import type { Operation } from "./operation.js";
import { journalValue } from "./steps.js";
import { waitFor } from "./waiting-steps.js";

export interface ChildHandle<F extends Flow = Flow> {
  flowId: string;
  flowName: string;
  detached?: boolean;
  /** Type only: the child's flow. */
  readonly __flow?: F;
}

/** Starts `flow` with `input` as a child of this flow; returns a handle to await it with `awaitFlows`. */
export async function startChild<F extends Flow>(name: string, flowRef: FlowRef<F>, input: FlowInput<F>, options: { detached?: boolean } = {}): Promise<ChildHandle<F>> {
  const ctx = currentContext("startChild");
  const flow = resolveFlow(flowRef);
  return ctx.activity.track(
    (async () => {
      const { key, call, done } = ctx.nextCall(name, "child");
      if (done) return journalValue<ChildHandle<F>>(done);
      if (!ctx.io.startFlow) throw new NotConfiguredError("This runtime cannot start child flows.");
      parseInput(flow, input);
      const flowId = childId(ctx.record.id, key);
      const now = ctx.io.now();
      await ctx.io.startFlow(flow.name, input, { flowId, parentId: ctx.record.id });
      const handle: ChildHandle<F> = { flowId, flowName: flow.name, ...(options.detached ? { detached: true } : {}) };
      const step = ctx.newStep({ call, key, name, kind: "child", ok: true, value: handle, attempts: 1, startedAt: now, endedAt: ctx.io.now() });
      ctx.event({ type: "step.completed", step: key, detail: `started ${flow.name} ${flowId}` });
      await ctx.persist(step);
      return journalValue<ChildHandle<F>>(step);
    })(),
  );
}

/** Waits until the child flows finish; returns their operations in the same order. */
export async function awaitFlows<F extends Flow>(name: string, handles: Array<ChildHandle<F>>): Promise<Array<Operation<FlowOutput<F>>>> {
  if (!Array.isArray(handles) || handles.some((h) => typeof h?.flowId !== "string")) {
    throw new InvalidArgumentError(`awaitFlows("${name}") needs the handles returned by startChild.`);
  }
  return waitFor(name, undefined as unknown as F, handles.map((h) => h.flowId));
}

/** A child's id: the parent's id and a hash of the step key, within the flow id alphabet and length. */
function childId(parentId: string, key: string): string {
  const h = createHash("sha256").update(key).digest("base64url").replace(/[^A-Za-z0-9]/g, "").slice(0, 12);
  const prefix = parentId.length > 100 ? createHash("sha256").update(parentId).digest("hex").slice(0, 32) : parentId;
  return `${prefix}.c-${h}`;
}
