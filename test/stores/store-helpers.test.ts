import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../src/stores/store-helpers.js";

describe("list cursors", () => {
  it("decodes a cursor it encoded, and refuses a forged one or one that is not a string with INVALID_ARGUMENT", () => {
    expect(decodeCursor(encodeCursor({ createdAt: 5, id: "a" }))).toEqual({ createdAt: 5, id: "a" });
    expect(() => decodeCursor("bm90IGEgY3Vyc29y")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => decodeCursor(5 as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining("got 5.") }));
  });
});
