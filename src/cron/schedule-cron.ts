/**
 * `scheduleCron`: starts a flow on a cron schedule from a timer on the runtime's clock (the embedded
 * runtime locally; a fake clock in tests). Each tick starts the flow under `cron-<name>-<tick>`, so a
 * second process on the same store, or a restart within the same minute, does not start a tick twice.
 * Ticks missed while no process was running are not made up.
 */
import { resolveFlow, type Flow, type FlowInput, type FlowRef } from "../flow.js";
import type { FlowRuntime } from "../runtime/runtime.js";
import { nextRun, parseCron } from "./cron-expression.js";
import { startCronTick, validateCronConfig, type CronOverlap, type CronTickResult } from "./cron-tick.js";

export interface ScheduleCronOptions<F extends Flow = Flow> {
  flow: FlowRef<F>;
  /** Five-field cron expression, evaluated in UTC (e.g. "0 9 * * MON-FRI"). */
  schedule: string;
  /** The flow's input for every tick, or a function of the tick's time. */
  input: FlowInput<F> | ((tick: Date) => FlowInput<F>);
  /** "skip": no new run while an earlier run of this cron is unfinished; "allow": start every tick. */
  overlap: CronOverlap;
  /** Names the cron in its flow ids (default: the flow's name). Two crons of one flow need different names. */
  name?: string;
  /** Only "UTC" is supported. */
  timeZone?: string;
  /** Called after each tick with what it did, or with the error that stopped it. */
  onTick?: (event: CronTickEvent) => void;
}

export type CronTickEvent = CronTickResult | { tick: Date; outcome: "failed"; error: unknown };

export interface CronHandle {
  /** Stops the timer; resolves once ticks already firing have finished. */
  stop(): Promise<void>;
  /** The next tick, or undefined once stopped. */
  nextTick(): Date | undefined;
}

/** Re-armed at least daily: timers run on a monotonic clock, and a long one would drift from the wall time cron follows. */
const MAX_TIMER_MS = 24 * 60 * 60 * 1000;

export function scheduleCron<F extends Flow>(runtime: FlowRuntime, options: ScheduleCronOptions<F>): CronHandle {
  const flow = resolveFlow(options.flow);
  const name = options.name ?? flow.name;
  validateCronConfig(name, options.overlap);
  const schedule = parseCron(options.schedule);
  const timeZone = options.timeZone ?? "UTC";
  const clock = runtime.core.clock;

  const inflight = new Set<Promise<void>>();
  let stopped = false;
  let next = 0;
  let cancel = () => {};

  const arm = (after: number) => {
    next = nextRun(schedule, new Date(after), timeZone).getTime();
    wait();
  };
  const wait = () => {
    cancel = clock.setTimer(Math.min(next - clock.now(), MAX_TIMER_MS), fire);
  };
  const fire = () => {
    if (stopped) return;
    const now = clock.now();
    if (now < next) return wait();
    const tick = new Date(next);
    arm(Math.max(next, now));
    const p = tickOnce(tick).finally(() => inflight.delete(p));
    inflight.add(p);
  };
  const tickOnce = async (tick: Date) => {
    let result: CronTickEvent;
    try {
      result = await startCronTick(runtime, { flow, name, input: options.input, overlap: options.overlap }, tick);
      runtime.core.log("debug", `cron ${name}: tick ${tick.toISOString()} ${result.outcome}`, { ...result });
    } catch (error) {
      runtime.core.log("error", `cron ${name}: tick ${tick.toISOString()} failed to start ${flow.name}`, { error: String(error) });
      result = { tick, outcome: "failed", error };
    }
    try {
      options.onTick?.(result);
    } catch (error) {
      runtime.core.log("warn", `cron ${name}: the onTick listener threw`, { error: String(error) });
    }
  };

  arm(clock.now()); // throws here, not in a timer, for a schedule or time zone it cannot use
  return {
    async stop() {
      stopped = true;
      cancel();
      await Promise.allSettled([...inflight]);
    },
    nextTick: () => (stopped ? undefined : new Date(next)),
  };
}
