/**
 * One tick of a cron: start the flow under an id derived from the cron's name and the tick's time, so
 * every process that sees the same tick starts the same flow once, and apply the overlap policy.
 * Shared by the embedded timer (`scheduleCron`) and the Cloud Scheduler function (`onCronFlow`).
 */
import { InvalidArgumentError, isFirestepError } from "../errors.js";
import type { Flow } from "../flow.js";
import type { FlowRuntime } from "../runtime/runtime.js";
import type { FlowStatus } from "../schemas.js";

export type CronOverlap = "skip" | "allow";

export interface CronTickConfig {
  flow: Flow;
  /** Names the cron in its flow ids: `cron-<name>-<tick>`. */
  name: string;
  /** The flow's input, or a function of the tick's time. */
  input: unknown;
  overlap: CronOverlap;
}

export interface CronTickResult {
  tick: Date;
  flowId: string;
  /**
   * `started`: this call scheduled the tick's flow (a concurrent call for the same tick gets that same
   * flow back from scheduleFlow). `exists`: the tick's flow was already there (another process, a
   * restart, a retried delivery). `skipped`: overlap "skip" and an earlier run is unfinished.
   */
  outcome: "started" | "exists" | "skipped";
  /** With `skipped`: the unfinished run that caused it. */
  runningFlowId?: string;
}

export const CRON_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const UNFINISHED: FlowStatus[] = ["scheduled", "running", "waiting", "paused"];

export function validateCronConfig(name: string, overlap: unknown): void {
  if (typeof name !== "string" || !CRON_NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(`Cron name "${String(name)}" is not allowed: use a letter, then up to 62 letters, digits, "-" or "_" (it is part of every flow id the cron starts).`);
  }
  if (overlap !== "skip" && overlap !== "allow") {
    throw new InvalidArgumentError(`Cron "${name}" has overlap ${JSON.stringify(overlap)}: use "skip" (no new run while one is unfinished) or "allow".`);
  }
}

/** `cron-<name>-YYYYMMDDTHHMMSSZ`, the tick in UTC to the second. */
export function cronFlowId(name: string, tick: Date): string {
  return `cron-${name}-${tick.toISOString().slice(0, 19).replace(/[-:]/g, "")}Z`;
}

function cronIdPattern(name: string): RegExp {
  return new RegExp(`^cron-${name}-\\d{8}T\\d{6}Z$`);
}

export async function startCronTick(runtime: FlowRuntime, config: CronTickConfig, tickTime: Date): Promise<CronTickResult> {
  const tick = new Date(Math.floor(tickTime.getTime() / 1000) * 1000);
  if (!Number.isFinite(tick.getTime())) throw new InvalidArgumentError(`Cron "${config.name}" got an invalid tick time: ${String(tickTime)}.`);
  const flowId = cronFlowId(config.name, tick);
  if (await exists(runtime, flowId)) return { tick, flowId, outcome: "exists" };
  if (config.overlap === "skip") {
    const running = await unfinishedRun(runtime, config, flowId);
    if (running) return { tick, flowId, outcome: "skipped", runningFlowId: running };
  }
  const input = typeof config.input === "function" ? (config.input as (tick: Date) => unknown)(tick) : config.input;
  await runtime.scheduleFlow(config.flow, input, { flowId });
  return { tick, flowId, outcome: "started" };
}

async function exists(runtime: FlowRuntime, flowId: string): Promise<boolean> {
  try {
    await runtime.getFlow(flowId);
    return true;
  } catch (e) {
    if (isFirestepError(e) && e.code === "FLOW_NOT_FOUND") return false;
    throw e;
  }
}

/** An unfinished flow this cron started for an earlier tick, if any. */
async function unfinishedRun(runtime: FlowRuntime, config: CronTickConfig, flowId: string): Promise<string | undefined> {
  const mine = cronIdPattern(config.name);
  let cursor: string | undefined;
  do {
    const page = await runtime.listFlows({ flowName: config.flow.name, status: UNFINISHED, limit: 1000, ...(cursor ? { cursor } : {}) });
    const found = page.flows.find((r) => r.id !== flowId && mine.test(r.id));
    if (found) return found.id;
    cursor = page.cursor;
  } while (cursor);
  return undefined;
}
