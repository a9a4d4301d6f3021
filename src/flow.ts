/**
 * Flow and action definitions, and the registry that maps a flow's name to its code so a runtime can
 * run a flow from a task that only carries the name.
 */
import { z } from "zod";
import { FlowNotRegisteredError, formatIssues, InvalidArgumentError, InvalidInputError, showValue } from "./errors.js";
import { isWaitSeconds, MAX_WAIT_TEXT } from "./engine/wait-bound.js";
import type { FlowStatus } from "./schemas.js";
import type { RetryConfig } from "./engine/retry-policy.js";

/** Signals a flow accepts, by name, each with the schema its payload must match. */
export type FlowSignals = Record<string, z.ZodType>;
/** Queries a flow answers, by name: a handler of the flow's view; `R` is each one's result (it may be a promise). */
export type FlowQueries<R extends Record<string, unknown> = Record<string, unknown>> = { [K in keyof R]: (view: FlowView) => R[K] };

/**
 * A flow's definition. `S` (its signals' schemas) and `R` (its queries' results) are kept as declared so
 * that `signalFlow` and `queryFlow` can check names and payloads and type a query's answer.
 */
export interface FlowConfig<I extends z.ZodType, O extends z.ZodType, S extends FlowSignals = FlowSignals, R extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  input: I;
  output: O;
  /** Bump when a change would replay old journals differently; see the versioning docs. */
  version?: string;
  /** Retry policy for this flow's `run` and `runAction` steps that give none. */
  defaultRetryConfig?: RetryConfig;
  /** Signals the flow accepts (`signalFlow`), each with the schema its payload must match. */
  signals?: S;
  /** Read-only views of a running flow (`queryFlow`), computed from its journal without running a step. */
  queries?: FlowQueries<R>;
  /** The flow fails with DEADLINE_EXCEEDED if it has not finished this many seconds after it was scheduled. */
  deadlineSeconds?: number;
  /** Cancel the flows this one started with startChild when it is cancelled (default true). */
  cancelChildren?: boolean;
  /** At most `limit` flows with the same `key(input)` run at once; the others wait in order. */
  concurrencyKey?: { key: (input: z.output<I>) => string; limit: number };
}

/** What a query handler sees: the flow's input, status, and the values of its completed steps by key. */
export interface FlowView {
  id: string;
  input: unknown;
  status: FlowStatus;
  steps: Record<string, unknown>;
  output?: unknown;
}

/** A flow's code: takes the parsed input, resolves with what the output schema accepts. */
export type FlowFn<I extends z.ZodType, O extends z.ZodType> = (input: z.output<I>) => Promise<z.input<O>>;

const FLOW = Symbol.for("firestep.flow");

/** A durable flow: its schemas and code. Runs unchanged on every backend. */
export interface Flow<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType, S extends FlowSignals = FlowSignals, R extends Record<string, unknown> = Record<string, unknown>> {
  readonly [FLOW]: true;
  readonly name: string;
  readonly version?: string;
  readonly inputSchema: I;
  readonly outputSchema: O;
  readonly defaultRetryConfig?: RetryConfig;
  readonly signals?: S;
  readonly queries?: FlowQueries<R>;
  readonly deadlineSeconds?: number;
  readonly cancelChildren: boolean;
  readonly concurrencyKey?: { key: (input: never) => string; limit: number };
  readonly fn: FlowFn<I, O>;
}

/** Anything that carries a flow: a `Flow`, or a deployable function with the flow attached. */
export type FlowRef<F extends Flow = Flow> = F | { readonly flow: F };
/** The flow a `FlowRef` carries. */
export type FlowOf<R> = R extends Flow ? R : R extends { readonly flow: infer F extends Flow } ? F : never;
/** What a caller passes as the input of a flow (or of a function that carries one): its input schema's input type. */
export type FlowInput<R> = z.input<FlowOf<R>["inputSchema"]>;
/** What a finished flow (or a function that carries one) gives back: its output schema's output type. */
export type FlowOutput<R> = z.output<FlowOf<R>["outputSchema"]>;
/** The names of the signals a flow declares (any string for a flow whose signals are not known). */
export type SignalName<R> = keyof NonNullable<FlowOf<R>["signals"]> & string;
/** The payload `signalFlow` takes for signal `N` of a flow: its schema's input type. */
export type SignalPayload<R, N extends SignalName<R>> = z.input<NonNullable<FlowOf<R>["signals"]>[N]>;
/** The names of the queries a flow declares (any string for a flow whose queries are not known). */
export type QueryName<R> = keyof NonNullable<FlowOf<R>["queries"]> & string;
/** What `queryFlow` answers for query `N` of a flow: its handler's (awaited) result. */
export type QueryResult<R, N extends QueryName<R>> = Awaited<ReturnType<NonNullable<FlowOf<R>["queries"]>[N]>>;

/** Flows by name, then by version ("" for none), in the order defined: the last defined is the current one. */
const registry = new Map<string, Map<string, Flow>>();

export const FLOW_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

/** Defines a flow and registers it by name in this process. */
export function defineFlow<I extends z.ZodType, O extends z.ZodType, S extends FlowSignals = {}, R extends Record<string, unknown> = {}>(
  config: FlowConfig<I, O, S, R>,
  fn: FlowFn<I, O>,
): Flow<I, O, S, R> {
  if (!FLOW_NAME_PATTERN.test(config.name)) {
    throw new InvalidArgumentError(
      `Flow name "${config.name}" is not allowed: use a letter, then up to 62 letters, digits, "-" or "_" (it names a Cloud Function and a task queue).`,
    );
  }
  const flow: Flow<I, O, S, R> = {
    [FLOW]: true,
    name: config.name,
    ...(config.version ? { version: config.version } : {}),
    inputSchema: config.input,
    outputSchema: config.output,
    ...(config.defaultRetryConfig ? { defaultRetryConfig: config.defaultRetryConfig } : {}),
    ...(config.signals ? { signals: config.signals } : {}),
    ...(config.queries ? { queries: config.queries } : {}),
    ...(config.deadlineSeconds !== undefined ? { deadlineSeconds: config.deadlineSeconds } : {}),
    cancelChildren: config.cancelChildren ?? true,
    ...(config.concurrencyKey ? { concurrencyKey: config.concurrencyKey as { key: (input: never) => string; limit: number } } : {}),
    fn,
  };
  if (config.concurrencyKey && !(Number.isInteger(config.concurrencyKey.limit) && config.concurrencyKey.limit >= 1)) {
    throw new InvalidArgumentError(`concurrencyKey.limit of flow "${config.name}" must be a whole number of at least 1.`);
  }
  if (config.deadlineSeconds !== undefined && !(isWaitSeconds(config.deadlineSeconds) && config.deadlineSeconds > 0)) {
    throw new InvalidArgumentError(`deadlineSeconds of flow "${config.name}" must be a number above 0 and at most ${MAX_WAIT_TEXT}; got ${showValue(config.deadlineSeconds)}.`);
  }
  const versions = registry.get(config.name) ?? new Map<string, Flow>();
  versions.delete(config.version ?? "");
  versions.set(config.version ?? "", flow as unknown as Flow);
  registry.set(config.name, versions);
  return flow;
}

/**
 * Genkit's name for defining a durable flow. From `firestep` it returns the plain flow (runs on the
 * embedded runtime); `firestep/firebase` exports the same name returning a deployable Cloud Function.
 */
export const onScheduledFlow = defineFlow;

export function isFlow(v: unknown): v is Flow {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[FLOW] === true;
}

export function resolveFlow<F extends Flow>(ref: FlowRef<F>): F {
  if (isFlow(ref)) return ref as F;
  const inner = (ref as { flow?: unknown } | undefined)?.flow;
  if (isFlow(inner)) return inner as F;
  throw new InvalidArgumentError("Expected a flow (from onScheduledFlow/defineFlow) or a function with a flow attached.");
}

/**
 * The code for flow `name`: the definition of `version` when given and still defined in this process (a
 * running flow keeps replaying against the code it started with), else the current one.
 */
export function lookupFlow(name: string, version?: string): Flow {
  const versions = registry.get(name);
  if (!versions) throw new FlowNotRegisteredError(name, [...registry.keys()]);
  return (version !== undefined ? versions.get(version) : undefined) ?? [...versions.values()].pop()!;
}

/** The current definition of every flow defined in this process. */
export function registeredFlows(): Flow[] {
  return [...registry.values()].map((v) => [...v.values()].pop()!);
}

export function parseInput<F extends Flow>(flow: F, input: unknown): unknown {
  const r = flow.inputSchema.safeParse(input);
  if (!r.success) throw new InvalidInputError(flow.name, formatIssues(r.error));
  return r.data;
}

const ACTION = Symbol.for("firestep.action");

/** A self-describing function (Genkit's `Action`): a name, zod schemas, and the code. */
export interface Action<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly [ACTION]: true;
  readonly name: string;
  readonly description?: string;
  readonly inputSchema: I;
  readonly outputSchema: O;
  readonly fn: (input: z.output<I>) => Promise<z.input<O>> | z.input<O>;
}

export function action<I extends z.ZodType, O extends z.ZodType>(
  config: { name: string; description?: string; input: I; output: O },
  fn: (input: z.output<I>) => Promise<z.input<O>> | z.input<O>,
): Action<I, O> {
  return {
    [ACTION]: true,
    name: config.name,
    ...(config.description ? { description: config.description } : {}),
    inputSchema: config.input,
    outputSchema: config.output,
    fn,
  };
}

export function isAction(v: unknown): v is Action {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[ACTION] === true;
}
