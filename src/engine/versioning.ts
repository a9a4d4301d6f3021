/**
 * `patched(id)`: lets new code take a new path while flows started by old code keep replaying the old
 * one. A fresh execution records a marker and gets true; a replay of a journal written before the patch
 * (it has steps past this point but no marker) gets false and records nothing.
 */
import { currentContext } from "./invocation-context.js";

export async function patched(changeId: string): Promise<boolean> {
  const ctx = currentContext("patched");
  const name = `$patch:${changeId}`;
  if (ctx.journalHasKey(name)) {
    ctx.nextCall(name, "value");
    return true;
  }
  if (ctx.hasHistoryBeyondCall()) return false;
  return ctx.activity.track(
    (async () => {
      const { key, call, done } = ctx.nextCall(name, "value");
      if (done) return true;
      const now = ctx.io.now();
      await ctx.persist(ctx.newStep({ call, key, name, kind: "value", ok: true, value: true, attempts: 1, startedAt: now, endedAt: now }));
      return true;
    })(),
  );
}
