import { defineString } from "firebase-functions/params";
import { setGlobalOptions } from "firebase-functions/v2";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { dispatchDeadlineForFlow, queueForFlow } from "../../src/firebase/firebase-runtime.js";
import { DEFAULT_FUNCTION_OPTIONS, onScheduledFlow } from "../../src/firebase/on-scheduled-flow.js";
import { isFirestepError } from "../../src/errors.js";

const io = { input: z.number(), output: z.number() };
const double = async (n: number) => n * 2;

describe("onScheduledFlow's function options", () => {
  afterEach(() => {
    delete process.env.FIRESTEP_TEST_FLOW_REGION;
  });

  it("enqueues to us-central1 (the bare function name) when no region is set anywhere", () => {
    onScheduledFlow({ name: "optsNoRegion", ...io }, double);
    expect(queueForFlow("optsNoRegion")).toBe("optsNoRegion");
  });

  it("enqueues to the region the flow's own options name", () => {
    onScheduledFlow({ name: "optsOwnRegion", ...io, region: "europe-west1" }, double);
    expect(queueForFlow("optsOwnRegion")).toBe("locations/europe-west1/functions/optsOwnRegion");
  });

  it("enqueues to a region given as a param, read when the task is enqueued", () => {
    onScheduledFlow({ name: "optsParamRegion", ...io, region: defineString("FIRESTEP_TEST_FLOW_REGION") }, double);
    process.env.FIRESTEP_TEST_FLOW_REGION = "asia-east1";
    expect(queueForFlow("optsParamRegion")).toBe("locations/asia-east1/functions/optsParamRegion");
  });

  it("refuses to guess when a region param cannot be read, saying how to fix it", () => {
    onScheduledFlow({ name: "optsUnsetParam", ...io, region: defineString("FIRESTEP_TEST_FLOW_REGION") }, double);
    let error: unknown;
    try {
      queueForFlow("optsUnsetParam");
    } catch (e) {
      error = e;
    }
    expect(isFirestepError(error) && error.code).toBe("NOT_CONFIGURED");
    expect(String(error)).toMatch(/param.*Set the param/);
  });

  it("keeps every default of retryConfig and rateLimits that the flow does not set", () => {
    const fn = onScheduledFlow({ name: "optsPartial", ...io, retryConfig: { maxAttempts: 5 }, rateLimits: { maxDispatchesPerSecond: 10 } }, double);
    const trigger = fn.__endpoint.taskQueueTrigger as { retryConfig: Record<string, unknown>; rateLimits: Record<string, unknown> };
    expect(trigger.retryConfig).toMatchObject({ ...DEFAULT_FUNCTION_OPTIONS.retryConfig, maxAttempts: 5 });
    expect(trigger.rateLimits).toMatchObject({ maxConcurrentDispatches: 100, maxDispatchesPerSecond: 10 });
  });

  it("gives Cloud Tasks a dispatch deadline as long as the function's timeout, at least Cloud Tasks' 15 s", () => {
    onScheduledFlow({ name: "optsDefaultTimeout", ...io }, double);
    onScheduledFlow({ name: "optsLongTimeout", ...io, timeoutSeconds: 1800 }, double);
    onScheduledFlow({ name: "optsTwentyMinutes", ...io, timeoutSeconds: 1200 }, double);
    onScheduledFlow({ name: "optsShortTimeout", ...io, timeoutSeconds: 5 }, double);
    expect(dispatchDeadlineForFlow("optsDefaultTimeout")).toBe(540);
    expect(dispatchDeadlineForFlow("optsLongTimeout")).toBe(1800);
    expect(dispatchDeadlineForFlow("optsTwentyMinutes")).toBe(1200);
    expect(dispatchDeadlineForFlow("optsShortTimeout")).toBe(15);
    expect(dispatchDeadlineForFlow("neverDefined")).toBeUndefined();
  });

  // Last: setGlobalOptions applies to every function defined after it in this process.
  it("enqueues to the region set with setGlobalOptions before the flow was defined", () => {
    setGlobalOptions({ region: "europe-west3" });
    const fn = onScheduledFlow({ name: "optsGlobalRegion", ...io }, double);
    expect(fn.__endpoint.region).toEqual(["europe-west3"]);
    expect(queueForFlow("optsGlobalRegion")).toBe("locations/europe-west3/functions/optsGlobalRegion");
  });
});
