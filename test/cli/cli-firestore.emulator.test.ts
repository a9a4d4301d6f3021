import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const bin = join(root, "dist", "src", "cli", "bin.js");
const examples = join(root, "dist", "examples", "index.js");
const collection = `cli-${Date.now().toString(36)}`;

function cli(...args: string[]) {
  const env = { ...process.env, FIRESTORE_EMULATOR_HOST: inject("firestoreEmulatorHost"), METADATA_SERVER_DETECTION: "none" };
  const r = spawnSync(process.execPath, [bin, ...args, "--backend", "firestore", "--project", "demo-firestep", "--collection", collection], { encoding: "utf8", timeout: 60_000, env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("firestep CLI against Firestore (emulator)", () => {
  it("runs a flow with its state in Firestore, answers the interrupt, and shows, lists and purges it", () => {
    const input = JSON.stringify({ orderId: "fs-1", coolOffSeconds: 0, pollSeconds: 0 });
    const ran = cli("run", examples, "approveOrder", input, "--answer", '{"approved":true}', "--id", "fs-order-1");
    expect(ran.err).toBe("");
    expect(ran.code).toBe(0);
    const shown = JSON.parse(cli("show", "fs-order-1", "--json").out);
    expect(shown.operation).toMatchObject({ done: true, result: { response: { approved: true } } });
    expect(shown.history.map((e: { type: string }) => e.type)).toContain("flow.resumed");
    expect(JSON.parse(cli("list", "--json", "--status", "succeeded").out).flows.map((f: { id: string }) => f.id)).toEqual(["fs-order-1"]);
    expect(cli("pause", "fs-order-1").err).toMatch(/INVALID_FLOW_STATE/);
    expect(cli("purge", "--older-than", "0").code).toBe(0);
    expect(cli("show", "fs-order-1").code).toBe(3);
  });
});
