/**
 * The longest a flow may wait for anything: 100 years. A wake time further out is a mistake (milliseconds
 * passed as seconds, an overflow), and past the year 275760 it is not a date at all: storing one made
 * every listing of flows fail. So a delay, sleep, timeout or period beyond it is refused where it is
 * given, before anything is stored, and a back-off that grows is capped at it.
 */
import { z } from "zod";

export const MAX_WAIT_SECONDS = 100 * 365 * 24 * 3600;
/** How messages and docs name the bound. */
export const MAX_WAIT_TEXT = `${MAX_WAIT_SECONDS} seconds (100 years)`;

/** A number of seconds from 0 to the bound (finite, so not NaN). */
export function isWaitSeconds(v: unknown): v is number {
  return typeof v === "number" && v >= 0 && v <= MAX_WAIT_SECONDS;
}

/** A computed wait (a back-off that keeps growing) held to the bound. */
export function capWaitSeconds(seconds: number): number {
  return Math.min(seconds, MAX_WAIT_SECONDS);
}

/** Seconds from 0 to the bound, for config schemas; the message names the bound. */
export const WaitSecondsSchema = z.number().min(0).max(MAX_WAIT_SECONDS, { error: `must be at most ${MAX_WAIT_TEXT}` });
