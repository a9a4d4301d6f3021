/** The `firestep` command line: run flows locally and steer flows in any store. */
import { InvalidArgumentError, isFirestepError } from "../errors.js";
import { checkArgs, flag, parseArgs } from "./args.js";
import { openControlRuntime } from "./backend.js";
import { controlCommand } from "./commands.js";
import { EXIT } from "./follow-flow.js";
import { COMMANDS } from "./command-specs.js";
import { carryOnCommand, runCommand, signalCommand, workCommand } from "./module-commands.js";
import { queryCommand } from "./query-command.js";

const HELP = `firestep - durable, step-memoized flows

Usage:
  firestep run <file.js> <flowName> [inputJson] [--answer JSON]... [--id FLOW_ID]
      Runs a flow on the embedded runtime in this process, printing steps as they run, until it
      finishes, is paused, or waits for an interrupt or a signal. Interrupts are answered from
      --answer values in order, else asked at the prompt (Ctrl+D leaves the flow waiting).
  firestep work <file.js>
      Carries on the flows of that module that are due (resumed, retried, woken) to their next
      suspension or end, then exits.
  firestep list [--flow NAME] [--status STATUS[,STATUS...]] [--limit N] [--cursor C]
      Newest first; --status takes one status or several, comma-separated.
  firestep show <flowId>          status, steps and history
  firestep history <flowId>
  firestep resume <flowId> <payloadJson> [--step NAME] [--module FILE.js [--answer JSON]...]
  firestep continue|retry <flowId> [--module FILE.js [--answer JSON]...]
      With --module, the flow then runs on in this process, as with run. Without it the change is
      recorded and the flow runs on at the next command that loads its module (run, work, --module).
  firestep cancel <flowId> [--module FILE.js]
      Compensations of the steps it ran run in this process with --module, else at the next
      command that loads its module.
  firestep signal <flowId> <signal> [payloadJson] --module FILE.js [--answer JSON]...
      Sends a signal the flow declares (the payload is checked against its schema, so the module is
      needed), then runs the flow on in this process, as with run.
  firestep query <flowId> <query> --module FILE.js
      Runs a query the flow declares on its journal and prints the result; runs no flow.
  firestep pause|delete <flowId>
  firestep purge --older-than SECONDS [--flow NAME]   delete finished flows older than that

A command that loads a module (run, work, signal, --module; not query) also carries on that module's
due flows.

Store (every command):
  --dir DIR                 embedded file store (default: $FIRESTEP_DIR or ./.firestep)
  --backend firestore       use Firestore instead (--project ID or $GCLOUD_PROJECT; honours
                            $FIRESTORE_EMULATOR_HOST; --collection NAME); wake-ups go to the
                            deployed task functions through Cloud Tasks, in --region REGION
                            (or $FIRESTEP_REGION; default us-central1)
  --json                    machine-readable output

Exit codes: 0 ok, 1 the flow failed or was cancelled, 2 usage error (nothing was done), 3 rejected
(bad state, bad payload, not found; nothing was changed), 4 the flow is waiting for an interrupt
or a signal, 5 the flow was paused.
`;

/** Why a command cannot do without the flow's code. */
const NEEDS_CODE = {
  signal: "a signal's payload is checked against the schema the flow declares for it, which only its code holds. Nothing was sent.",
  query: "a query is a function in the flow's definition.",
};

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, print: (l: string) => void = (l) => console.log(l)): Promise<number> {
  try {
    const args = parseArgs(argv);
    const command = args.positionals[0];
    if (!command || args.flags.has("help")) {
      print(HELP);
      return command || args.flags.has("help") ? EXIT.ok : EXIT.usage;
    }
    checkArgs(command, args);
    const io = { print, stdinIsTTY: Boolean(process.stdin.isTTY) };
    if (command === "run") return await runCommand(args, env, io);
    if (command === "work") return await workCommand(args, env, io);
    if (command === "signal" || command === "query") {
      if (flag(args, "module") === undefined) throw new InvalidArgumentError(`firestep ${command} needs --module FILE.js, the compiled module that defines the flow: ${NEEDS_CODE[command]} usage: ${COMMANDS[command]!.usage}`);
      return await (command === "signal" ? signalCommand : queryCommand)(args, env, io);
    }
    if (command === "resume" || command === "continue" || command === "retry" || command === "cancel") {
      if (flag(args, "module") !== undefined) return await carryOnCommand(command, args, env, io);
      if (args.flags.has("answer")) throw new InvalidArgumentError(`--answer needs --module FILE.js: without the flow's code, firestep ${command} cannot run the flow on to its next interrupt.`);
    }
    const { runtime, wakeUpsTo } = await openControlRuntime(args, env);
    try {
      return await controlCommand(runtime, command, args, io, wakeUpsTo);
    } finally {
      await runtime.close();
    }
  } catch (e) {
    // INVALID_ARGUMENT: something on the command line is malformed (the CLI's own checks, or the runtime's).
    if (isFirestepError(e) && e.code === "INVALID_ARGUMENT") {
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
