import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const bin = join(root, "dist", "src", "cli", "bin.js");
const examples = join(root, "dist", "examples", "index.js");
const dir = mkdtempSync(join(tmpdir(), "firestep-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, "--dir", dir], { encoding: "utf8", timeout: 60_000, env: { ...process.env, FIRESTEP_DIR: "" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("firestep CLI", () => {
  it("is built", () => expect(existsSync(bin), "dist/ is missing: run `npm run build` (npm test does it first)").toBe(true));

  it("runs a flow, answers its interrupt from --answer, and shows its steps and history", () => {
    const input = JSON.stringify({ orderId: "cli-1", coolOffSeconds: 0, pollSeconds: 0 });
    const ran = cli("run", examples, "approveOrder", input, "--answer", '{"approved":"nope"}', "--answer", '{"approved":true}', "--id", "cli-order-1");
    expect(ran.err).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.out).toContain('[step.completed] "load-order"');
    expect(ran.out).toMatch(/Rejected \(INVALID_PAYLOAD\)/);
    expect(ran.out).toContain('Succeeded: {"orderId":"cli-1","approved":true,"receipt":"receipt-cli-1-4200EUR"}');

    const shown = cli("show", "cli-order-1", "--json");
    expect(shown.code).toBe(0);
    const details = JSON.parse(shown.out);
    expect(details.operation).toMatchObject({ name: "cli-order-1", done: true });
    expect(details.steps.map((s: { key: string }) => s.key)).toEqual(["load-order", "manager-approval", "cool-off", "wait-for-payment", "send-receipt"]);
    const types = details.history.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(["flow.scheduled", "flow.started", "step.interrupted", "flow.resumed", "step.retrying", "flow.succeeded"]));

    const listed = cli("list", "--json");
    expect(JSON.parse(listed.out).flows.map((f: { id: string }) => f.id)).toContain("cli-order-1");
  });

  it("stops with exit code 4 when an interrupt has no answer; resume without a module then leaves it scheduled", () => {
    const input = JSON.stringify({ orderId: "cli-2", coolOffSeconds: 0, pollSeconds: 0 });
    const waiting = cli("run", examples, "approveOrder", input, "--id", "cli-order-2");
    expect(waiting.code).toBe(4);
    expect(waiting.out).toContain("firestep resume cli-order-2");
    const bad = cli("resume", "cli-order-2", '{"approved":1}');
    expect(bad.code).toBe(3);
    expect(bad.err).toMatch(/INVALID_PAYLOAD/);
    expect(cli("resume", "cli-order-2", '{"approved":false}').code).toBe(0);
    const state = JSON.parse(cli("show", "cli-order-2", "--json").out);
    expect(state.record.status).toBe("scheduled");
    expect(cli("cancel", "cli-order-2").code).toBe(0);
    expect(JSON.parse(cli("show", "cli-order-2", "--json").out).operation.result.error.code).toBe("FLOW_CANCELLED");
    expect(cli("delete", "cli-order-2").code).toBe(0);
    expect(cli("show", "cli-order-2").code).toBe(3);
  });

  it("gives usage errors exit code 2 and a message that says what to do", () => {
    expect(cli().code).toBe(2);
    const unknown = cli("frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/Unknown command "frobnicate"/);
    const badJson = cli("run", examples, "approveOrder", "{not json");
    expect(badJson.code).toBe(2);
    expect(badJson.err).toMatch(/not valid JSON/);
    const noFlow = cli("run", examples, "nope", "{}");
    expect(noFlow.code).toBe(2);
    expect(noFlow.err).toMatch(/defines no flow named "nope". It defines: approveOrder/);
    expect(cli("pause", "no-such-flow").err).toMatch(/FLOW_NOT_FOUND/);
  });
});
