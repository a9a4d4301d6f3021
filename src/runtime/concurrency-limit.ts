/**
 * Concurrency keys: at most `limit` flows with the same key run an invocation at once; the others wait
 * in arrival order and are woken, oldest first, as slots free up. The semaphore for a key is kept in
 * the flow store as a record named "$semaphore" (listFlows leaves these out), updated with the same
 * conditional writes as flows, so it works on every backend and across processes. A holder's slot
 * lapses with its lease, so a crashed runner cannot block the key for good.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { InvalidArgumentError } from "../errors.js";
import type { Flow } from "../flow.js";
import type { FlowRecord } from "../schemas.js";
import type { RuntimeCore } from "./runtime-core.js";

export const SEMAPHORE_FLOW_NAME = "$semaphore";

const SemaphoreStateSchema = z.object({
  key: z.string(),
  holders: z.array(z.object({ flowId: z.string(), until: z.number() })),
  /** Flows waiting for a slot, oldest scheduled first. */
  queue: z.array(z.object({ flowId: z.string(), createdAt: z.number() })),
});
type SemaphoreState = z.infer<typeof SemaphoreStateSchema>;

export interface ConcurrencyConfig {
  /** The key a flow's input belongs to (e.g. the user id). */
  key: (input: never) => string;
  /** Flows of one key that may run at once. */
  limit: number;
}

export function concurrencyKeyFor(flow: Flow, input: unknown): string | undefined {
  const c = flow.concurrencyKey;
  if (!c) return undefined;
  const key = c.key(input as never);
  if (typeof key !== "string" || !key) throw new InvalidArgumentError(`The concurrencyKey of flow "${flow.name}" must be a non-empty string; got ${String(key)}.`);
  return `${flow.name}:${key}`;
}

function semaphoreId(key: string): string {
  return `$sem-${createHash("sha256").update(key).digest("hex").slice(0, 40)}`;
}

function stateOf(r: FlowRecord): SemaphoreState {
  return SemaphoreStateSchema.parse(r.input);
}

/** Takes a slot for the flow, or puts it in line (by when it was scheduled). True when it may run now. */
export async function acquireSlot(core: RuntimeCore, key: string, limit: number, flow: Pick<FlowRecord, "id" | "createdAt">): Promise<boolean> {
  const flowId = flow.id;
  const id = semaphoreId(key);
  const now = core.clock.now();
  await ensureSemaphore(core, id, key, now);
  let granted = false;
  await core.update(id, (r) => {
    const s = stateOf(r);
    const holders = s.holders.filter((h) => h.until > now && h.flowId !== flowId);
    const others = s.queue.filter((q) => q.flowId !== flowId);
    const line = [...others, { flowId, createdAt: flow.createdAt }].sort((a, b) => a.createdAt - b.createdAt || (a.flowId < b.flowId ? -1 : 1));
    const aheadInLine = line.findIndex((q) => q.flowId === flowId);
    granted = holders.length < limit && aheadInLine < limit - holders.length;
    const next: SemaphoreState = granted ? { key, holders: [...holders, { flowId, until: now + core.leaseMs }], queue: others } : { key, holders, queue: line };
    return { ...r, rev: r.rev + 1, input: next, updatedAt: now };
  });
  return granted;
}

/** Gives back `flowId`'s slot and wakes the flows next in line that now fit. */
export async function releaseSlot(core: RuntimeCore, key: string, limit: number, flowId: string): Promise<void> {
  const id = semaphoreId(key);
  const now = core.clock.now();
  let wake: string[] = [];
  await core.update(id, (r) => {
    const s = stateOf(r);
    const holders = s.holders.filter((h) => h.until > now && h.flowId !== flowId);
    wake = s.queue.slice(0, Math.max(0, limit - holders.length)).map((q) => q.flowId);
    if (holders.length === s.holders.length && wake.length === 0) return r;
    return { ...r, rev: r.rev + 1, input: { key, holders, queue: s.queue }, updatedAt: now };
  });
  for (const waiting of wake) {
    const w = await core.store.get(waiting);
    if (w) await core.enqueue(w, now, "wake", `${waiting}|slot|${now}`);
  }
}

async function ensureSemaphore(core: RuntimeCore, id: string, key: string, now: number): Promise<void> {
  if (await core.store.get(id)) return;
  const state: SemaphoreState = { key, holders: [], queue: [] };
  await core.store.create({
    id, flowName: SEMAPHORE_FLOW_NAME, status: "waiting", input: state, waits: [], rev: 0, epoch: 0, stepCount: 0, progress: {}, createdAt: now, updatedAt: now,
  });
}
