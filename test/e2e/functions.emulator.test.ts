import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

describe("deployed flow on the Functions and Cloud Tasks emulators, with the Firestore emulator", () => {
  it("schedules, blocks on the interrupt, rejects a bad payload, resumes, sleeps, polls, retries and finishes", async () => {
    expect(existsSync(join(root, "dist", "src", "firebase", "index.js")), "dist/ is missing: run `npm run build` (npm test does it first)").toBe(true);
    execFileSync("npx", ["tsc", "-p", "functions/tsconfig.json"], { cwd: root, stdio: "inherit" });
    const firestoreHost = inject("firestoreEmulatorHost");
    const child = spawn(
      "npx",
      ["firebase", "emulators:exec", "--only", "functions,tasks", "--project", "demo-firestep", "node test/e2e/fixtures/approval-scenario.mjs"],
      {
        cwd: root,
        env: { ...process.env, FIRESTORE_EMULATOR_HOST: firestoreHost, METADATA_SERVER_DETECTION: "none", FIRESTEP_COLLECTION: `e2e-${Date.now()}`, CI: "true" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    if (code !== 0 || !out.includes("E2E OK")) console.error(out);
    expect(out).toContain("[scenario] bad payload rejected");
    expect(out).toContain("E2E OK");
    expect(code).toBe(0);
  }, 240_000);
});
