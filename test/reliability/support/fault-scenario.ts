/** Runs a few faultFlows to the end on a fake clock while the store and the queue fail at random. */
import { isFirestepError } from "../../../src/errors.js";
import { createLocalQueue, createRuntime, type FlowStore } from "../../../src/index.js";
import { isFinished } from "../../../src/schemas.js";
import { createFakeClock } from "../../../src/testing/index.js";
import { countDeliveries, faultyQueue, faultyStore, newFaultLog, retrying, type FaultLog } from "./faults.js";
import { effects, FAULT_FLOW_OUTPUT, FAULT_STEP_KEYS, faultFlow } from "./fault-flow.js";

export interface FaultScenario {
  store: FlowStore;
  flows: number;
  rate: number;
  rnd: () => number;
  /** The error a store fault throws (default StoreUnavailableError). */
  storeError?: (op: string) => Error;
  /** False when the caller injects store faults itself (below the store, as for Firestore's client). */
  injectStoreFaults?: boolean;
  /** Called once the flows are driven to the end, before the checks: turn the caller's own faults off. */
  disarm?: () => void;
}

export interface FaultResult {
  problems: string[];
  faults: FaultLog;
  deliveries: { completed: number; threw: number };
}

let scenario = 0;

export async function runFlowsUnderFaults(s: FaultScenario): Promise<FaultResult> {
  const run = ++scenario;
  const clock = createFakeClock();
  const faults = newFaultLog();
  let armed = true;
  const fo = { rate: s.rate, rnd: s.rnd, log: faults, armed: () => armed, ...(s.storeError ? { error: s.storeError } : {}) };
  const inner = createLocalQueue({ clock, maxRetries: 1000 });
  const store = s.injectStoreFaults === false ? s.store : faultyStore(s.store, fo);
  const rt = createRuntime({ store, queue: faultyQueue(inner, { ...fo, error: undefined }), clock, leaseSeconds: 30, logger: () => {} });
  const deliveries = countDeliveries(inner, (t, m) => rt.deliver(t, m));
  const ids = Array.from({ length: s.flows }, (_, i) => `faults-${run}-${i}`);
  for (const id of ids) await retrying(() => rt.scheduleFlow(faultFlow, { id }, { flowId: id }));

  const resumeOnce = async (id: string) => {
    let attempt = 0;
    await retrying(async () => {
      try {
        attempt++;
        await rt.resumeFlow(faultFlow, id, { by: "ops" });
      } catch (e) {
        // An earlier attempt landed before it failed: the flow is answered already.
        if (!(attempt > 1 && isFirestepError(e) && e.code === "NOT_BLOCKED_ON_INTERRUPT")) throw e;
      }
    });
  };

  const problems: string[] = [];
  for (let round = 0; ; round++) {
    await inner.idle();
    const records = await Promise.all(ids.map((id) => retrying(() => s.store.get(id))));
    if (records.every((r) => r && isFinished(r.status))) break;
    const blocked = records.filter((r) => r && r.waits.some((w) => w.kind === "interrupt") && !r.inbox?.approve);
    for (const r of blocked) await resumeOnce(r!.id);
    if (blocked.length) continue;
    if (round > 20_000 || !(await clock.next())) {
      problems.push(`stuck: nothing will wake ${JSON.stringify(records.filter((r) => r && !isFinished(r.status)))}`);
      break;
    }
  }
  armed = false;
  s.disarm?.();
  for (const id of ids) {
    const loaded = await s.store.load(id);
    if (!loaded) {
      problems.push(`${id}: missing`);
      continue;
    }
    if (loaded.record.status !== "succeeded") problems.push(`${id}: ${loaded.record.status} ${JSON.stringify(loaded.record.error ?? loaded.record)}`);
    else if ((loaded.record.output?.value as number) !== FAULT_FLOW_OUTPUT) problems.push(`${id}: output ${JSON.stringify(loaded.record.output)}`);
    problems.push(...effects.check(id, loaded.steps, FAULT_STEP_KEYS, loaded.record.stepCount));
  }
  await rt.close();
  return { problems, faults, deliveries };
}
