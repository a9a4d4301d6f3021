/** Retry and poll back-off: how long to wait before attempt n, from a validated policy. */
import { z } from "zod";
import { formatIssues, InvalidArgumentError } from "../errors.js";
import { capWaitSeconds, WaitSecondsSchema } from "./wait-bound.js";

export const RetryConfigSchema = z
  .object({
    /** Total attempts, the first included (1 = no retry). */
    maxAttempts: z.number().int().min(1).max(1000),
    minBackoffSeconds: WaitSecondsSchema.default(1),
    maxBackoffSeconds: WaitSecondsSchema.optional(),
    backoffMultiplier: z.number().min(1).default(2),
  })
  .strict()
  .refine((c) => c.maxBackoffSeconds === undefined || c.maxBackoffSeconds >= c.minBackoffSeconds, {
    message: "maxBackoffSeconds must be at least minBackoffSeconds",
  });
export type RetryConfig = z.input<typeof RetryConfigSchema>;
export type ResolvedRetryConfig = z.output<typeof RetryConfigSchema>;

/** Configs already validated: a flow's default config is resolved once, not on every step. */
const resolved = new WeakMap<RetryConfig, ResolvedRetryConfig>();

export function resolveRetryConfig(step: string, config: RetryConfig): ResolvedRetryConfig {
  const known = resolved.get(config);
  if (known) return known;
  const r = RetryConfigSchema.safeParse(config);
  if (!r.success) throw new InvalidArgumentError(`retryConfig of step "${step}" is invalid: ${formatIssues(r.error)}.`);
  resolved.set(config, r.data);
  return r.data;
}

/** Seconds to wait after failed attempt `attempt` (1-based) before the next one; never past the wait bound, however it grows. */
export function backoffSeconds(c: ResolvedRetryConfig, attempt: number): number {
  const raw = c.minBackoffSeconds * Math.pow(c.backoffMultiplier, Math.max(0, attempt - 1));
  return capWaitSeconds(c.maxBackoffSeconds === undefined ? raw : Math.min(raw, c.maxBackoffSeconds));
}

export const PollConfigSchema = z
  .object({
    name: z.string(),
    pollPeriodSeconds: WaitSecondsSchema,
    /** Multiplies the period after every round (1 = fixed period). */
    backoff: z.number().min(1).optional(),
    /** Longest period once backed off. */
    maxPeriodSeconds: WaitSecondsSchema.optional(),
    timeoutSeconds: WaitSecondsSchema.positive().optional(),
  })
  .strict();
export type PollConfig = z.input<typeof PollConfigSchema>;

/** The wait before poll round `round`; never past the wait bound, however the period grows. */
export function pollDelaySeconds(c: PollConfig, round: number): number {
  const raw = c.pollPeriodSeconds * Math.pow(c.backoff ?? 1, Math.max(0, round - 1));
  return capWaitSeconds(c.maxPeriodSeconds === undefined ? raw : Math.min(raw, c.maxPeriodSeconds));
}
