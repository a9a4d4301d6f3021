import { describe, expect, it } from "vitest";
import { describeWait, formatList } from "../../src/cli/format.js";
import { newFlowRecord } from "../../src/engine/transitions.js";
import type { FlowRecord } from "../../src/schemas.js";

const NOW = Date.UTC(2030, 0, 1);

describe("the CLI's listing of waits", () => {
  it("prints a wait's end as ISO time", () => {
    const r: FlowRecord = { ...newFlowRecord({ id: "a", flowName: "f", input: 1, now: NOW, startAt: NOW }), status: "waiting", waits: [{ kind: "sleep", step: "nap", until: NOW + 60_000 }] };
    expect(describeWait(r)).toBe('sleep "nap" until 2030-01-01T00:01:00.000Z');
  });

  it("lists a flow whose stored wait ends past what a Date holds (written by an older version) instead of throwing", () => {
    const r: FlowRecord = {
      ...newFlowRecord({ id: "far", flowName: "f", input: 1, now: NOW, startAt: NOW }),
      status: "waiting",
      waits: [{ kind: "interrupt", name: "ok", step: "ok", until: 1e300 } as FlowRecord["waits"][number]],
    };
    expect(describeWait(r)).toBe('interrupt "ok" until 1e+300 ms (not a date)');
    expect(formatList([r])).toContain("far");
  });
});
