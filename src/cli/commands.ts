/**
 * The CLI's commands over a runtime: run, list, show, history, resume, pause, continue, cancel, retry,
 * delete. Each returns an exit code; errors from the runtime are typed and printed with their code.
 */
import { createInterface } from "node:readline/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isFlow, registeredFlows, type Flow } from "../flow.js";
import type { FlowStatus } from "../schemas.js";
import { FLOW_STATUSES } from "../schemas.js";
import type { FlowRuntime } from "../runtime/runtime.js";
import { purgeFinishedFlows } from "../runtime/retention.js";
import { flag, flags, parseJsonArg, UsageError, type ParsedArgs } from "./args.js";
import { formatDetails, formatList } from "./format.js";
import { EXIT, runFlowLocally } from "./run-flow.js";

export interface CommandIO {
  print: (line: string) => void;
  stdinIsTTY: boolean;
}

export async function loadFlows(file: string): Promise<Flow[]> {
  if (/\.(c|m)?ts$/.test(file)) {
    throw new UsageError(`${file} is TypeScript: compile it first (tsc) and pass the .js file, or run: node --import tsx $(which firestep) run ${file} ...`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`Could not load ${file}: ${(e as Error).message}`);
  }
  const found = Object.values(mod).flatMap((v) => (isFlow(v) ? [v] : isFlow((v as { flow?: unknown } | null)?.flow) ? [(v as { flow: Flow }).flow] : []));
  return found.length ? found : registeredFlows();
}

export async function runCommand(rt: FlowRuntime, args: ParsedArgs, io: CommandIO): Promise<number> {
  const [, file, flowName, inputText] = args.positionals;
  if (!file || !flowName) throw new UsageError("usage: firestep run <file.js> <flowName> [inputJson] [--answer JSON]... [--id FLOW_ID]");
  const flows = await loadFlows(file);
  const flow = flows.find((f) => f.name === flowName);
  if (!flow) throw new UsageError(`${file} defines no flow named "${flowName}". It defines: ${flows.map((f) => f.name).join(", ") || "none"}.`);
  const json = flag(args, "json") === "true";
  const rl = io.stdinIsTTY && !json ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;
  try {
    const { exitCode } = await runFlowLocally({
      runtime: rt,
      flow,
      input: parseJsonArg("The input", inputText ?? flag(args, "input")),
      answers: flags(args, "answer"),
      ...(rl ? { prompt: (q: string) => rl.question(q) } : {}),
      print: io.print,
      json,
      ...(flag(args, "id") ? { flowId: flag(args, "id")! } : {}),
    });
    return exitCode;
  } finally {
    rl?.close();
  }
}

export async function controlCommand(rt: FlowRuntime, command: string, args: ParsedArgs, io: CommandIO): Promise<number> {
  const json = flag(args, "json") === "true";
  const out = (human: string, data: unknown) => io.print(json ? JSON.stringify(data, null, 2) : human);
  const id = args.positionals[1];
  const needId = () => {
    if (!id) throw new UsageError(`usage: firestep ${command} <flowId>${command === "resume" ? " <payloadJson> [--step NAME]" : ""}`);
    return id;
  };
  switch (command) {
    case "list": {
      const status = flag(args, "status");
      if (status && !FLOW_STATUSES.includes(status as FlowStatus)) throw new UsageError(`--status must be one of ${FLOW_STATUSES.join(", ")}.`);
      const limit = flag(args, "limit") ? Number(flag(args, "limit")) : 50;
      const page = await rt.listFlows({
        ...(flag(args, "flow") ? { flowName: flag(args, "flow")! } : {}),
        ...(status ? { status: status as FlowStatus } : {}),
        limit,
        ...(flag(args, "cursor") ? { cursor: flag(args, "cursor")! } : {}),
      });
      out(formatList(page.flows) + (page.cursor ? `\n(more: --cursor ${page.cursor})` : ""), page);
      return EXIT.ok;
    }
    case "show": {
      const d = await rt.getFlow(needId());
      out(formatDetails(d), { operation: d.operation, record: d.record, steps: d.steps, history: d.history });
      return EXIT.ok;
    }
    case "history": {
      const h = await rt.getFlowHistory(undefined, needId());
      out(h.map((e) => `${new Date(e.at).toISOString()}  ${e.type}${e.step ? ` "${e.step}"` : ""}${e.detail ? ` - ${e.detail}` : ""}`).join("\n"), h);
      return EXIT.ok;
    }
    case "resume": {
      const payload = parseJsonArg("The payload", args.positionals[2]);
      const op = await rt.resumeFlow(undefined, needId(), payload, flag(args, "step") ? { step: flag(args, "step")! } : undefined);
      out(`Resumed ${id}; it is ${op.metadata.status}.`, op);
      return EXIT.ok;
    }
    case "pause":
    case "continue":
    case "cancel":
    case "retry": {
      const call = { pause: rt.pauseFlow, continue: rt.continueFlow, cancel: rt.cancelFlow, retry: rt.retryFlow }[command];
      const op = await call(undefined, needId());
      out(`${command}: ${id} is now ${op.metadata.status}.`, op);
      return EXIT.ok;
    }
    case "delete": {
      await rt.deleteFlow(undefined, needId());
      out(`Deleted ${id}.`, { deleted: id });
      return EXIT.ok;
    }
    case "purge": {
      const age = Number(flag(args, "older-than"));
      if (!flag(args, "older-than") || !(age >= 0)) throw new UsageError("usage: firestep purge --older-than SECONDS [--flow NAME]");
      const result = await purgeFinishedFlows(rt, { finishedOlderThanSeconds: age, ...(flag(args, "flow") ? { flowName: flag(args, "flow")! } : {}) });
      out(`Deleted ${result.deleted} finished flows (of ${result.scanned} scanned).`, result);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`Unknown command "${command}". Run firestep --help.`);
  }
}

