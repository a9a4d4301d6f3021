import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_COLLECTION, F, PAGES_COLLECTION } from "../../src/firebase/firestore-layout.js";

interface IndexFile {
  indexes: Array<{ collectionGroup: string; queryScope: string; fields: Array<{ fieldPath: string; order: string }> }>;
  fieldOverrides: Array<{ collectionGroup: string; fieldPath: string; indexes: unknown[] }>;
}
const file = JSON.parse(readFileSync(new URL("../../firestore.indexes.json", import.meta.url), "utf8")) as IndexFile;

describe("firestore.indexes.json", () => {
  it.each([[[F.flowName]], [[F.status]], [[F.flowName, F.status]]])("has the composite index list() needs when filtering by %j", (filters) => {
    const want = [...filters.map((f) => `${f}:ASCENDING`), `${F.createdAt}:DESCENDING`];
    const found = file.indexes.some(
      (i) => i.collectionGroup === DEFAULT_COLLECTION && i.queryScope === "COLLECTION" && i.fields.map((f) => `${f.fieldPath}:${f.order}`).join() === want.join(),
    );
    expect(found).toBe(true);
  });

  it("exempts the big JSON fields from indexing", () => {
    const exempt = file.fieldOverrides.filter((o) => o.indexes.length === 0).map((o) => `${o.collectionGroup}/${o.fieldPath}`);
    for (const f of [F.record, F.recordFields, F.meta, F.journal, F.history, F.historySizes]) expect(exempt).toContain(`${DEFAULT_COLLECTION}/${f}`);
    expect(exempt).toContain(`${PAGES_COLLECTION}/j`);
  });
});
