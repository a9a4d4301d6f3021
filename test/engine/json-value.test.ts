import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deepFreeze, storableCopy, storableCopyExact } from "../../src/json-value.js";

/** Plain JSON-exact data, with the awkward corners: -0, unicode, escapes, "__proto__" keys, deep nesting. */
const jsonData = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string({ unit: "binary" }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value")),
    fc.dictionary(fc.oneof(fc.string(), fc.constant("__proto__")), tie("value")),
  ),
})).value;

describe("storableCopy", () => {
  it("returns exactly what a JSON round trip gives and measures the JSON text's UTF-8 size", () => {
    fc.assert(
      fc.property(jsonData, (v) => {
        const text = JSON.stringify(v);
        const copy = storableCopy("s", v, Infinity);
        expect(copy).toStrictEqual(JSON.parse(text));
        const size = Buffer.byteLength(text, "utf8");
        expect(() => storableCopy("s", v, size)).not.toThrow();
        expect(() => storableCopy("s", v, size - 1)).toThrow(/VALUE_TOO_LARGE|bytes/);
      }),
      { numRuns: 2000 },
    );
  });

  it("copies: changing the copy leaves the original alone", () => {
    const original = { a: [1, { b: "x" }], c: { d: true } };
    const copy = storableCopy("s", original, Infinity);
    (copy.a[1] as { b: string }).b = "changed";
    copy.c.d = false;
    expect(original).toEqual({ a: [1, { b: "x" }], c: { d: true } });
  });

  it("drops undefined properties and turns -0 into 0, as JSON does, and says when it did and how large the JSON is", () => {
    expect(storableCopy("s", { a: undefined, b: -0 }, Infinity)).toStrictEqual({ b: 0 });
    expect(storableCopyExact("s", { a: { b: [1, { c: undefined }] } }, Infinity)).toStrictEqual({ copy: { a: { b: [1, {}] } }, exact: false, bytes: 18 });
    expect(storableCopyExact("s", [0, -0], Infinity)).toStrictEqual({ copy: [0, 0], exact: false, bytes: 5 });
    const plain = { a: [0, null, "", false, { b: 1.5 }] };
    expect(storableCopyExact("s", plain, Infinity)).toStrictEqual({ copy: plain, exact: true, bytes: Buffer.byteLength(JSON.stringify(plain)) });
    expect(storableCopyExact("s", undefined, Infinity)).toStrictEqual({ copy: undefined, exact: true, bytes: 0 });
  });

  it("names the path of a cycle where the value first refers back to itself", () => {
    const inner: Record<string, unknown> = { n: 1 };
    const root = { list: [0, { inner }] };
    inner.back = root.list;
    expect(() => storableCopy("loop", root, Infinity)).toThrow(/loop.*a cycle.*\$\.list\[1\]\.inner\.back|\$\.list\[1\]\.inner\.back.*a cycle/s);
  });

  it("names the path of a value JSON would mangle, and what it is", () => {
    const v = { rows: [{ ok: 1 }, { when: new Date(0) }] };
    expect(() => storableCopy("report", v, Infinity)).toThrow(/\$\.rows\[1\]\.when/);
    expect(() => storableCopy("report", v, Infinity)).toThrow(/an instance of Date/);
  });
});

describe("deepFreeze", () => {
  it("freezes nested objects and arrays so shared journal entries cannot be changed", () => {
    const step = deepFreeze({ value: { items: [{ n: 1 }] } });
    expect(() => {
      (step.value.items[0] as { n: number }).n = 2;
    }).toThrow(TypeError);
    expect(() => step.value.items.push({ n: 3 })).toThrow(TypeError);
  });
});
