/** A clock whose time moves only when told: a week's sleep passes in one call. */
import type { Clock } from "../ports.js";

export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in order (awaiting the work they start between firings). */
  advance(ms: number): Promise<void>;
  /** Moves time to the next timer and fires it; false when none is set. */
  next(): Promise<boolean>;
  set(epochMs: number): void;
  pendingTimers(): number;
}

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export function createFakeClock(start = Date.parse("2026-01-01T00:00:00Z")): FakeClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, Timer>();
  const earliest = () => {
    let best: Timer | undefined;
    for (const t of timers.values()) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  };
  const flush = () => new Promise<void>((r) => setImmediate(r));
  return {
    now: () => now,
    setTimer(ms, fn) {
      const t: Timer = { at: now + Math.max(0, ms), seq: seq++, fn };
      timers.set(t.seq, t);
      if (ms <= 0) queueMicrotask(() => fire(t));
      return () => timers.delete(t.seq);
    },
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        await flush();
        const t = earliest();
        if (!t || t.at > target) break;
        now = Math.max(now, t.at);
        fire(t);
      }
      now = target;
      await flush();
    },
    async next() {
      await flush();
      const t = earliest();
      if (!t) return false;
      now = Math.max(now, t.at);
      fire(t);
      await flush();
      return true;
    },
    set(epochMs) {
      now = epochMs;
    },
    pendingTimers: () => timers.size,
  };
  function fire(t: Timer): void {
    if (!timers.delete(t.seq)) return;
    t.fn();
  }
}
