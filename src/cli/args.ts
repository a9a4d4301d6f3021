/** A small argv parser: positionals, `--flag value`, `--flag=value`, boolean flags, repeated flags. */
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
}

export class UsageError extends Error {
  readonly code = "USAGE";
}

const BOOLEAN_FLAGS = new Set(["json", "help", "yes", "no-recover", "follow"]);

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
      if (eq > 0) value = a.slice(eq + 1);
      else if (BOOLEAN_FLAGS.has(name)) value = "true";
      else {
        const next = argv[i + 1];
        if (next === undefined) throw new UsageError(`--${name} needs a value.`);
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
    throw new UsageError(`${what} is not valid JSON (${(e as Error).message}). Quote it for your shell, e.g. '{"approved":true}'.`);
  }
}
