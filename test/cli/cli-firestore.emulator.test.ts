import { execFile, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
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

  it("enqueues the wake-up of a flow it resumes to the flow's task function in --region, for the deployed function to run it on", async () => {
    const input = JSON.stringify({ orderId: "fs-2", coolOffSeconds: 0, pollSeconds: 0 });
    expect(cli("run", examples, "approveOrder", input, "--id", "fs-order-2").code).toBe(4); // waits for the approval

    // Stands in for Cloud Tasks (firebase-admin talks to CLOUD_TASKS_EMULATOR_HOST over plain HTTP): records each task created.
    const created: Array<{ path: string; task: { name: string; httpRequest: { body: string } } }> = [];
    const cloudTasks = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        const { task } = JSON.parse(body) as { task: (typeof created)[number]["task"] };
        created.push({ path: req.url ?? "", task });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(task));
      });
    });
    await new Promise<void>((resolve) => cloudTasks.listen(0, "127.0.0.1", resolve));
    try {
      const env = {
        ...process.env,
        FIRESTORE_EMULATOR_HOST: inject("firestoreEmulatorHost"),
        CLOUD_TASKS_EMULATOR_HOST: `127.0.0.1:${(cloudTasks.address() as AddressInfo).port}`,
        METADATA_SERVER_DETECTION: "none",
      };
      const flags = ["--backend", "firestore", "--project", "demo-firestep", "--collection", collection, "--region", "europe-west1"];
      const resumed = await promisify(execFile)(process.execPath, [bin, "resume", "fs-order-2", '{"approved":true}', ...flags], { encoding: "utf8", timeout: 60_000, env });
      expect(resumed.stdout).toMatch(/Its wake-up is enqueued to Cloud Tasks queue "locations\/europe-west1\/functions\/approveOrder"/);
      expect(created).toHaveLength(1);
      expect(created[0]!.path).toBe("/projects/demo-firestep/locations/europe-west1/queues/approveOrder/tasks");
      expect(JSON.parse(Buffer.from(created[0]!.task.httpRequest.body, "base64").toString("utf8"))).toMatchObject({ data: { flowId: "fs-order-2", flowName: "approveOrder" } });
    } finally {
      cloudTasks.close();
    }
    expect(JSON.parse(cli("show", "fs-order-2", "--json").out).record.status).toBe("scheduled");
  });
});
