/**
 * Runs a validated DAG inside a flow: every step is a durable `run(id, ...)` step, started as soon as all
 * its needs have completed, so independent steps run in parallel.
 *
 * The engine checks replay by the order in which steps are called, and here that order follows the
 * order in which steps complete, which differs between a first run and a replay. So whenever more than
 * one step is in flight, the driver records which completions it acted on in a small bookkeeping step
 * (`$dag-completed`, a list of step ids) before starting their dependents; a replay reads that list
 * instead of racing, and calls the same steps in the same order. Step outputs are stored untouched.
 */
import { FirestepError } from "../errors.js";
import { run } from "../engine/steps.js";
import { isInterruptError } from "../engine/suspension.js";
import type { DagGraph, DagSteps } from "./dag-graph.js";

/** Name of the bookkeeping step; `$` keeps it apart from step ids, which must start with a letter. */
export const DAG_COMPLETED_STEP = "$dag-completed";

type Settled = { id: string; ok: true; value: unknown } | { id: string; ok: false; error: unknown };

/** Runs every step of `graph`; resolves with each step's output by id, or throws the first failure or suspension. */
export async function runDag(flowName: string, graph: DagGraph, steps: DagSteps, input: unknown): Promise<Record<string, unknown>> {
  const started = new Map<string, Promise<Settled>>();
  /** Steps that settled but whose completion the driver has not acted on yet. */
  const settled = new Map<string, Settled>();
  const processed = new Set<string>();
  const outputs: Record<string, unknown> = {};
  let failure: Settled | undefined;

  const startReady = () => {
    for (const id of graph.order) {
      if (started.has(id) || !graph.needs.get(id)!.every((n) => processed.has(n))) continue;
      const step = steps[id]!;
      // A fresh copy per step: a step that mutates what it was given must not change what another sees.
      const own = structuredClone(Object.fromEntries(graph.needs.get(id)!.map((n) => [n, outputs[n]])));
      const p = run({ name: id, ...(step.retryConfig ? { retryConfig: step.retryConfig } : {}) }, ({ attempt }) => step.run({ input, outputs: own, attempt }));
      started.set(id, p.then((value): Settled => ({ id, ok: true, value }), (error: unknown): Settled => ({ id, ok: false, error })));
    }
  };

  startReady();
  for (;;) {
    if (failure) break;
    const pending = [...started.keys()].filter((id) => !processed.has(id));
    if (pending.length === 0) break;
    const completed = graph.order.filter((id) => settled.get(id)?.ok === true && !processed.has(id));
    if (completed.length === 0) {
      const live = pending.filter((id) => !settled.has(id));
      if (live.length === 0) break; // every pending step is suspended
      const s = await Promise.race(live.map((id) => started.get(id)!));
      settled.set(s.id, s);
      if (!s.ok && !isInterruptError(s.error)) failure = s;
      continue;
    }
    // Pending counts suspended steps too, so the first run and every replay decide alike here.
    const acted = pending.length > 1 ? await run(DAG_COMPLETED_STEP, () => completed) : completed;
    for (const id of acted) {
      const p = started.get(id);
      if (!p || processed.has(id)) {
        throw new FirestepError(
          "NON_DETERMINISM",
          `DAG flow "${flowName}" replayed differently from its journal: it recorded step "${id}" as completed, but the steps now defined do not have it in flight. ` +
            `Do not change a DAG's steps or needs under running flows: deploy the change under a new flow name or version.`,
          { details: { step: id } },
        );
      }
      const s = await p;
      if (!s.ok) throw s.error;
      outputs[id] = s.value;
      processed.add(id);
      settled.delete(id);
    }
    startReady();
  }
  if (failure && !failure.ok) throw failure.error;
  const suspension = [...settled.values()].find((s) => !s.ok);
  if (suspension && !suspension.ok) throw suspension.error;
  return outputs;
}
