/**
 * setTimeout for any delay. Node runs a timeout of more than 2^31-1 ms (~24.8 days) after 1 ms instead
 * (with a TimeoutOverflowWarning), so a longer wait is a chain of timeouts of at most that length.
 */

/** The longest delay setTimeout takes as given. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Calls `fn` once `ms` have passed; returns a function that cancels it, whichever piece of the chain is
 * waiting. With `unref`, no piece keeps the process alive.
 */
export function setLongTimeout(ms: number, fn: () => void, options: { unref?: boolean } = {}): () => void {
  let remaining = Math.max(0, ms);
  let timer: ReturnType<typeof setTimeout>;
  const arm = () => {
    const piece = Math.min(remaining, MAX_TIMEOUT_MS);
    remaining -= piece;
    timer = setTimeout(remaining > 0 ? arm : fn, piece);
    if (options.unref) timer.unref?.();
  };
  arm();
  return () => clearTimeout(timer);
}
