/**
 * The shape of a DAG flow's steps, and the graph built from them at define time: validated (ids, needs,
 * cycles), with its topological waves and the canonical order in which ready steps are started.
 */
import { InvalidArgumentError } from "../errors.js";
import type { RetryConfig } from "../engine/retry-policy.js";

/** What a DAG step's code receives. */
export interface DagStepContext<In = unknown> {
  input: In;
  /** Outputs of the steps this one needs (and only those), by step id. */
  outputs: Record<string, unknown>;
  /** 1 on the first try, 2 on the first retry, ... */
  attempt: number;
}

export interface DagStep<In = unknown, Out = unknown> {
  /** Ids of the steps whose outputs this step needs; it starts once all of them have completed. */
  needs?: readonly string[];
  run: (ctx: DagStepContext<In>) => Promise<Out> | Out;
  retryConfig?: RetryConfig;
}

export type DagSteps<In = unknown> = Record<string, DagStep<In, unknown>>;

/** Each step's output by id, as typed by its `run`. */
export type DagOutputs<S> = { [K in keyof S]: S[K] extends { run: (...args: never[]) => infer R } ? Awaited<R> : unknown };

export interface DagGraph {
  /** Step ids in start order: by wave, then as declared. */
  readonly order: readonly string[];
  /** Topological levels: wave 0 needs nothing, wave n needs something in wave n-1. */
  readonly waves: readonly (readonly string[])[];
  readonly needs: ReadonlyMap<string, readonly string[]>;
  /** Steps no other step needs; their outputs are a DAG flow's default result. */
  readonly sinks: readonly string[];
}

export const DAG_STEP_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Validates `steps` and builds the graph; every problem is an InvalidArgumentError saying what to fix. */
export function buildDagGraph(flowName: string, steps: unknown): DagGraph {
  const where = `DAG flow "${flowName}"`;
  if (typeof steps !== "object" || steps === null || Array.isArray(steps)) {
    throw new InvalidArgumentError(`${where} needs \`steps\`: an object of step id -> { needs?, run }.`);
  }
  const ids = Object.keys(steps);
  if (ids.length === 0) {
    throw new InvalidArgumentError(`${where} has no steps: give \`steps\` at least one entry, e.g. { fetch: { run: ({ input }) => ... } }.`);
  }
  const needs = new Map<string, readonly string[]>();
  for (const id of ids) {
    if (!DAG_STEP_ID_PATTERN.test(id)) {
      throw new InvalidArgumentError(
        `Step id "${id}" in ${where} is not allowed: use a letter, then up to 63 letters, digits, "-" or "_" (the id names the step in the journal).`,
      );
    }
    needs.set(id, stepNeeds(where, id, (steps as Record<string, unknown>)[id], ids));
  }
  const cycle = findCycle(ids, needs);
  if (cycle) {
    throw new InvalidArgumentError(
      `Steps of ${where} form a cycle: ${cycle.join(" -> ")} (each step needs the next). Remove one of these needs so the steps can run in order.`,
    );
  }
  const waves = topologicalWaves(ids, needs);
  const needed = new Set([...needs.values()].flat());
  return { order: waves.flat(), waves, needs, sinks: ids.filter((id) => !needed.has(id)) };
}

function stepNeeds(where: string, id: string, step: unknown, ids: string[]): readonly string[] {
  if (typeof step !== "object" || step === null || typeof (step as { run?: unknown }).run !== "function") {
    throw new InvalidArgumentError(`Step "${id}" of ${where} needs a \`run\` function: { needs?: [...], run: ({ input, outputs }) => ... }.`);
  }
  const raw = (step as { needs?: unknown }).needs;
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || !raw.every((n): n is string => typeof n === "string")) {
    throw new InvalidArgumentError(`Step "${id}" of ${where} has \`needs\` that is not an array of step ids; got ${JSON.stringify(raw)}.`);
  }
  const seen = new Set<string>();
  for (const n of raw) {
    if (!ids.includes(n)) {
      throw new InvalidArgumentError(
        `Step "${id}" of ${where} needs "${n}", which is not a step of this flow. Define a step "${n}" or remove it from the needs of "${id}" (steps: ${ids.join(", ")}).`,
      );
    }
    if (seen.has(n)) throw new InvalidArgumentError(`Step "${id}" of ${where} lists "${n}" twice in its needs; list each step once.`);
    seen.add(n);
  }
  return [...raw];
}

/** The first cycle found, walking steps and needs in declaration order, as a path that ends where it starts. */
function findCycle(ids: string[], needs: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, "open");
    path.push(id);
    for (const n of needs.get(id)!) {
      if (state.get(n) === "open") return [...path.slice(path.indexOf(n)), n];
      if (!state.has(n)) {
        const found = visit(n);
        if (found) return found;
      }
    }
    path.pop();
    state.set(id, "done");
    return undefined;
  };
  for (const id of ids) {
    if (state.has(id)) continue;
    const found = visit(id);
    if (found) return found;
  }
  return undefined;
}

function topologicalWaves(ids: string[], needs: ReadonlyMap<string, readonly string[]>): string[][] {
  const level = new Map<string, number>();
  const levelOf = (id: string): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    const l = Math.max(-1, ...needs.get(id)!.map(levelOf)) + 1;
    level.set(id, l);
    return l;
  };
  const waves: string[][] = [];
  for (const id of ids) (waves[levelOf(id)] ??= []).push(id);
  return waves;
}
