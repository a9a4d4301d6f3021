/**
 * What each `firestep` command takes: its positional arguments and its flags. The parser checks a
 * command line against these before anything is opened or changed, so a misspelt flag cannot widen
 * what a command does (a purge of every flow name, a list of every status).
 */

export interface FlagSpec {
  /** The value's placeholder in messages (`--limit N`); absent for a boolean flag. */
  value?: string;
  /** May be given more than once (values used in order). */
  repeat?: boolean;
  /** What the value names, as messages say it ("a flow name"); the placeholder when absent. */
  what?: string;
}

export interface CommandSpec {
  usage: string;
  /** How many positional arguments follow the command's name. */
  positionals: { min: number; max: number };
  /** The first positional is a flow id, checked against the flow-id rule before anything is opened. */
  flowId?: boolean;
  flags: Record<string, FlagSpec>;
}

/** Flags every command takes: which store, and output for scripts. */
export const STORE_FLAGS: Record<string, FlagSpec> = {
  dir: { value: "DIR" },
  backend: { value: "embedded|firestore" },
  project: { value: "PROJECT_ID" },
  collection: { value: "NAME", what: "a Firestore collection name" },
  region: { value: "REGION" },
  json: {},
  help: {},
};

const one = { min: 1, max: 1 };
const flowName: FlagSpec = { value: "NAME", what: "a flow name" };
/** Given with --module, a control command runs the flow on in this process, as run does. */
const carryOn: Record<string, FlagSpec> = { module: { value: "FILE.js" }, answer: { value: "JSON", repeat: true } };

export const COMMANDS: Record<string, CommandSpec> = {
  run: {
    usage: "firestep run <file.js> <flowName> [inputJson] [--answer JSON]... [--id FLOW_ID]",
    positionals: { min: 2, max: 3 },
    flags: { answer: { value: "JSON", repeat: true }, id: { value: "FLOW_ID", what: "a flow id" }, input: { value: "JSON" } },
  },
  work: { usage: "firestep work <file.js>", positionals: one, flags: {} },
  list: {
    usage: "firestep list [--flow NAME] [--status STATUS[,STATUS...]] [--limit N] [--cursor C]",
    positionals: { min: 0, max: 0 },
    flags: { flow: flowName, status: { value: "STATUS[,STATUS...]" }, limit: { value: "N" }, cursor: { value: "C", what: "the cursor a page ended with" } },
  },
  show: { usage: "firestep show <flowId>", positionals: one, flowId: true, flags: {} },
  history: { usage: "firestep history <flowId>", positionals: one, flowId: true, flags: {} },
  resume: {
    usage: "firestep resume <flowId> <payloadJson> [--step NAME] [--module FILE.js [--answer JSON]...]",
    positionals: { min: 1, max: 2 },
    flowId: true,
    flags: { step: { value: "NAME", what: "the name of an interrupt" }, ...carryOn },
  },
  continue: { usage: "firestep continue <flowId> [--module FILE.js [--answer JSON]...]", positionals: one, flowId: true, flags: carryOn },
  retry: { usage: "firestep retry <flowId> [--module FILE.js [--answer JSON]...]", positionals: one, flowId: true, flags: carryOn },
  // --module is required by both (checked before anything is loaded): the signal's schema and the query's handler are the flow's code.
  signal: {
    usage: "firestep signal <flowId> <signal> [payloadJson] --module FILE.js [--answer JSON]...",
    positionals: { min: 2, max: 3 },
    flowId: true,
    flags: carryOn,
  },
  query: { usage: "firestep query <flowId> <query> --module FILE.js", positionals: { min: 2, max: 2 }, flowId: true, flags: { module: carryOn.module! } },
  pause: { usage: "firestep pause <flowId>", positionals: one, flowId: true, flags: {} },
  cancel: { usage: "firestep cancel <flowId> [--module FILE.js]", positionals: one, flowId: true, flags: { module: carryOn.module! } },
  delete: { usage: "firestep delete <flowId>", positionals: one, flowId: true, flags: {} },
  purge: {
    usage: "firestep purge --older-than SECONDS [--flow NAME]",
    positionals: { min: 0, max: 0 },
    flags: { "older-than": { value: "SECONDS" }, flow: flowName },
  },
};

/** Flags that take no value, whatever the command: the parser must know them before it knows the command. */
export const BOOLEAN_FLAGS = new Set(
  [STORE_FLAGS, ...Object.values(COMMANDS).map((c) => c.flags)].flatMap((flags) => Object.entries(flags).filter(([, f]) => !f.value).map(([name]) => name)),
);
