/**
 * Signals: messages sent to a running flow with `signalFlow`, checked against the schema the flow
 * declared, kept in its inbox in order, and taken one at a time by `waitForSignal` (a memoized step: on
 * replay it returns the signal it took the first time).
 */
import { InvalidArgumentError, showValue, SignalTimeoutError } from "../errors.js";
import { serializeError } from "../errors.js";
import { jsonCopy } from "../json-value.js";
import type { z } from "zod";
import { currentContext, type InvocationContext, type NextCall } from "./invocation-context.js";
import { journalStep, journalValue } from "./steps.js";
import { isSignalInboxKey } from "./transitions.js";
import { isWaitSeconds, MAX_WAIT_TEXT } from "./wait-bound.js";

const PREFIX = "signal:";

/** Takes the oldest signal `name` not yet taken, waiting until one arrives (or the timeout passes). */
export async function waitForSignal<T = unknown>(name: string, options: { timeoutSeconds?: number } = {}): Promise<T> {
  const ctx = currentContext("waitForSignal");
  const schema = ctx.flow.signals?.[name];
  if (!schema) throw new InvalidArgumentError(`Flow "${ctx.flow.name}" waits for signal "${name}" but does not declare it: add it to the flow's signals.`);
  const t = options.timeoutSeconds;
  if (t !== undefined && !(isWaitSeconds(t) && t > 0)) {
    throw new InvalidArgumentError(`timeoutSeconds of waitForSignal("${name}") must be a number above 0 and at most ${MAX_WAIT_TEXT}; got ${showValue(t)}.`);
  }
  return journalStep(
    ctx,
    `${PREFIX}${name}`,
    "signal",
    (done) => {
      const taken = (done.value as { inboxKey?: string } | undefined)?.inboxKey;
      if (taken && ctx.inbox[taken]) ctx.consumedInbox.add(taken);
      if (!done.ok) throw new SignalTimeoutError(name, options.timeoutSeconds ?? 0);
      return journalValue<{ payload: T }>(done).payload;
    },
    (next) => takeSignal<T>(ctx, next, name, schema, options),
  );
}

async function takeSignal<T>(ctx: InvocationContext, next: NextCall, name: string, schema: z.ZodType, options: { timeoutSeconds?: number }): Promise<T> {
  ctx.activity.begin();
  try {
    const { key, call } = next;
    const now = ctx.io.now();
    const firstAt = ctx.progress[key]?.firstAt ?? now;
    const inboxKey = Object.keys(ctx.inbox)
      .filter((k) => isSignalInboxKey(k, name) && !ctx.consumedInbox.has(k))
      .sort()[0];
    if (inboxKey) {
      ctx.consumedInbox.add(inboxKey);
      const parsed = schema.safeParse(ctx.inbox[inboxKey]!.value);
      const payload = jsonCopy(parsed.success ? parsed.data : ctx.inbox[inboxKey]!.value) as T;
      const step = ctx.newStep({ call, key, name: `${PREFIX}${name}`, kind: "signal", ok: true, value: { inboxKey, payload }, attempts: 1, startedAt: firstAt, endedAt: now });
      delete ctx.progress[key];
      ctx.event({ type: "step.completed", step: key });
      await ctx.persist(step);
      return journalValue<{ payload: T }>(step).payload;
    }
    const until = options.timeoutSeconds === undefined ? undefined : firstAt + options.timeoutSeconds * 1000;
    if (until !== undefined && now >= until) {
      const step = ctx.newStep({ call, key, name: `${PREFIX}${name}`, kind: "signal", ok: false, error: serializeError(new SignalTimeoutError(name, options.timeoutSeconds!)), attempts: 1, startedAt: firstAt, endedAt: now });
      delete ctx.progress[key];
      await ctx.persist(step);
      throw new SignalTimeoutError(name, options.timeoutSeconds!);
    }
    ctx.progress[key] = { attempts: 0, firstAt };
    return ctx.park(call, { kind: "signal", step: key, name, ...(until !== undefined ? { until } : {}) }, () => takeSignal<T>(ctx, next, name, schema, options));
  } finally {
    ctx.activity.end();
  }
}
