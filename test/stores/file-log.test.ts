import { describe, expect, it } from "vitest";
import { jsonEqual } from "../../src/json-value.js";
import { emptyLog, encodeLine, foldChunk, type LogLine } from "../../src/stores/file-log.js";
import { recordPatch } from "../../src/stores/store-helpers.js";
import type { FlowRecord } from "../../src/schemas.js";
import { sampleRecord } from "../../src/testing/store-contract.js";

/** Folds `lines` the way a reader of the file does: from bytes, validated. */
function fold(lines: LogLine[]) {
  const log = emptyLog(undefined, "test.log", true);
  foldChunk(log, Buffer.concat(lines.map((l) => encodeLine(l).bytes)));
  return log;
}

describe("commit lines carry a record patch", () => {
  const base: FlowRecord = { ...sampleRecord(), input: { big: "x".repeat(1000), list: [1, 2, 3] }, lease: { owner: "a", until: 5 }, wakeAt: 10 };

  it("leaves out what did not change, and folds back to the whole next record", () => {
    const next: FlowRecord = { ...base, input: { big: "x".repeat(1000), list: [1, 2, 3] }, rev: 1, stepCount: 1, lease: { owner: "a", until: 6 } };
    const patch = recordPatch(base, next);
    expect(patch).toEqual({ set: { rev: 1, stepCount: 1, lease: { owner: "a", until: 6 } } });
    const log = fold([
      { op: "create", rev: 0, nonce: "n0", record: base },
      { op: "commit", rev: 1, nonce: "n1", ...patch },
    ]);
    expect(log.record).toEqual(next);
  });

  it("lists removed keys in unset, and a key holding undefined counts as removed", () => {
    const next = { ...base, rev: 1, wakeAt: undefined, status: "succeeded", output: { value: 3 } } as FlowRecord;
    delete (next as Partial<FlowRecord>).lease;
    const patch = recordPatch(base, next);
    expect(patch.unset?.sort()).toEqual(["lease", "wakeAt"]);
    expect(patch.set).toEqual({ rev: 1, status: "succeeded", output: { value: 3 } });
    const log = fold([
      { op: "create", rev: 0, nonce: "n0", record: base },
      { op: "commit", rev: 1, nonce: "n1", ...patch },
    ]);
    expect(log.record).toEqual(JSON.parse(JSON.stringify(next)));
    expect(log.record).not.toHaveProperty("lease");
  });

  it("a line with the whole record (as earlier versions wrote) still replaces the record", () => {
    const next: FlowRecord = { ...base, rev: 1, status: "running" };
    const log = fold([
      { op: "create", rev: 0, nonce: "n0", record: base },
      { op: "commit", rev: 1, nonce: "n1", record: next },
    ]);
    expect(log.record).toEqual(next);
  });
});

describe("jsonEqual", () => {
  it("compares as the JSON written would", () => {
    expect(jsonEqual({ a: 1, b: [1, { c: "x" }] }, { b: [1, { c: "x" }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(true);
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 2 })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: null })).toBe(false);
    expect(jsonEqual([1, 2], [1, 2, 3])).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });

  it("reports what JSON would transform as different, never as equal", () => {
    expect(jsonEqual("2020-01-01T00:00:00.000Z", new Date(0))).toBe(false);
    expect(jsonEqual(null, Number.NaN)).toBe(false);
    expect(jsonEqual(Number.NaN, Number.NaN)).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, toJSON: () => ({ a: 1 }) })).toBe(false);
  });
});
