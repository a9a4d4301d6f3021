/**
 * The options of the app-level calls, checked where they come in: a strict zod schema per options object,
 * so a wrong type, a value out of range or an unknown key (a typo that would otherwise be ignored) is an
 * InvalidArgumentError naming the key and what it takes, before anything is stored.
 */
import { z } from "zod";
import { InvalidArgumentError, showValue } from "../errors.js";
import { isWaitSeconds, MAX_WAIT_SECONDS, MAX_WAIT_TEXT } from "../engine/wait-bound.js";
import type { ListQuery } from "../ports.js";
import { FLOW_STATUSES, FlowStatusSchema, type FlowStatus } from "../schemas.js";

export const FLOW_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** FLOW_ID_PATTERN as messages say it. */
export const FLOW_ID_RULE = 'a string of 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit';

export interface ScheduleOptions {
  /** Seconds before the flow starts (default 0; at most 100 years). */
  delaySeconds?: number;
  /** A caller-chosen id: the flow starts once; the same id again returns the existing operation. */
  flowId?: string;
  /** Set by startChild: the flow that started this one. */
  parentId?: string;
}

export interface ResumeOptions {
  /** The interrupt to answer, by name or key (default: the one the flow is blocked on). */
  step?: string;
}

/** What each option takes, as messages say it. */
const EXPECTED: Record<string, string> = {
  delaySeconds: `a number from 0 to ${MAX_WAIT_TEXT}`,
  flowId: FLOW_ID_RULE,
  parentId: "a flow id (a non-empty string)",
  step: "a string: the name of the interrupt to answer",
  flowName: "a string: the name of a flow",
  status: `one of ${FLOW_STATUSES.join(", ")}, or a non-empty array of them`,
  limit: "a whole number from 1 to 1000",
  cursor: "a string: the cursor of the previous page, unchanged",
  reason: "a string",
};

const ScheduleOptionsSchema = z
  .object({
    delaySeconds: z.number().min(0).max(MAX_WAIT_SECONDS).optional(),
    flowId: z.string().regex(FLOW_ID_PATTERN).optional(),
    parentId: z.string().min(1).optional(),
  })
  .strict();

const ResumeOptionsSchema = z.object({ step: z.string().optional() }).strict();

const ListQuerySchema = z
  .object({
    flowName: z.string().optional(),
    status: z.union([FlowStatusSchema, z.array(FlowStatusSchema).min(1)]).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    cursor: z.string().optional(),
  })
  .strict();

/** scheduleFlow's third argument: a delay in seconds, or options. */
export function parseScheduleOptions(delayOrOptions: unknown): ScheduleOptions {
  // The common calls skip zod: scheduling is a hot path.
  if (delayOrOptions === undefined) return {};
  if (typeof delayOrOptions === "number") {
    if (!isWaitSeconds(delayOrOptions)) throw badOption("scheduleFlow", "delaySeconds", delayOrOptions);
    return { delaySeconds: delayOrOptions };
  }
  if (!isPlainObject(delayOrOptions)) {
    throw new InvalidArgumentError(
      `scheduleFlow: the third argument must be a delay in seconds or an options object (${Object.keys(ScheduleOptionsSchema.shape).join(", ")}); got ${showValue(delayOrOptions)}.`,
    );
  }
  return parseOptions("scheduleFlow", ScheduleOptionsSchema, delayOrOptions);
}

export function parseResumeOptions(options: unknown): ResumeOptions {
  return options === undefined ? {} : parseOptions("resumeFlow", ResumeOptionsSchema, options);
}

export function parseListQuery(query: unknown): ListQuery {
  return query === undefined ? {} : parseOptions("listFlows", ListQuerySchema, query);
}

export function parseCancelReason(reason: unknown): string | undefined {
  if (reason !== undefined && typeof reason !== "string") throw badOption("cancelFlow", "reason", reason);
  return reason;
}

/**
 * A comma-separated list of statuses, as `GET /flows?status=` and `firestep list --status` take it. An
 * empty item is refused like an unknown one: dropping it would list every status. `what` names the parameter.
 */
export function parseStatusList(text: string, what: string): FlowStatus | FlowStatus[] {
  const statuses = text.split(",").map((s) => s.trim());
  for (const s of statuses) {
    if (!(FLOW_STATUSES as readonly string[]).includes(s)) {
      const got = s === "" ? "an empty one" : JSON.stringify(s);
      throw new InvalidArgumentError(`${what} takes one or more of ${FLOW_STATUSES.join(", ")}, separated by commas; got ${got}${statuses.length > 1 ? ` in ${JSON.stringify(text)}` : ""}.`);
    }
  }
  return statuses.length === 1 ? (statuses[0] as FlowStatus) : (statuses as FlowStatus[]);
}

function parseOptions<S extends z.ZodObject>(call: string, schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const keys = Object.keys(schema.shape);
  if (!isPlainObject(value)) throw new InvalidArgumentError(`${call}: the options must be an object (${keys.join(", ")}); got ${showValue(value)}.`);
  const issues = parsed.error.issues;
  // An unknown key first: a misspelt option most likely explains the rest.
  const unknown = issues.find((i) => i.code === "unrecognized_keys");
  if (unknown) {
    const names = unknown.keys.map((k) => `"${k}"`).join(", ");
    throw new InvalidArgumentError(`${call}: unknown option${unknown.keys.length > 1 ? "s" : ""} ${names}. The options are ${keys.join(", ")}.`);
  }
  const key = String(issues[0]!.path[0]);
  throw badOption(call, key, value[key]);
}

function badOption(call: string, key: string, value: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`${call}: ${key} must be ${EXPECTED[key] ?? "valid"}; got ${showValue(value)}.`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
