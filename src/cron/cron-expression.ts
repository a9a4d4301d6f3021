/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week) and the next time one fires.
 * Each field takes `*`, `*\/n`, `a`, `a-b`, `a-b/n`, `a/n` and comma lists of those; months and days of
 * the week also take names (JAN-DEC, SUN-SAT; 0 and 7 are both Sunday). `@hourly`, `@daily`,
 * `@weekly`, `@monthly` and `@yearly` are shorthands. As in Vixie cron, when both day fields are
 * restricted a day matches either; when one starts with `*` a day must match both. Times are UTC only.
 */
import { InvalidArgumentError } from "../errors.js";

export interface CronSchedule {
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday. */
  readonly daysOfWeek: ReadonlySet<number>;
  /** True when a day must match day-of-month or day-of-week (both restricted), false when it must match both. */
  readonly eitherDay: boolean;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  hint: string;
}

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59, hint: "0-59" },
  { name: "hour", min: 0, max: 23, hint: "0-23" },
  { name: "day-of-month", min: 1, max: 31, hint: "1-31" },
  { name: "month", min: 1, max: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], hint: "1-12 or JAN-DEC" },
  { name: "day-of-week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], hint: "0-7 or SUN-SAT, 0 and 7 being Sunday" },
];

const SHORTHANDS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** Days in each month of a leap year: a day-of-month that no selected month has can never fire. */
const MAX_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function parseCron(expression: string): CronSchedule {
  if (typeof expression !== "string") throw new InvalidArgumentError(`A cron expression must be a string; got ${String(expression)}.`);
  const source = expression.trim();
  const expanded = source.startsWith("@") ? SHORTHANDS[source.toLowerCase()] : source;
  if (expanded === undefined) {
    throw new InvalidArgumentError(`Cron expression "${source}" is not a known shorthand: use one of ${Object.keys(SHORTHANDS).join(", ")}, or five fields.`);
  }
  const parts = expanded.split(/\s+/).filter(Boolean);
  if (parts.length !== 5) {
    throw new InvalidArgumentError(
      `Cron expression "${source}" has ${parts.length} field${parts.length === 1 ? "" : "s"}; it needs 5: minute hour day-of-month month day-of-week (e.g. "0 9 * * MON-FRI").`,
    );
  }
  const [minutes, hours, daysOfMonth, months, rawDaysOfWeek] = parts.map((p, i) => parseField(source, FIELDS[i]!, p));
  const daysOfWeek = new Set([...rawDaysOfWeek!].map((d) => d % 7));
  const eitherDay = !parts[2]!.startsWith("*") && !parts[4]!.startsWith("*");
  if (!eitherDay && ![...months!].some((m) => [...daysOfMonth!].some((d) => d <= MAX_DAYS[m - 1]!))) {
    throw new InvalidArgumentError(
      `Cron expression "${source}" never fires: no month in the month field "${parts[3]}" has a day in the day-of-month field "${parts[2]}". Fix the day-of-month field.`,
    );
  }
  return { source, minutes: minutes!, hours: hours!, daysOfMonth: daysOfMonth!, months: months!, daysOfWeek, eitherDay };
}

function parseField(source: string, spec: FieldSpec, text: string): Set<number> {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`Cron expression "${source}": the ${spec.name} field "${text}" is invalid: ${why}. Allowed: ${spec.hint}, "*", "*/n", "a-b", "a-b/n" and lists "a,b".`);
  };
  const values = new Set<number>();
  for (const item of text.split(",")) {
    if (item === "") fail("it has an empty list item");
    const [range, stepText, extra] = item.split("/");
    if (extra !== undefined) fail(`"${item}" has more than one "/"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText)) fail(`the step in "${item}" is not a whole number`);
      step = Number(stepText);
      if (step < 1 || step > spec.max) fail(`the step in "${item}" must be from 1 to ${spec.max}`);
    }
    let lo: number;
    let hi: number;
    if (range === "*") {
      lo = spec.min;
      hi = spec.max;
    } else {
      const bounds = range!.split("-");
      if (bounds.length > 2) fail(`"${item}" is not a value or a range a-b`);
      lo = value(bounds[0]!, spec, fail);
      // "a/n" means from a to the end of the field, stepping by n.
      hi = bounds.length === 2 ? value(bounds[1]!, spec, fail) : stepText !== undefined ? spec.max : lo;
      if (lo > hi) fail(`the range "${range}" goes backwards; write it from low to high`);
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return values;
}

function value(text: string, spec: FieldSpec, fail: (why: string) => never): number {
  const byName = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (byName >= 0) return byName + spec.min;
  if (!/^\d+$/.test(text)) fail(`"${text}" is not a number${spec.names ? " or a name" : ""}`);
  const n = Number(text);
  if (n < spec.min || n > spec.max) fail(`${n} is out of range`);
  return n;
}

const MINUTE = 60_000;
/** A day-of-month rule such as Feb 29 on a Monday may skip decades; beyond this, give up. */
const SEARCH_YEARS = 50;

/**
 * The first time after `after` (strictly, at minute resolution) at which `expression` fires, in UTC.
 * Only "UTC" is supported as a time zone.
 */
export function nextRun(expression: string | CronSchedule, after: Date, timeZone = "UTC"): Date {
  if (timeZone !== "UTC") {
    throw new InvalidArgumentError(`Time zone "${timeZone}" is not supported: Firestep's cron evaluates schedules in UTC only. Write the schedule in UTC and pass "UTC".`);
  }
  const from = after instanceof Date ? after.getTime() : NaN;
  if (!Number.isFinite(from)) throw new InvalidArgumentError(`nextRun needs a valid Date as \`after\`; got ${String(after)}.`);
  const s = typeof expression === "string" ? parseCron(expression) : expression;
  let t = new Date(Math.floor(from / MINUTE) * MINUTE + MINUTE);
  const lastYear = t.getUTCFullYear() + SEARCH_YEARS;
  while (t.getUTCFullYear() <= lastYear) {
    const [y, mo, d, h] = [t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours()];
    if (!s.months.has(mo + 1)) t = new Date(Date.UTC(y, mo + 1, 1));
    else if (!dayMatches(s, t)) t = new Date(Date.UTC(y, mo, d + 1));
    else if (!s.hours.has(h)) t = new Date(Date.UTC(y, mo, d, h + 1));
    else if (!s.minutes.has(t.getUTCMinutes())) t = new Date(t.getTime() + MINUTE);
    else return t;
  }
  throw new InvalidArgumentError(`Cron expression "${s.source}" does not fire within ${SEARCH_YEARS} years after ${new Date(from).toISOString()}. Check its day-of-month, month and day-of-week fields.`);
}

function dayMatches(s: CronSchedule, t: Date): boolean {
  const dom = s.daysOfMonth.has(t.getUTCDate());
  const dow = s.daysOfWeek.has(t.getUTCDay());
  return s.eitherDay ? dom || dow : dom && dow;
}
