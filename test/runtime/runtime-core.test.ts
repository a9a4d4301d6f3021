import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../src/runtime/runtime-core.js";

const DAY_MS = 86_400_000;
/** The longest delay setTimeout takes as given; Node runs a longer one after 1 ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

afterEach(() => {
  vi.useRealTimers();
});

describe("systemClock.setTimer", () => {
  it("fires a timer longer than setTimeout's limit (~24.8 days) when it is due, not after 1 ms", () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    systemClock.setTimer(30 * DAY_MS, fired);
    vi.advanceTimersByTime(10);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY_MS - 11);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60 * DAY_MS);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it("never hands setTimeout more than its limit, even for a delay of centuries", () => {
    vi.useFakeTimers();
    const spy = vi.spyOn(globalThis, "setTimeout");
    const fired = vi.fn();
    systemClock.setTimer(1e12, fired);
    vi.advanceTimersByTime(1e12 - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    expect(Math.max(...spy.mock.calls.map((c) => Number(c[1])))).toBeLessThanOrEqual(MAX_TIMEOUT_MS);
  });

  it("cancels a long timer whichever of its pieces is running", () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const cancel = systemClock.setTimer(60 * DAY_MS, fired);
    vi.advanceTimersByTime(40 * DAY_MS);
    cancel();
    vi.advanceTimersByTime(40 * DAY_MS);
    expect(fired).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("lets the process exit while a long timer waits, without a TimeoutOverflowWarning", () => {
    const script = `
      const { systemClock } = await import(${JSON.stringify(new URL("../../dist/src/runtime/runtime-core.js", import.meta.url).href)});
      systemClock.setTimer(${30 * DAY_MS}, () => console.log("fired early"));
      setTimeout(() => {}, 50); // a little real work, so the long timer's pieces get a chance to fire
    `;
    const started = Date.now();
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 10_000 });
    expect(child.status).toBe(0);
    expect(child.stdout).toBe("");
    expect(child.stderr).not.toContain("TimeoutOverflowWarning");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
