/**
 * Duplicate and concurrent deliveries: many flows, each woken by eight copies of the same task at once
 * (spread over two runtimes, as over two instances), while a resume races the wake-up. A step body that
 * starts while another of the same flow runs is a second runner at work.
 */
import { setTimeout as wait } from "node:timers/promises";
import { z } from "zod";
import { createRuntime, defineFlow, interrupt, isFirestepError, run, sleep, type FlowRuntime, type FlowStore, type QueuedTask } from "../../../src/index.js";
import { isFinished } from "../../../src/schemas.js";
import { createFakeClock } from "../../../src/testing/index.js";
import { EffectLog } from "./faults.js";

const effects = new EffectLog();
const active = new Map<string, number>();
const overlaps: string[] = [];

/** A step body that notices when the same step of the same flow is already running: a second runner at work. */
async function exclusive<V>(flow: string, key: string, value: V): Promise<{ v: V; token: string }> {
  const at = `${flow}/${key}`;
  const n = (active.get(at) ?? 0) + 1;
  active.set(at, n);
  if (n > 1) overlaps.push(at);
  try {
    await wait(1 + Math.floor(Math.random() * 4));
    return effects.run(flow, key, value);
  } finally {
    active.set(at, active.get(at)! - 1);
  }
}

export const raceFlow = defineFlow({ name: "reliabilityRaceFlow", input: z.object({ id: z.string() }), output: z.number() }, async ({ id }) => {
  const a = await run("a", () => exclusive(id, "a", 1));
  // After the nap, "b" runs while the approval is still awaited: a resume can land while a runner is in "b".
  const napThenB = async () => {
    await sleep("nap", 10);
    return run("b", () => exclusive(id, "b", 10));
  };
  const [b, answer] = await Promise.all([napThenB(), interrupt("approve", z.object({ n: z.number() }))]);
  const c = await run("c", () => exclusive(id, "c", 100));
  return a.v + b.v + c.v + answer.n;
});

export interface RaceResult {
  problems: string[];
  deliveries: number;
  ran: number;
}

/**
 * `stores` are two handles on one backend (two processes' file stores on one directory, two Firestore
 * clients); each gets its own runtime. Tasks go to a shared list and are delivered by the test.
 */
export async function raceDeliveries(stores: [FlowStore, FlowStore], flows: number, tag: string): Promise<RaceResult> {
  const clock = createFakeClock();
  const queued: QueuedTask[] = [];
  const keys = new Set<string>();
  const queue = { enqueue: async (t: QueuedTask) => void (keys.has(t.dedupeKey) || (keys.add(t.dedupeKey), queued.push(t))) };
  const rts: FlowRuntime[] = stores.map((store, i) => createRuntime({ store, queue, clock, leaseSeconds: 30, owner: `runtime-${i}`, logger: () => {} }));
  const problems: string[] = [];
  let deliveries = 0;
  let ran = 0;
  const deliver = async (t: QueuedTask, copy: number) => {
    deliveries++;
    const r = await rts[copy % 2]!.deliver(t.task, { taskId: `${t.dedupeKey}#${copy}` });
    if (r.result === "ran") ran++;
    return r;
  };
  /** Delivers eight copies of every queued task that is due, all at once. */
  const burst = async (extra: Array<() => Promise<unknown>> = []) => {
    const due = queued.filter((t) => t.task.at <= clock.now());
    for (const t of due) queued.splice(queued.indexOf(t), 1);
    await Promise.all([...due.flatMap((t) => Array.from({ length: 8 }, (_, copy) => deliver(t, copy))), ...extra.map((f) => f())]);
  };

  const ids = Array.from({ length: flows }, (_, i) => `${tag}-${i}`);
  for (const id of ids) await rts[0]!.scheduleFlow(raceFlow, { id }, { flowId: id });
  await burst(); // every start task eight times at once: "a" runs, the flows sleep and wait for the approval

  clock.set(clock.now() + 10_000);
  // The naps end: eight copies of each wake-up, racing one resume per flow (sent through either runtime).
  const resumes = ids.map((id, i) => async () => {
    try {
      await rts[i % 2]!.resumeFlow(raceFlow, id, { n: 1000 });
    } catch (e) {
      problems.push(`${id}: resume refused: ${isFirestepError(e) ? e.code : String(e)}`);
    }
  });
  await burst(resumes);
  for (let round = 0; round < 40; round++) {
    const records = await Promise.all(ids.map((id) => stores[0].get(id)));
    if (records.every((r) => r && isFinished(r.status))) break;
    if (!queued.some((t) => t.task.at <= clock.now())) {
      const next = Math.min(...queued.map((t) => t.task.at));
      if (!Number.isFinite(next)) break;
      clock.set(next);
    }
    await burst();
  }
  for (const id of ids) {
    const loaded = await stores[0].load(id);
    if (loaded?.record.status !== "succeeded") {
      problems.push(`${id}: not finished: ${JSON.stringify(loaded?.record)}`);
      continue;
    }
    if (loaded.record.output?.value !== 1111) problems.push(`${id}: output ${JSON.stringify(loaded.record.output)}`);
    if (loaded.record.inbox || loaded.record.waits.length || loaded.record.lease) problems.push(`${id}: leftovers ${JSON.stringify(loaded.record)}`);
    problems.push(...effects.check(id, loaded.steps, ["a", "b", "c"], loaded.record.stepCount));
    for (const key of ["a", "b", "c"]) if (effects.executions(id, key) !== 1) problems.push(`${id}/${key} ran ${effects.executions(id, key)} times`);
  }
  for (const o of overlaps.splice(0)) if (ids.some((id) => o.startsWith(`${id}/`))) problems.push(`two runners at once: ${o}`);
  return { problems, deliveries, ran };
}
