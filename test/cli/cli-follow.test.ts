import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliEnv, cliSession, examples, root, runAsPrinted, watch } from "./cli-process.js";

const cli = cliSession();
afterAll(() => cli.remove());
const flaky = join(root, "test", "cli", "fixtures", "flaky-flow.mjs");
const booking = join(root, "test", "cli", "fixtures", "booking-flow.mjs");
const compensated = (id: string) => (JSON.parse(cli.run("show", id, "--json").out).steps as Array<{ kind: string }>).some((s) => s.kind === "compensate");
const status = (id: string) => JSON.parse(cli.run("show", id, "--json").out).record.status as string;
const order = (id: string, coolOffSeconds = 0) => JSON.stringify({ orderId: id, coolOffSeconds, pollSeconds: 0 });


describe("firestep run, when the flow stops for a reason other than finishing", () => {
  it("stops cleanly with exit 5 when the flow is paused from another shell, and says how to continue it", async () => {
    const running = cli.start("run", examples, "approveOrder", order("p", 30), "--id", "pz", "--answer", '{"approved":true}');
    await running.until("[flow.suspended] - sleep:cool-off");
    expect(cli.run("pause", "pz").code).toBe(0);
    const r = await running.exited;
    expect(r.err).toBe("");
    expect(r.code).toBe(5);
    expect(r.out).toMatch(/Flow pz was paused; continue it with: firestep continue pz --module \S+index\.js --dir \S+/);
  });

  it("stops with exit 1 and says so when the flow is cancelled from another shell", async () => {
    const running = cli.start("run", examples, "approveOrder", order("c", 30), "--id", "cz", "--answer", '{"approved":true}');
    await running.until("[flow.suspended] - sleep:cool-off");
    expect(cli.run("cancel", "cz").code).toBe(0);
    const r = await running.exited;
    expect(r.err).toBe("");
    expect(r.code).toBe(1);
    expect(r.out).toContain('Cancelled: FLOW_CANCELLED: Flow "cz" was cancelled.');
  });

  it("treats Ctrl+D at the interrupt prompt as no answer: the flow waits and the exit code is 4", async () => {
    const command = `"${process.execPath}" "${join(root, "dist", "examples", "main.js")}" approveOrder '${order("t")}' --id tty-1 --dir "${cli.dir}"; echo "exit=$?"`;
    const child = spawn("script", ["-qec", command, "/dev/null"], { env: cliEnv(), stdio: ["pipe", "pipe", "pipe"] });
    const session = watch(child);
    await session.until("JSON payload>");
    child.stdin!.write("\x04");
    const r = await session.exited;
    expect(r.out).not.toMatch(/AbortError|at .*readline/);
    expect(r.out).toContain('Waiting for interrupt "manager-approval"');
    expect(r.out).toContain("exit=4");
    expect(status("tty-1")).toBe("waiting");
  });
});

describe("carrying a flow on after resume or retry from the command line", () => {
  it("runs the flow on when the resume command that run printed is followed as printed", () => {
    const waiting = cli.run("run", examples, "approveOrder", order("w"), "--id", "wait-2");
    expect(waiting.code).toBe(4);
    const hint = /Answer it with: (firestep resume .*)$/m.exec(waiting.out)?.[1];
    expect(hint).toBeDefined();
    const r = runAsPrinted(hint!.replace("'<json>'", `'{"approved":true}'`));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain('Succeeded: {"orderId":"w","approved":true,"receipt":"receipt-w-4200EUR"}');
    expect(status("wait-2")).toBe("succeeded");
  });

  it("resume without a module records the answer, names the command that carries the flow on, and work does", () => {
    expect(cli.run("run", examples, "approveOrder", order("w3"), "--id", "wait-3").code).toBe(4);
    const resumed = cli.run("resume", "wait-3", '{"approved":true}');
    expect(resumed.code).toBe(0);
    expect(resumed.out).toMatch(/Carry it on with: firestep work <file\.js> --dir \S+/);
    expect(status("wait-3")).toBe("scheduled");
    const worked = cli.run("work", examples);
    expect(worked.err).toBe("");
    expect(worked.code).toBe(0);
    expect(worked.out).toContain("wait-3 [flow.succeeded]");
    expect(status("wait-3")).toBe("succeeded");
  });

  it("run carries on the due flows of the module it loads", () => {
    expect(cli.run("run", examples, "approveOrder", order("w4"), "--id", "wait-4").code).toBe(4);
    expect(cli.run("resume", "wait-4", '{"approved":false}').code).toBe(0);
    const other = cli.run("run", examples, "approveOrder", order("o4"), "--id", "other-4", "--answer", '{"approved":false}');
    expect(other.code).toBe(0);
    expect(status("wait-4")).toBe("succeeded");
  });

  it("retry with --module runs a failed flow again from the failed step, and run's hint says so", () => {
    const marker = join(cli.dir, "fixed");
    const failed = cli.run("run", flaky, "flakyStep", JSON.stringify({ fixedWhen: marker }), "--id", "failed-1");
    expect(failed.code).toBe(1);
    const hint = /Retry it with: (firestep retry .*)$/m.exec(failed.out)?.[1];
    expect(hint).toBeDefined();
    writeFileSync(marker, "");
    const r = runAsPrinted(hint!);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain('Succeeded: "fixed"');
  });

  it("retry without a module says which command carries the flow on", () => {
    const marker = join(cli.dir, "fixed-2");
    expect(cli.run("run", flaky, "flakyStep", JSON.stringify({ fixedWhen: marker }), "--id", "failed-2").code).toBe(1);
    writeFileSync(marker, "");
    const retried = cli.run("retry", "failed-2");
    expect(retried.code).toBe(0);
    expect(retried.out).toMatch(/Carry it on with: firestep work <file\.js>/);
    expect(cli.run("work", flaky).code).toBe(0);
    expect(status("failed-2")).toBe("succeeded");
  });

  it("work exits 1 when a flow it carried on failed, as run does", () => {
    const marker = join(cli.dir, "never-fixed");
    expect(cli.run("run", flaky, "flakyStep", JSON.stringify({ fixedWhen: marker }), "--id", "failed-3").code).toBe(1);
    expect(cli.run("retry", "failed-3").code).toBe(0); // recorded only: due, and fails again when carried on
    const worked = cli.run("work", flaky);
    expect(worked.code).toBe(1);
    expect(worked.out).toMatch(/failed-3 \(flakyStep\): failed/);
  });

  it("cancel without a module says the compensations wait for a command that loads it, and work runs them", () => {
    expect(cli.run("run", booking, "cliBooking", '{"who":"ada"}', "--id", "book-1").code).toBe(4);
    const cancelled = cli.run("cancel", "book-1");
    expect(cancelled.code).toBe(0);
    expect(cancelled.out).toMatch(/Its compensations have not run yet[^]*Carry it on with: firestep work <file\.js>/);
    expect(compensated("book-1")).toBe(false);
    const worked = cli.run("work", booking);
    expect(worked.code).toBe(0);
    expect(worked.out).toContain("undoing room-ada");
    expect(compensated("book-1")).toBe(true);
  });

  it("cancel --module runs the compensations in this process", () => {
    expect(cli.run("run", booking, "cliBooking", '{"who":"bob"}', "--id", "book-2").code).toBe(4);
    const cancelled = cli.run("cancel", "book-2", "--module", booking);
    expect(cancelled.err).toBe("");
    expect(cancelled.code).toBe(0);
    expect(cancelled.out).toContain("undoing room-bob");
    expect(cancelled.out).toContain("cancel: book-2 is now cancelled.");
    expect(compensated("book-2")).toBe(true);
  });

  it("refuses a --module that does not define the flow, before anything runs or changes", () => {
    expect(cli.run("run", examples, "approveOrder", order("m"), "--id", "wrong-module").code).toBe(4);
    const r = cli.run("resume", "wrong-module", '{"approved":true}', "--module", flaky);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/defines no flow named "approveOrder" \(the flow of wrong-module\)\. It defines: flakyStep/);
    expect(status("wrong-module")).toBe("waiting");
  });
});

describe("firestep resume --module, refused", () => {
  /** Every file of the store, byte for byte. */
  const storeFiles = () => Object.fromEntries(readdirSync(cli.dir, { recursive: true, encoding: "utf8" }).sort().map((f) => [f, readFileSync(join(cli.dir, f)).toString("base64")]));

  it("refuses a payload the interrupt's schema rejects before carrying any other due flow on: it prints only the error, and every stored file is unchanged", () => {
    expect(cli.run("run", examples, "approveOrder", order("r1"), "--id", "refused-1").code).toBe(4);
    expect(cli.run("run", examples, "approveOrder", order("r2"), "--id", "due-2").code).toBe(4);
    expect(cli.run("resume", "due-2", '{"approved":true}').code).toBe(0); // recorded only: due-2 is due, and nothing has run it
    expect(status("due-2")).toBe("scheduled");
    const before = storeFiles();
    const r = cli.run("resume", "refused-1", '{"approved":"yes"}', "--module", examples);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/INVALID_PAYLOAD/);
    expect(r.out).toBe("");
    expect(storeFiles()).toEqual(before);
    expect(status("due-2")).toBe("scheduled");
  });
});

describe("what the command line prints", () => {
  it("with --json, prints the command's JSON alone on stdout: what the flow's own code logs goes to stderr", () => {
    const r = cli.run("run", examples, "bookTrip", JSON.stringify({ traveller: "bob", hotelFull: true }), "--id", "json-1", "--json");
    expect(r.err).toContain("cancelling flight FL-bob");
    expect(JSON.parse(r.out)).toMatchObject({ name: "json-1", done: true });
  });

  it("with --json, says a rejected --answer on stderr, leaving stdout to the operation's JSON", () => {
    const r = cli.run("run", examples, "approveOrder", order("j2"), "--id", "json-2", "--answer", '{"approved":"x"}', "--answer", '{"approved":true}', "--json");
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/Rejected \(INVALID_PAYLOAD\)/);
    expect(JSON.parse(r.out)).toMatchObject({ name: "json-2", done: true, result: { response: { approved: true } } });
  });

  it("after resuming a paused flow, says to continue it (as a command that works as printed), not to carry it on with work", () => {
    expect(cli.run("run", examples, "approveOrder", order("pr"), "--id", "paused-r").code).toBe(4);
    expect(cli.run("pause", "paused-r").code).toBe(0);
    const resumed = cli.run("resume", "paused-r", '{"approved":false}');
    expect(resumed.code).toBe(0);
    const hint = /It stays paused until continued: (firestep continue .*?) {3}/.exec(resumed.out)?.[1];
    expect(hint).toMatch(/^firestep continue paused-r --dir \S+$/);
    expect(resumed.out).not.toContain("firestep work");
    const continued = runAsPrinted(`${hint} --module ${examples}`);
    expect(continued.code).toBe(0);
    expect(status("paused-r")).toBe("succeeded");
  });
});
