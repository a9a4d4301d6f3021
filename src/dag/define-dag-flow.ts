/**
 * `defineDagFlow`: a flow declared as steps with dependencies (`needs`) instead of code. The graph is
 * validated when the flow is defined; at run time independent steps run in parallel, each a durable
 * step named by its id. `dagWaves` gives the graph's topological levels (which steps can run together).
 */
import type { z } from "zod";
import { InvalidArgumentError } from "../errors.js";
import { defineFlow, resolveFlow, type Flow, type FlowConfig, type FlowFn, type FlowRef } from "../flow.js";
import { buildDagGraph, type DagGraph, type DagOutputs, type DagSteps } from "./dag-graph.js";
import { runDag } from "./dag-runner.js";

export interface DagFlowConfig<I extends z.ZodType, O extends z.ZodType, S extends DagSteps<z.output<I>>> extends FlowConfig<I, O> {
  /** Step id -> { needs?, run, retryConfig? }. Ids: a letter, then letters, digits, "-" or "_". */
  steps: S;
  /**
   * The flow's output from the input and every step's output. Default: the outputs of the sink steps
   * (those no other step needs), as an object by step id.
   */
  result?: (ctx: { input: z.output<I>; outputs: DagOutputs<S> }) => z.input<O> | Promise<z.input<O>>;
}

/** Graphs by flow function, so `dagWaves` also finds a DAG flow re-wrapped by `onScheduledFlow(config, dag.fn)`. */
const graphs = new WeakMap<FlowFn<z.ZodType, z.ZodType>, DagGraph>();

export function defineDagFlow<I extends z.ZodType, O extends z.ZodType, S extends DagSteps<z.output<I>>>(config: DagFlowConfig<I, O, S>): Flow<I, O> {
  const { steps, result, ...flowConfig } = config;
  const graph = buildDagGraph(config.name, steps);
  if (result !== undefined && typeof result !== "function") {
    throw new InvalidArgumentError(`DAG flow "${config.name}" has a \`result\` that is not a function: give ({ input, outputs }) => output, or leave it out to return the sink steps' outputs.`);
  }
  const fn: FlowFn<I, O> = async (input) => {
    const outputs = await runDag(config.name, graph, steps as DagSteps, input);
    if (result) return result({ input, outputs: outputs as DagOutputs<S> });
    return Object.fromEntries(graph.sinks.map((id) => [id, outputs[id]])) as z.input<O>;
  };
  graphs.set(fn as unknown as FlowFn<z.ZodType, z.ZodType>, graph);
  return defineFlow(flowConfig, fn);
}

/** The DAG's topological levels: wave 0 needs nothing; a step in wave n needs at least one step of wave n-1. */
export function dagWaves(flow: FlowRef): string[][] {
  const graph = graphs.get(resolveFlow(flow).fn as FlowFn<z.ZodType, z.ZodType>);
  if (!graph) throw new InvalidArgumentError(`Flow "${resolveFlow(flow).name}" is not a DAG flow: dagWaves() takes a flow made with defineDagFlow.`);
  return graph.waves.map((w) => [...w]);
}
