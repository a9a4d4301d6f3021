/**
 * `firestep run`: executes a flow on an embedded runtime in this process, printing step progress live
 * and answering interrupts from --answer values or, on a terminal, from the prompt.
 */
import { isFirestepError } from "../errors.js";
import type { Flow } from "../flow.js";
import type { Operation } from "../engine/operation.js";
import type { FlowRuntime } from "../runtime/runtime.js";
import { formatEvent } from "./format.js";
import { UsageError } from "./args.js";

export interface RunFlowOptions {
  runtime: FlowRuntime;
  flow: Flow;
  input: unknown;
  /** Interrupt answers (JSON text), used in order. */
  answers: string[];
  /** Asks a person for an interrupt payload; undefined when nobody can answer. */
  prompt?: (question: string) => Promise<string | undefined>;
  print: (line: string) => void;
  json: boolean;
  flowId?: string;
}

export const EXIT = { ok: 0, flowFailed: 1, usage: 2, rejected: 3, waiting: 4 } as const;

export async function runFlowLocally(o: RunFlowOptions): Promise<{ exitCode: number; operation: Operation }> {
  const { runtime, flow } = o;
  let flowId = "";
  let notify: (() => void) | undefined;
  const unsubscribe = runtime.subscribe((e) => {
    if (e.flowId !== flowId && flowId) return;
    if (!o.json) o.print(`  ${formatEvent(e)}`);
    if (["flow.suspended", "flow.succeeded", "flow.failed", "flow.cancelled"].includes(e.type)) notify?.();
  });
  try {
    const op = await runtime.scheduleFlow(flow, o.input, o.flowId ? { flowId: o.flowId } : undefined);
    flowId = op.name;
    if (!o.json) o.print(`Started ${flow.name} as ${flowId}`);
    for (;;) {
      const state = await waitUntilSettled(runtime, flow, flowId, (n) => (notify = n));
      if (state.done) {
        if (o.json) o.print(JSON.stringify(state));
        else if (state.result && "response" in state.result) o.print(`Succeeded: ${JSON.stringify(state.result.response)}`);
        else o.print(`Failed: ${state.result?.error.code}: ${state.result?.error.message}`);
        return { exitCode: state.result && "response" in state.result ? EXIT.ok : EXIT.flowFailed, operation: state };
      }
      const blocked = state.blockedOnStep!;
      const answer = o.answers.shift() ?? (await o.prompt?.(`Interrupt "${blocked.name}" expects ${JSON.stringify(blocked.schema ?? {})}\nJSON payload> `));
      if (answer === undefined) {
        if (o.json) o.print(JSON.stringify(state));
        else o.print(`Waiting for interrupt "${blocked.name}". Answer it with: firestep resume ${flowId} '<json>'`);
        return { exitCode: EXIT.waiting, operation: state };
      }
      let payload: unknown;
      try {
        payload = JSON.parse(answer);
      } catch (e) {
        o.print(`Not JSON (${(e as Error).message}); try again.`);
        if (!o.prompt) throw new UsageError(`--answer ${answer} is not valid JSON.`);
        continue;
      }
      try {
        await runtime.resumeFlow(flow, flowId, payload);
        if (!o.json) o.print(`  resumed "${blocked.name}" with ${JSON.stringify(payload)}`);
      } catch (e) {
        if (!isFirestepError(e)) throw e;
        o.print(`Rejected (${e.code}): ${e.message}`);
        if (!o.prompt && o.answers.length === 0) return { exitCode: EXIT.rejected, operation: await runtime.getFlowState(flow, flowId) };
      }
    }
  } finally {
    unsubscribe();
  }
}

async function waitUntilSettled(runtime: FlowRuntime, flow: Flow, id: string, onNotify: (n: () => void) => void): Promise<Operation> {
  for (;;) {
    const woke = new Promise<void>((resolve) => {
      onNotify(resolve);
      setTimeout(resolve, 250);
    });
    const state = await runtime.getFlowState(flow, id);
    if (state.done || state.blockedOnStep || state.metadata.status === "paused") return state;
    await woke;
  }
}
