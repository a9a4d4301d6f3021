/**
 * Flow and action definitions, and the registry that maps a flow's name to its code so a runtime can
 * run a flow from a task that only carries the name.
 */
import { z } from "zod";
import { FlowNotRegisteredError, formatIssues, InvalidArgumentError, InvalidInputError } from "./errors.js";
import type { RetryConfig } from "./engine/retry-policy.js";

export interface FlowConfig<I extends z.ZodType, O extends z.ZodType> {
  name: string;
  input: I;
  output: O;
  /** Bump when a change would replay old journals differently; see the versioning docs. */
  version?: string;
  /** Retry policy for this flow's `run` and `runAction` steps that give none. */
  defaultRetryConfig?: RetryConfig;
}

export type FlowFn<I extends z.ZodType, O extends z.ZodType> = (input: z.output<I>) => Promise<z.input<O>>;

const FLOW = Symbol.for("firestep.flow");

/** A durable flow: its schemas and code. Runs unchanged on every backend. */
export interface Flow<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly [FLOW]: true;
  readonly name: string;
  readonly version?: string;
  readonly inputSchema: I;
  readonly outputSchema: O;
  readonly defaultRetryConfig?: RetryConfig;
  readonly fn: FlowFn<I, O>;
}

export type FlowInput<F> = F extends Flow<infer I, z.ZodType> ? z.input<I> : never;
export type FlowOutput<F> = F extends Flow<z.ZodType, infer O> ? z.output<O> : never;
/** Anything that carries a flow: a `Flow`, or a deployable function with the flow attached. */
export type FlowRef<F extends Flow = Flow> = F | { readonly flow: F };

const registry = new Map<string, Flow>();

export const FLOW_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

/** Defines a flow and registers it by name in this process. */
export function defineFlow<I extends z.ZodType, O extends z.ZodType>(config: FlowConfig<I, O>, fn: FlowFn<I, O>): Flow<I, O> {
  if (!FLOW_NAME_PATTERN.test(config.name)) {
    throw new InvalidArgumentError(
      `Flow name "${config.name}" is not allowed: use a letter, then up to 62 letters, digits, "-" or "_" (it names a Cloud Function and a task queue).`,
    );
  }
  const flow: Flow<I, O> = {
    [FLOW]: true,
    name: config.name,
    ...(config.version ? { version: config.version } : {}),
    inputSchema: config.input,
    outputSchema: config.output,
    ...(config.defaultRetryConfig ? { defaultRetryConfig: config.defaultRetryConfig } : {}),
    fn,
  };
  registry.set(config.name, flow as unknown as Flow);
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

export function lookupFlow(name: string): Flow {
  const flow = registry.get(name);
  if (!flow) throw new FlowNotRegisteredError(name, [...registry.keys()]);
  return flow;
}

export function registeredFlows(): Flow[] {
  return [...registry.values()];
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
