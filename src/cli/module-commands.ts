/**
 * The commands that load a flow module and run flows in this process on the embedded runtime: `run`,
 * `work`, `signal`, and `resume`/`continue`/`retry`/`cancel` given `--module`. The module is loaded
 * before the runtime is opened, so recovery carries on that module's due flows too; before the command
 * ends it lets every due flow reach its next suspension, so none is cut off in the middle of a step.
 */
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { pathToFileURL } from "node:url";
import { FlowNotFoundError, InvalidArgumentError } from "../errors.js";
import { isFlow, registeredFlows, type Flow } from "../flow.js";
import type { FlowStore } from "../ports.js";
import type { EmbeddedRuntime } from "../runtime/embedded-runtime.js";
import type { FlowEvent } from "../runtime/runtime-core.js";
import { isFinished, type FlowRecord } from "../schemas.js";
import { flag, flowIdFlag, parseAnswers, parseJsonArg, type ParsedArgs } from "./args.js";
import { openModuleRuntime, storeFlags } from "./backend.js";
import { EXIT, followFlow, type CarryOnCommand, type FollowResult } from "./follow-flow.js";
import { describeWait, formatEvent } from "./format.js";
import { commandLine } from "./hints.js";

export interface CommandIO {
  print: (line: string) => void;
  stdinIsTTY: boolean;
}

export async function loadFlows(file: string): Promise<Flow[]> {
  if (/\.(c|m)?ts$/.test(file)) {
    throw new InvalidArgumentError(`${file} is TypeScript: compile it first (tsc) and pass the .js file, or run: node --import tsx $(which firestep) run ${file} ...`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new InvalidArgumentError(`Could not load ${file}: ${(e as Error).message}`);
  }
  const found = Object.values(mod).flatMap((v) => (isFlow(v) ? [v] : isFlow((v as { flow?: unknown } | null)?.flow) ? [(v as { flow: Flow }).flow] : []));
  return found.length ? found : registeredFlows();
}

function pick(flows: Flow[], file: string, name: string, what = ""): Flow {
  const flow = flows.find((f) => f.name === name);
  if (!flow) throw new InvalidArgumentError(`${file} defines no flow named "${name}"${what}. It defines: ${flows.map((f) => f.name).join(", ") || "none"}.`);
  return flow;
}

/** The stored flow's definition among `flows` (the module's): a module that lacks it is a usage error. */
export async function moduleFlowOf(store: FlowStore, flows: Flow[], file: string, flowId: string): Promise<Flow> {
  const record = await store.get(flowId);
  if (!record) throw new FlowNotFoundError(flowId);
  return pick(flows, file, record.flowName, ` (the flow of ${flowId})`);
}

export async function runCommand(args: ParsedArgs, env: NodeJS.ProcessEnv, io: CommandIO): Promise<number> {
  const [, file, flowName, inputText] = args.positionals as [string, string, string, string?];
  if (inputText !== undefined && flag(args, "input") !== undefined) throw new InvalidArgumentError("Give the input once: as the third argument or as --input, not both.");
  const input = parseJsonArg("The input", inputText ?? flag(args, "input"));
  const answers = parseAnswers(args);
  const flowId = flowIdFlag(args) ?? randomUUID();
  const flow = pick(await loadFlows(file), file, flowName);
  return withModuleRuntime(args, env, io, flowId, async () => undefined, async (rt) => {
    if (!json(args)) io.print(`Starting ${flow.name} as ${flowId}`);
    await rt.scheduleFlow(flow, input, { flowId });
    return follow(rt, args, io, file, flow, flowId, answers);
  });
}

/**
 * `resume`, `continue`, `retry` or `cancel` with --module: records the change, then runs the flow on as
 * `run` does (a cancelled flow: its compensations). The change is made before recovery, so one refused (a
 * payload the interrupt's schema rejects, a flow in the wrong state) has carried nothing on.
 */
export async function carryOnCommand(command: Exclude<CarryOnCommand, "signal">, args: ParsedArgs, env: NodeJS.ProcessEnv, io: CommandIO): Promise<number> {
  const [, flowId] = args.positionals as [string, string];
  const file = flag(args, "module")!;
  const payload = command === "resume" ? parseJsonArg("The payload", args.positionals[2]) : undefined;
  const answers = parseAnswers(args);
  const flows = await loadFlows(file);
  const change = async (rt: EmbeddedRuntime) => {
    const flow = await moduleFlowOf(rt.core.store, flows, file, flowId);
    if (command === "cancel") await rt.cancelFlow(flow, flowId);
    else if (command === "resume") await rt.resumeFlow(flow, flowId, payload, flag(args, "step") ? { step: flag(args, "step")! } : undefined);
    else await (command === "continue" ? rt.continueFlow : rt.retryFlow)(flow, flowId);
    if (!json(args)) io.print(`${{ resume: "Resuming", continue: "Continuing", retry: "Retrying", cancel: "Cancelling" }[command]} ${flowId} (${flow.name})`);
    return flow;
  };
  return withModuleRuntime(args, env, io, flowId, change, async (rt, _seen, flow) => {
    if (command !== "cancel") return follow(rt, args, io, file, flow, flowId, answers);
    await rt.idle();
    const state = await rt.getFlowState(flow, flowId);
    return { exitCode: EXIT.ok, summary: json(args) ? JSON.stringify(state) : `cancel: ${flowId} is now ${state.metadata.status}.` };
  });
}

/**
 * `signal` (always with --module: the payload is checked against the schema the flow's code declares):
 * sends the signal, then runs the flow on as `run` does. The signal is sent before recovery, so one
 * refused (not declared, a payload the schema rejects, a finished flow) has carried nothing on.
 */
export async function signalCommand(args: ParsedArgs, env: NodeJS.ProcessEnv, io: CommandIO): Promise<number> {
  const [, flowId, signal, payloadText] = args.positionals as [string, string, string, string?];
  const file = flag(args, "module")!;
  const payload = parseJsonArg("The payload", payloadText);
  const answers = parseAnswers(args);
  const flows = await loadFlows(file);
  const send = async (rt: EmbeddedRuntime) => {
    const flow = await moduleFlowOf(rt.core.store, flows, file, flowId);
    // No flow given: the runtime takes the definition it runs this flow with (its version, from the module just loaded).
    await rt.signalFlow(undefined, flowId, signal, payload);
    if (!json(args)) io.print(`Signalling ${flowId} (${flow.name}): "${signal}"`);
    return flow;
  };
  return withModuleRuntime(args, env, io, flowId, send, (rt, _seen, flow) => follow(rt, args, io, file, flow, flowId, answers));
}

/**
 * `work`: carries on the module's due flows as `run` carries on its flow: through sleeps, polls and retry
 * backoffs, until each is finished, paused, or waiting for an interrupt, a signal or other flows.
 */
export async function workCommand(args: ParsedArgs, env: NodeJS.ProcessEnv, io: CommandIO): Promise<number> {
  const file = args.positionals[1]!;
  await loadFlows(file);
  return withModuleRuntime(args, env, io, undefined, async () => undefined, async (rt, seen) => {
    const flows = await settle(rt, seen);
    const summary = json(args)
      ? JSON.stringify({ flows: flows.map((r) => ({ id: r.id, flowName: r.flowName, status: r.status })) })
      : flows.length
        ? `Carried on ${flows.length} flow${flows.length === 1 ? "" : "s"}:\n${flows.map((r) => `  ${r.id} (${r.flowName}): ${describeWait(r)}`).join("\n")}`
        : `No flow of ${file} was due. A flow sleeping until later is carried on by a command that loads this module after its time.`;
    // As for run: 1 when a flow it carried on failed, so a script can tell.
    return { exitCode: flows.some((r) => r.status === "failed") ? EXIT.flowFailed : EXIT.ok, summary };
  });
}

/** Waits until nothing is due and every flow that ran here has stopped for something other than time. */
async function settle(rt: EmbeddedRuntime, seen: ReadonlySet<string>): Promise<FlowRecord[]> {
  for (;;) {
    await rt.idle();
    const records = (await Promise.all([...seen].map((id) => rt.core.store.get(id)))).filter((r): r is FlowRecord => r !== undefined);
    if (records.every(stopped)) return records;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function stopped(r: FlowRecord): boolean {
  return isFinished(r.status) || r.status === "paused" || (r.status === "waiting" && r.waits.some((w) => w.kind === "interrupt" || w.kind === "signal" || w.kind === "flows"));
}

/**
 * Opens the embedded runtime (after `check`, recovering the loaded module's flows), prints events as they happen (the
 * followed flow's plainly, others' after their id), runs `body` with the ids of the flows that ran here,
 * then lets due work finish before printing the body's summary last. The events of `check` are printed
 * once it has passed, so a change it prints only once accepted still comes before them.
 */
async function withModuleRuntime<T>(
  args: ParsedArgs,
  env: NodeJS.ProcessEnv,
  io: CommandIO,
  followed: string | undefined,
  check: (rt: EmbeddedRuntime) => Promise<T>,
  body: (rt: EmbeddedRuntime, seen: ReadonlySet<string>, checked: T) => Promise<Pick<FollowResult, "exitCode" | "summary">>,
): Promise<number> {
  const seen = new Set<string>();
  const print = (e: FlowEvent) => {
    if (!json(args)) io.print(e.flowId === followed ? `  ${formatEvent(e)}` : `  ${e.flowId} ${formatEvent(e)}`);
  };
  let held: FlowEvent[] | undefined = [];
  const onEvent = (e: FlowEvent) => {
    seen.add(e.flowId);
    if (held) held.push(e);
    else print(e);
  };
  let checked: T | undefined;
  const rt = await openModuleRuntime(args, env, onEvent, async (r) => {
    checked = await check(r);
    const events = held!;
    held = undefined;
    events.forEach(print);
  });
  let result: Pick<FollowResult, "exitCode" | "summary">;
  try {
    result = await body(rt, seen, checked as T);
  } finally {
    // Also after an error: closing while a recovered flow runs a step would leave it to wait out its lease.
    await rt.idle();
    await rt.close();
  }
  io.print(result.summary);
  return result.exitCode;
}

async function follow(rt: EmbeddedRuntime, args: ParsedArgs, io: CommandIO, file: string, flow: Flow, flowId: string, answers: unknown[]): Promise<FollowResult> {
  const rl = io.stdinIsTTY && !json(args) ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;
  try {
    return await followFlow({
      runtime: rt,
      flow,
      flowId,
      answers,
      ...(rl ? { prompt: (q: string) => ask(rl, q) } : {}),
      print: io.print,
      json: json(args),
      hint: (command, signal) =>
        commandLine(["firestep", command, flowId, ...(command === "resume" ? ["<json>"] : command === "signal" ? [signal!, "<json>"] : []), "--module", file, ...storeFlags(args)]),
    });
  } finally {
    rl?.close();
  }
}

/** Ctrl+D or Ctrl+C at the prompt means no answer: the flow stays waiting, as when nobody is at a terminal. */
async function ask(rl: ReturnType<typeof createInterface>, question: string): Promise<string | undefined> {
  try {
    return await rl.question(question);
  } catch (e) {
    if ((e as { code?: unknown }).code !== "ABORT_ERR") throw e;
    process.stdout.write("\n");
    return undefined;
  }
}

function json(args: ParsedArgs): boolean {
  return flag(args, "json") === "true";
}
