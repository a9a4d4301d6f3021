/** isFirestepError: recognises Firestep errors by their marker (any copy of the package), and by code when given one. */
import { describe, expect, it } from "vitest";
import { deserializeError, FirestepError, FlowNotFoundError, InvalidArgumentError, isFirestepError, serializeError } from "../../src/errors.js";

describe("isFirestepError", () => {
  it("recognises every Firestep error, and nothing else", () => {
    expect(isFirestepError(new FlowNotFoundError("f-1"))).toBe(true);
    expect(isFirestepError(new FirestepError("INTERNAL", "x"))).toBe(true);
    expect(isFirestepError(new Error("plain"))).toBe(false);
    expect(isFirestepError(Object.assign(new Error("coded"), { code: "FLOW_NOT_FOUND" }))).toBe(false);
    expect(isFirestepError(undefined)).toBe(false);
    expect(isFirestepError("FLOW_NOT_FOUND")).toBe(false);
  });

  it("with a code, is true only for an error with that code", () => {
    const e: unknown = new FlowNotFoundError("f-1");
    expect(isFirestepError(e, "FLOW_NOT_FOUND")).toBe(true);
    expect(isFirestepError(e, "INVALID_ARGUMENT")).toBe(false);
    expect(isFirestepError(new InvalidArgumentError("bad"), "INVALID_ARGUMENT")).toBe(true);
    expect(isFirestepError(new Error("plain"), "INVALID_ARGUMENT")).toBe(false);
  });

  it("recognises by code an error rebuilt from storage and one from another copy of the package", () => {
    const rebuilt = deserializeError(serializeError(new FlowNotFoundError("f-1")));
    expect(isFirestepError(rebuilt, "FLOW_NOT_FOUND")).toBe(true);
    const otherCopy = Object.assign(new Error("x"), { [Symbol.for("firestep.error")]: true, code: "FENCED" });
    expect(isFirestepError(otherCopy, "FENCED")).toBe(true);
    expect(isFirestepError(otherCopy, "CONFLICT")).toBe(false);
  });
});
