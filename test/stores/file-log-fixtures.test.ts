/**
 * Flow logs written by earlier versions of the file store, kept under test/fixtures/file-logs, must read
 * the same with today's code, and take new commits. Each `<name>.log` was written by running a flow of
 * three steps (a run, a sleep, a run) on the embedded runtime; `<name>.expected.json` holds what the store
 * that wrote it read back. `whole-records` is the format whose every commit line held the whole record;
 * `patched-records` the one whose commit lines hold only what changed.
 */
import { copyFile, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { FlowRecord, HistoryEvent, StepRecord } from "../../src/schemas.js";
import { createFileStore } from "../../src/stores/file-store.js";
import { sampleStep } from "../../src/testing/store-contract.js";

const fixtures = join(import.meta.dirname, "..", "fixtures", "file-logs");
const names = (await readdir(fixtures)).filter((f) => f.endsWith(".log")).map((f) => f.slice(0, -".log".length));

interface Expected {
  id: string;
  file: string;
  record: FlowRecord;
  steps: StepRecord[];
  history: HistoryEvent[];
}

describe("saved flow logs", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it("has both formats to read", () => expect(names.sort()).toEqual(["patched-records", "whole-records"]));

  it.each(names)("%s: reads back as the store that wrote it did, and takes a new commit", async (name) => {
    const expected = JSON.parse(await readFile(join(fixtures, `${name}.expected.json`), "utf8")) as Expected;
    const dir = await mkdtemp(join(tmpdir(), "firestep-saved-log-"));
    dirs.push(dir);
    await copyFile(join(fixtures, `${name}.log`), join(dir, expected.file));

    const store = createFileStore({ dir });
    const loaded = (await store.load(expected.id))!;
    expect(JSON.parse(JSON.stringify(loaded))).toEqual({ record: expected.record, steps: expected.steps });
    expect(JSON.parse(JSON.stringify(await store.history(expected.id)))).toEqual(expected.history);

    const next: FlowRecord = { ...loaded.record, rev: loaded.record.rev + 1, stepCount: loaded.record.stepCount + 1, updatedAt: loaded.record.updatedAt + 1 };
    await store.commit(expected.id, { expectRev: loaded.record.rev, record: next, steps: [{ ...sampleStep(9), seq: expected.steps.length }] });
    await store.close?.();

    const reopened = createFileStore({ dir });
    const again = (await reopened.load(expected.id))!;
    await reopened.close?.();
    expect(again.record).toEqual(JSON.parse(JSON.stringify(next)));
    expect(again.steps.map((s) => s.key)).toEqual([...expected.steps.map((s) => s.key), sampleStep(9).key]);
  });
});
