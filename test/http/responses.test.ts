import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, FirestepError } from "../../src/errors.js";
import { errorReply } from "../../src/http/responses.js";

const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), "utf8");

/** What docs/errors.md's table says the HTTP API answers for each code. */
function errorsTable(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of doc("errors.md").split("\n")) {
    const m = /^\| `([A-Z_]+)` \| ([^|]+) \|/.exec(line);
    if (m) rows.set(m[1]!, m[2]!.trim());
  }
  return rows;
}

/** docs/http-api.md's status table: code to status. */
function httpApiTable(): Map<string, number> {
  const codes = new Map<string, number>();
  const section = doc("http-api.md").split("## Errors")[1]!.split("\n## ")[0]!;
  for (const line of section.split("\n")) {
    const m = /^\| (\d{3}) \| (.+) \|$/.exec(line);
    if (m) for (const c of m[2]!.matchAll(/`([A-Z_]+)`/g)) codes.set(c[1]!, Number(m[1]));
  }
  return codes;
}

describe("the HTTP status of every error code", () => {
  it("docs/errors.md lists every code in src/errors.ts, and the API answers each as the table says", () => {
    const table = errorsTable();
    expect([...table.keys()].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const reply = errorReply(new FirestepError(code, "what to fix"));
      const documented = table.get(code)!;
      if (/^\d{3}$/.test(documented)) {
        expect({ code, status: reply.status, sent: reply.body.error.code }).toEqual({ code, status: Number(documented), sent: code });
        expect(reply.internal).toBe(false);
      } else if (documented === "503 (logged)") {
        // A failure to retry: its code and a fixed message go out (never "what to fix", which may name internals); logged.
        expect({ code, status: reply.status, sent: reply.body.error.code, internal: reply.internal }).toEqual({ code, status: 503, sent: code, internal: true });
        expect(reply.body.error.message).not.toContain("what to fix");
        expect(reply.headers["retry-after"]).toBe("1");
      } else {
        // "500 (as INTERNAL)" and "(flow fails)": never shown to a caller as such, so a generic, logged 500.
        expect(documented, code).toMatch(/^(500 \(as `INTERNAL`\)|\(flow fails\))$/);
        expect({ code, status: reply.status, sent: reply.body.error.code, internal: reply.internal }).toEqual({ code, status: 500, sent: "INTERNAL", internal: true });
      }
    }
  });

  it("docs/http-api.md gives each code the status docs/errors.md gives it", () => {
    const errors = errorsTable();
    const http = httpApiTable();
    for (const code of ERROR_CODES) {
      const documented = errors.get(code);
      if (documented && /^\d{3}( \(logged\))?$/.test(documented)) expect({ code, status: http.get(code) }).toEqual({ code, status: Number(documented.slice(0, 3)) });
      else if (code !== "INTERNAL") expect({ code, status: http.get(code) }).toEqual({ code, status: undefined });
    }
    expect(http.get("INTERNAL")).toBe(500);
  });
});
