/** The `firestep` command line: run flows locally and steer flows in any store. */
import { isFirestepError } from "../errors.js";
import { parseArgs, UsageError } from "./args.js";
import { openRuntime } from "./backend.js";
import { controlCommand, runCommand } from "./commands.js";
import { EXIT } from "./run-flow.js";

const HELP = `firestep - durable, step-memoized flows

Usage:
  firestep run <file.js> <flowName> [inputJson] [--answer JSON]... [--id FLOW_ID]
      Runs a flow on the embedded runtime in this process, printing steps as they run.
      Interrupts are answered from --answer values in order, else asked at the prompt.
  firestep list [--flow NAME] [--status STATUS] [--limit N] [--cursor C]
  firestep show <flowId>          status, steps and history
  firestep history <flowId>
  firestep resume <flowId> <payloadJson> [--step NAME]
  firestep pause|continue|cancel|retry|delete <flowId>
  firestep purge --older-than SECONDS [--flow NAME]   delete finished flows older than that

Store (every command):
  --dir DIR                 embedded file store (default: $FIRESTEP_DIR or ./.firestep)
  --backend firestore       use Firestore instead (--project ID or $GCLOUD_PROJECT; honours
                            $FIRESTORE_EMULATOR_HOST; --collection NAME)
  --json                    machine-readable output

Exit codes: 0 ok, 1 the flow failed or was cancelled, 2 usage error, 3 rejected (bad state,
bad payload, not found), 4 the flow is waiting for an interrupt.
`;

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, print: (l: string) => void = (l) => console.log(l)): Promise<number> {
  try {
    const args = parseArgs(argv);
    const command = args.positionals[0];
    if (!command || args.flags.has("help")) {
      print(HELP);
      return command || args.flags.has("help") ? EXIT.ok : EXIT.usage;
    }
    const rt = await openRuntime(args, env, command === "run");
    try {
      const io = { print, stdinIsTTY: Boolean(process.stdin.isTTY) };
      return command === "run" ? await runCommand(rt, args, io) : await controlCommand(rt, command, args, io);
    } finally {
      await rt.close();
    }
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`firestep: ${e.message}`);
      return EXIT.usage;
    }
    if (isFirestepError(e)) {
      console.error(`firestep: ${e.code}: ${e.message}`);
      return EXIT.rejected;
    }
    throw e;
  }
}

