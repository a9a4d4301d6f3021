/**
 * The argv parser (positionals, `--flag value`, `--flag=value`, boolean and repeated flags) and the check
 * of a parsed command line against its command's declared arguments. Every mistake is an
 * InvalidArgumentError, which the CLI reports as a usage error (exit 2).
 */
import { InvalidArgumentError } from "../errors.js";
import { FLOW_ID_PATTERN, FLOW_ID_RULE, parseStatusList } from "../runtime/call-options.js";
import type { FlowStatus } from "../schemas.js";
import { BOOLEAN_FLAGS, COMMANDS, STORE_FLAGS, type CommandSpec, type FlagSpec } from "./command-specs.js";

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      let value: string;
      if (eq > 0) {
        if (BOOLEAN_FLAGS.has(name)) throw new InvalidArgumentError(`--${name} takes no value; got "${a.slice(eq + 1)}".`);
        value = a.slice(eq + 1);
      } else if (BOOLEAN_FLAGS.has(name)) value = "true";
      else {
        const next = argv[i + 1];
        if (next === undefined) throw new InvalidArgumentError(`--${name} needs a value.`);
        value = next;
        i++;
      }
      flags.set(name, [...(flags.get(name) ?? []), value]);
    } else if (a === "-h") {
      flags.set("help", ["true"]);
    } else {
      positionals.push(a);
    }
  }
  return { positionals, flags };
}

/**
 * Checks `args` against the command's declared positionals and flags: an unknown command or flag, a flag
 * given twice, or too few or too many arguments is refused before anything is opened.
 */
export function checkArgs(command: string, args: ParsedArgs): CommandSpec {
  const spec = COMMANDS[command];
  if (!spec) throw new InvalidArgumentError(`Unknown command "${command}". It is one of: ${Object.keys(COMMANDS).join(", ")}. Run firestep --help.`);
  const accepted: Record<string, FlagSpec> = { ...spec.flags, ...STORE_FLAGS };
  for (const [name, values] of args.flags) {
    const f = accepted[name];
    if (!f) {
      const near = closest(name, Object.keys(accepted));
      const own = Object.entries(spec.flags).map(([n, s]) => describeFlag(n, s));
      throw new InvalidArgumentError(
        `Unknown flag --${name} for "firestep ${command}"${near ? ` (did you mean --${near}?)` : ""}. ` +
          `It takes ${own.length ? `${own.join(", ")}, and ` : "only "}the store flags ${Object.entries(STORE_FLAGS).filter(([n]) => n !== "help").map(([n, s]) => describeFlag(n, s)).join(", ")}.`,
      );
    }
    if (values.length > 1 && !f.repeat) throw new InvalidArgumentError(`--${name} is given twice (${values.map((v) => JSON.stringify(v)).join(" and ")}); give it once.`);
    // An empty value would read as the flag not given: --flow '' would list or purge every flow.
    if (f.value && values.includes("")) throw new InvalidArgumentError(`--${name} needs ${f.what ?? `a value (${f.value})`}; got an empty one.`);
  }
  const n = args.positionals.length - 1;
  if (n < spec.positionals.min || n > spec.positionals.max) {
    const extra = n > spec.positionals.max ? `Unexpected argument ${JSON.stringify(args.positionals[spec.positionals.max + 1])}; ` : "";
    throw new InvalidArgumentError(`${extra}usage: ${spec.usage}`);
  }
  const id = args.positionals[1]!;
  if (spec.flowId && !FLOW_ID_PATTERN.test(id)) throw new InvalidArgumentError(`Not a flow id: a flow id is ${FLOW_ID_RULE}; got ${JSON.stringify(id)}. usage: ${spec.usage}`);
  return spec;
}

function describeFlag(name: string, f: FlagSpec): string {
  return `--${name}${f.value ? ` ${f.value}` : ""}${f.repeat ? "..." : ""}`;
}

/** The accepted flag a misspelling most likely meant: at most two edits away. */
function closest(name: string, candidates: string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d <= 2 && (!best || d < best.d)) best = { name: c, d };
  }
  return best?.name;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return v ? v[v.length - 1] : undefined;
}

export function flags(args: ParsedArgs, name: string): string[] {
  return args.flags.get(name) ?? [];
}

export function parseJsonArg(what: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(text)} is not valid JSON (${(e as Error).message}). Quote it for your shell, e.g. '{"approved":true}'.`);
  }
}

/** Every --answer, parsed: a malformed one is refused before the flow is created or changed. */
export function parseAnswers(args: ParsedArgs): unknown[] {
  return flags(args, "answer").map((text) => parseJsonArg("--answer", text));
}

/** --id, checked as the runtime would check it, but before the module is loaded or the store opened. */
export function flowIdFlag(args: ParsedArgs): string | undefined {
  const id = flag(args, "id");
  if (id !== undefined && !FLOW_ID_PATTERN.test(id)) {
    throw new InvalidArgumentError(`--id takes ${FLOW_ID_RULE}; got ${JSON.stringify(id)}.`);
  }
  return id;
}

/** --status: one status or a comma-separated list of them, as GET /flows?status= takes; undefined when not given. */
export function statusFlag(args: ParsedArgs): FlowStatus | FlowStatus[] | undefined {
  const text = flag(args, "status");
  return text === undefined ? undefined : parseStatusList(text, "--status");
}

/** A whole-number flag within bounds, or undefined when not given. */
export function intFlag(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const text = flag(args, name);
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) throw new InvalidArgumentError(`--${name} takes a whole number from ${min} to ${max}; got ${JSON.stringify(text)}.`);
  return n;
}

/** A number of seconds (0 or more, fractions allowed), or undefined when not given. */
export function secondsFlag(args: ParsedArgs, name: string): number | undefined {
  const text = flag(args, name);
  if (text === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`--${name} takes a number of seconds (0 or more, e.g. 86400 for a day); got ${JSON.stringify(text)}.`);
  return n;
}
