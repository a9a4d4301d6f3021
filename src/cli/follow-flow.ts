/**
 * Follows one flow running in this process until it stops: answers its interrupts from --answer values
 * or, on a terminal, from the prompt, and says how it stopped, with the exit code and a command that
 * carries it on from there. A wait for a signal stops it too: only another command can send one.
 */
import { isFirestepError } from "../errors.js";
import type { Flow } from "../flow.js";
import type { Operation } from "../engine/operation.js";
import type { FlowRuntime } from "../runtime/runtime.js";

export const EXIT = { ok: 0, flowFailed: 1, usage: 2, rejected: 3, waiting: 4, paused: 5 } as const;

export type CarryOnCommand = "resume" | "continue" | "retry" | "cancel" | "signal";

export interface FollowOptions {
  runtime: FlowRuntime;
  flow: Flow;
  flowId: string;
  /** Interrupt answers, already parsed, used in order. */
  answers: unknown[];
  /** Asks a person for an interrupt payload; resolves undefined when they give none (Ctrl+D). */
  prompt?: (question: string) => Promise<string | undefined>;
  print: (line: string) => void;
  json: boolean;
  /** The command line that carries this flow on with `command` (for "signal": sending `signal`), as a user can type it. */
  hint: (command: CarryOnCommand, signal?: string) => string;
}

export interface FollowResult {
  exitCode: number;
  operation: Operation;
  /** The last thing to print: how the flow stopped and what to do next (the operation, with --json). */
  summary: string;
}

export async function followFlow(o: FollowOptions): Promise<FollowResult> {
  const { runtime, flow, flowId } = o;
  const answers = [...o.answers];
  for (;;) {
    const state = await waitUntilStopped(runtime, flow, flowId);
    const stopped = (exitCode: number, human: string): FollowResult => ({ exitCode, operation: state, summary: o.json ? JSON.stringify(state) : human });
    if (state.done) {
      const r = state.result;
      if (r && "response" in r) return stopped(EXIT.ok, `Succeeded: ${JSON.stringify(r.response)}`);
      const error = `${r?.error.code}: ${r?.error.message}`;
      if (state.metadata.status === "cancelled") return stopped(EXIT.flowFailed, `Cancelled: ${error}`);
      return stopped(EXIT.flowFailed, `Failed: ${error}\nRetry it with: ${o.hint("retry")}`);
    }
    if (state.metadata.status === "paused") return stopped(EXIT.paused, `Flow ${flowId} was paused; continue it with: ${o.hint("continue")}`);
    const signal = awaitedSignal(state);
    if (signal !== undefined && !state.blockedOnStep) return stopped(EXIT.waiting, `Waiting for signal "${signal}".\nSend it with: ${o.hint("signal", signal)}`);
    const blocked = state.blockedOnStep!;
    const expects = describeSchema(blocked.schema);
    let payload: unknown;
    if (answers.length) payload = answers.shift();
    else {
      const text = await o.prompt?.(`Interrupt "${blocked.name}" expects ${expects}\nJSON payload> `);
      if (text === undefined) return stopped(EXIT.waiting, `Waiting for interrupt "${blocked.name}", which expects ${expects}.\nAnswer it with: ${o.hint("resume")}`);
      try {
        payload = JSON.parse(text);
      } catch (e) {
        o.print(`Not JSON (${(e as Error).message}); try again, or press Ctrl+D to leave the flow waiting.`);
        continue;
      }
    }
    try {
      await runtime.resumeFlow(flow, flowId, payload);
      if (!o.json) o.print(`  resumed "${blocked.name}" with ${JSON.stringify(payload)}`);
    } catch (e) {
      if (!isFirestepError(e)) throw e;
      // With --json, stdout is the operation alone: a rejected answer is said on stderr.
      (o.json ? console.error : o.print)(`Rejected (${e.code}): ${e.message}`);
      if (!o.prompt && answers.length === 0) {
        const now = await runtime.getFlowState(flow, flowId);
        return { exitCode: EXIT.rejected, operation: now, summary: o.json ? JSON.stringify(now) : `Nothing was changed. Answer it with: ${o.hint("resume")}` };
      }
    }
  }
}

/** The signal a waiting flow waits for, if any (a signal it already has is in its inbox, and it would not be waiting). */
function awaitedSignal(op: Operation): string | undefined {
  if (op.metadata.status !== "waiting") return undefined;
  const wait = op.metadata.waitingFor?.find((w) => w.kind === "signal");
  return wait?.kind === "signal" ? wait.name : undefined;
}

/** The interrupt's JSON schema, without the `$schema` line that tells a person nothing. */
function describeSchema(schema: unknown): string {
  if (schema === null || typeof schema !== "object") return JSON.stringify(schema ?? {});
  const { $schema: _dialect, ...rest } = schema as Record<string, unknown>;
  return JSON.stringify(rest);
}

const STOPS = new Set(["flow.suspended", "flow.succeeded", "flow.failed", "flow.cancelled", "flow.paused"]);

/** The flow's state once it is finished, paused, or waiting for an interrupt or a signal; another process may have changed it. */
async function waitUntilStopped(runtime: FlowRuntime, flow: Flow, id: string): Promise<Operation> {
  for (;;) {
    let wake = () => {};
    const woke = new Promise<void>((resolve) => (wake = resolve));
    const unsubscribe = runtime.subscribe((e) => e.flowId === id && STOPS.has(e.type) && wake());
    // Changes made by another process (pause, cancel) publish no event here.
    const timer = setTimeout(wake, 250);
    try {
      const state = await runtime.getFlowState(flow, id);
      if (state.done || state.blockedOnStep || state.metadata.status === "paused" || awaitedSignal(state) !== undefined) return state;
      await woke;
    } finally {
      unsubscribe();
      clearTimeout(timer);
    }
  }
}
