import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FLOW_FILE_PATTERN, flowFileName, flowIdOfFileName, flowStem } from "../../src/stores/file-names.js";

/** The mapping as the file format defines it, byte by byte: files written under it must keep their names. */
function reference(id: string): string {
  let out = "";
  for (const byte of Buffer.from(id, "utf8")) {
    const plain = (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2d || byte === 0x5f;
    out += plain ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, "0")}`;
  }
  return out.length > 200 ? `~${createHash("sha256").update(id, "utf8").digest("hex")}` : out;
}

describe("flow file names", () => {
  it("keeps a plain id as it is, escapes every other byte, and hashes an id too long to escape", () => {
    expect(flowStem("3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b")).toBe("3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b");
    expect(flowStem("Order.42/a:b%")).toBe("%4frder%2e42%2fa%3ab%25");
    expect(flowStem("é")).toBe("%c3%a9");
    expect(flowStem("a".repeat(200))).toBe("a".repeat(200));
    expect(flowStem("a".repeat(201))).toBe(`~${createHash("sha256").update("a".repeat(201)).digest("hex")}`);
    expect(flowFileName("x", 3)).toBe("x@3.log");
    expect(FLOW_FILE_PATTERN.test(flowFileName("Order.42", 0))).toBe(true);
  });

  it("reads the flow id back from a file name, for messages, except a hashed one", () => {
    for (const id of ["done-1", "Order.42/a:b%", "é", "a".repeat(200)]) expect(flowIdOfFileName(flowFileName(id, 2))).toBe(id);
    expect(flowIdOfFileName(flowFileName("a".repeat(201), 0))).toBeUndefined();
    expect(flowIdOfFileName(".tmp-x")).toBeUndefined();
  });

  it("names every id as the byte-by-byte mapping does, plain or not", () => {
    const alphabet = "abcz09-_AZ.:/%~ é@";
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 2_000; i++) {
      const length = next() % (i % 10 === 0 ? 260 : 40);
      const plainOnly = i % 2 === 0;
      let id = "";
      for (let j = 0; j < length; j++) id += alphabet[next() % (plainOnly ? 8 : alphabet.length)];
      expect(flowStem(id)).toBe(reference(id));
    }
  });
});
