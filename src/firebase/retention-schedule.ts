/** Retention on Firebase: a scheduled function that deletes finished flows older than an age. */
import { onSchedule, type ScheduleOptions } from "firebase-functions/v2/scheduler";
import { logger } from "firebase-functions";
import { getRuntime } from "../runtime/configure.js";
import { purgeFinishedFlows, type RetentionOptions } from "../runtime/retention.js";

export function onRetentionSchedule(options: RetentionOptions & { schedule?: string } & Omit<ScheduleOptions, "schedule">) {
  const { finishedOlderThanSeconds, flowName, max, schedule, ...functionOptions } = options;
  return onSchedule({ schedule: schedule ?? "every 24 hours", ...functionOptions }, async () => {
    const result = await purgeFinishedFlows(getRuntime(), { finishedOlderThanSeconds, ...(flowName ? { flowName } : {}), ...(max ? { max } : {}) });
    logger.info(`firestep: retention deleted ${result.deleted} of ${result.scanned} finished flows scanned`);
  });
}
