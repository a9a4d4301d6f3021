/**
 * `firestep query`: runs a query the flow declares on its stored journal. The module is loaded for the
 * query's code only: the runtime opened is the one that changes nothing, so a read carries no flow on
 * (no step of any flow runs because someone asked a question).
 */
import { flag, type ParsedArgs } from "./args.js";
import { openControlRuntime } from "./backend.js";
import { EXIT } from "./follow-flow.js";
import { loadFlows, moduleFlowOf, type CommandIO } from "./module-commands.js";
import { jsonQueryResult } from "../runtime/query-result.js";

export async function queryCommand(args: ParsedArgs, env: NodeJS.ProcessEnv, io: CommandIO): Promise<number> {
  const [, flowId, query] = args.positionals as [string, string, string];
  const file = flag(args, "module")!;
  const flows = await loadFlows(file);
  const { runtime } = await openControlRuntime(args, env);
  try {
    const flow = await moduleFlowOf(runtime.core.store, flows, file, flowId);
    // No flow given: the runtime takes the definition of the stored flow's version, which the module just defined.
    const result = jsonQueryResult(flowId, query, await runtime.queryFlow(undefined, flowId, query));
    if (flag(args, "json") === "true") io.print(JSON.stringify({ result }, null, 2));
    else io.print(`Query "${query}" of ${flowId} (${flow.name}): ${result === undefined ? "undefined (no value)" : JSON.stringify(result)}`);
    return EXIT.ok;
  } finally {
    await runtime.close();
  }
}
