/**
 * `onCronFlow`: a flow started on a schedule by Cloud Scheduler, as a v2 `onSchedule` function. The
 * function only adapts the scheduler's call to a cron tick: the flow id comes from the event's
 * `scheduleTime`, so a retried or duplicated call starts the tick's flow once.
 */
import { logger } from "firebase-functions";
import { onSchedule, type ScheduleFunction, type ScheduleOptions } from "firebase-functions/v2/scheduler";
import { parseCron } from "../cron/cron-expression.js";
import { startCronTick, validateCronConfig, type CronOverlap } from "../cron/cron-tick.js";
import { InvalidArgumentError } from "../errors.js";
import { resolveFlow, type Flow, type FlowInput, type FlowRef } from "../flow.js";
import { getRuntime } from "../runtime/configure.js";

export type CronFlowOptions<F extends Flow = Flow> = Omit<ScheduleOptions, "schedule" | "timeZone"> & {
  /** Unix cron (five fields) or App Engine syntax ("every 5 minutes"), as Cloud Scheduler takes it. */
  schedule: string;
  /** The flow's input for every tick, or a function of the tick's time. */
  input: FlowInput<F> | ((tick: Date) => FlowInput<F>);
  /** "skip": no new run while an earlier run of this cron is unfinished; "allow": start every tick. */
  overlap: CronOverlap;
  /** Cloud Scheduler evaluates the schedule in this zone (default UTC); flow ids always use the UTC tick. */
  timeZone?: ScheduleOptions["timeZone"];
  /** Names the cron in its flow ids (default: the flow's name). */
  name?: string;
};

export type CronFlowFunction<F extends Flow = Flow> = ScheduleFunction & { readonly flow: F };

export function onCronFlow<F extends Flow>(flowRef: FlowRef<F>, options: CronFlowOptions<F>): CronFlowFunction<F> {
  const flow = resolveFlow(flowRef);
  const { input, overlap, name: cronName, schedule, ...scheduleOptions } = options;
  const name = cronName ?? flow.name;
  validateCronConfig(name, overlap);
  if (typeof schedule !== "string") throw new InvalidArgumentError(`onCronFlow("${flow.name}") needs a schedule string.`);
  // App Engine syntax ("every 5 minutes") is Cloud Scheduler's to check; cron syntax is checked here, before deploy.
  if (!/^every\s/i.test(schedule.trim())) parseCron(schedule);
  const fn = onSchedule({ ...scheduleOptions, schedule }, async (event) => {
    const tick = new Date(event.scheduleTime);
    if (!Number.isFinite(tick.getTime())) {
      throw new InvalidArgumentError(`onCronFlow("${flow.name}") got a scheduleTime that is not a time: ${JSON.stringify(event.scheduleTime)}.`);
    }
    const result = await startCronTick(getRuntime(), { flow, name, input, overlap }, tick);
    logger.info(`firestep: cron ${name} tick ${result.tick.toISOString()} ${result.outcome}`, { ...result, tick: result.tick.toISOString() });
  });
  return Object.assign(fn, { flow });
}
