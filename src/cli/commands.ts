/**
 * The CLI's commands that read or change flows without loading their code: list, show, history, resume,
 * pause, continue, cancel, retry, delete, purge. Each returns an exit code; errors from the runtime are
 * typed and printed with their code. A change that leaves a flow to run says which command runs it on.
 */
import { InvalidArgumentError } from "../errors.js";
import type { Operation } from "../engine/operation.js";
import type { FlowRuntime } from "../runtime/runtime.js";
import { purgeFinishedFlows } from "../runtime/retention.js";
import { flag, intFlag, parseJsonArg, secondsFlag, statusFlag, type ParsedArgs } from "./args.js";
import { storeFlags } from "./backend.js";
import { EXIT } from "./follow-flow.js";
import { formatDetails, formatList } from "./format.js";
import { commandLine } from "./hints.js";
import type { CommandIO } from "./module-commands.js";

export async function controlCommand(
  rt: FlowRuntime,
  command: string,
  args: ParsedArgs,
  io: CommandIO,
  wakeUpsTo?: (flowName: string) => string,
): Promise<number> {
  const json = flag(args, "json") === "true";
  const out = (human: string, data: unknown) => io.print(json ? JSON.stringify(data, null, 2) : human);
  const id = args.positionals[1]!;
  switch (command) {
    case "list": {
      const status = statusFlag(args);
      const page = await rt.listFlows({
        ...(flag(args, "flow") ? { flowName: flag(args, "flow")! } : {}),
        ...(status ? { status } : {}),
        limit: intFlag(args, "limit", 1, 1000) ?? 50,
        ...(flag(args, "cursor") ? { cursor: flag(args, "cursor")! } : {}),
      });
      out(formatList(page.flows) + (page.cursor ? `\n(more: --cursor ${page.cursor})` : ""), page);
      return EXIT.ok;
    }
    case "show": {
      const d = await rt.getFlow(id);
      out(formatDetails(d), { operation: d.operation, record: d.record, steps: d.steps, history: d.history });
      return EXIT.ok;
    }
    case "history": {
      const h = await rt.getFlowHistory(undefined, id);
      out(h.map((e) => `${new Date(e.at).toISOString()}  ${e.type}${e.step ? ` "${e.step}"` : ""}${e.detail ? ` - ${e.detail}` : ""}`).join("\n"), h);
      return EXIT.ok;
    }
    case "resume": {
      const payload = parseJsonArg("The payload", args.positionals[2]);
      const op = await rt.resumeFlow(undefined, id, payload, flag(args, "step") ? { step: flag(args, "step")! } : undefined);
      out(`Resumed ${id}; it is now ${op.metadata.status}.${carryOnHint(op, args, wakeUpsTo)}`, op);
      return EXIT.ok;
    }
    case "pause":
    case "continue":
    case "cancel":
    case "retry": {
      const call = { pause: rt.pauseFlow, continue: rt.continueFlow, cancel: rt.cancelFlow, retry: rt.retryFlow }[command];
      const op = await call(undefined, id);
      out(`${command}: ${id} is now ${op.metadata.status}.${command === "pause" ? "" : carryOnHint(op, args, wakeUpsTo)}`, op);
      return EXIT.ok;
    }
    case "delete": {
      await rt.deleteFlow(undefined, id);
      out(`Deleted ${id}.`, { deleted: id });
      return EXIT.ok;
    }
    case "purge": {
      const age = secondsFlag(args, "older-than");
      if (age === undefined) throw new InvalidArgumentError("usage: firestep purge --older-than SECONDS [--flow NAME]");
      const result = await purgeFinishedFlows(rt, { finishedOlderThanSeconds: age, ...(flag(args, "flow") ? { flowName: flag(args, "flow")! } : {}) });
      out(`Deleted ${result.deleted} finished flows (of ${result.scanned} scanned).`, result);
      return EXIT.ok;
    }
    default:
      throw new InvalidArgumentError(`Unknown command "${command}". Run firestep --help.`);
  }
}

/**
 * These commands do not load flow code. On Firestore the flow's wake-up went to its deployed function; on
 * files nothing runs a flow they leave to run (now, or when its timer is due) until a command loads its module.
 */
function carryOnHint(op: Operation, args: ParsedArgs, wakeUpsTo?: (flowName: string) => string): string {
  const flowName = op.metadata.flowName;
  if (op.metadata.status === "paused") {
    return `\nIt stays paused until continued: ${commandLine(["firestep", "continue", op.name, ...storeFlags(args)])}   (add --module <file.js> to run it on here)`;
  }
  if (op.metadata.status !== "scheduled" && op.metadata.wakeAt === undefined) return "";
  if (wakeUpsTo) return `\nIts wake-up is enqueued to ${wakeUpsTo(flowName)}; the deployed function "${flowName}" runs it on.`;
  const what = op.metadata.status === "cancelled" ? "Its compensations have not run" : "Nothing runs it";
  return (
    `\n${what} yet: this command did not load the code of flow "${flowName}".` +
    `\nCarry it on with: ${["firestep work <file.js>", commandLine(storeFlags(args))].filter(Boolean).join(" ")}` +
    `   (<file.js>: the compiled module that defines ${flowName}; or add --module <file.js> to this command next time)`
  );
}
