import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isFirestepError } from "../../src/errors.js";
import { flowFileName } from "../../src/stores/file-names.js";
import { createFileStore } from "../../src/stores/file-store.js";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function listError(id: string, line: unknown): Promise<Error> {
  dir = mkdtempSync(join(tmpdir(), "firestep-corrupt-"));
  writeFileSync(join(dir, flowFileName(id, 0)), `\n${JSON.stringify(line)}\n`);
  const store = createFileStore({ dir });
  try {
    const e = await store.list({}).then(() => undefined, (e: Error) => e);
    if (!e) throw new Error("list did not fail");
    expect(isFirestepError(e) && e.code).toBe("CORRUPT_RECORD");
    return e;
  } finally {
    await store.close?.();
  }
}

describe("a corrupt log found while listing", () => {
  it("is reported with its flow id, not its file name, when its record is invalid", async () => {
    const e = await listError("done-1", { op: "create", rev: 0, nonce: "n", record: { id: "done-1" } });
    expect(e.message).toContain('of flow "done-1" is corrupt');
    expect(e.message).toContain("done-1@0.log");
  });

  it("is reported with its flow id when its first line is not a log line", async () => {
    const e = await listError("Done.2", { op: "commit", rev: "x" });
    expect(e.message).toContain('of flow "Done.2" is corrupt');
  });
});
