import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliSession, examples, runAsPrinted } from "./cli-process.js";

const cli = cliSession();
afterAll(() => cli.remove());
const status = (id: string) => JSON.parse(cli.run("show", id, "--json").out).record.status as string;
/** The supportTicket example: takes two "message" signals, then waits for the interrupt "agent-reply". */
const ticket = (id: string) => {
  const r = cli.run("run", examples, "supportTicket", JSON.stringify({ customer: id, subject: "login broken" }), "--id", id);
  expect(r.code, r.err).toBe(4);
  return r;
};
/** Every file of the store, byte for byte. */
const storeFiles = () => Object.fromEntries(readdirSync(cli.dir, { recursive: true, encoding: "utf8" }).sort().map((f) => [f, readFileSync(join(cli.dir, f)).toString("base64")]));

describe("firestep signal", () => {
  it("run stops at a wait for a signal with exit 4 and prints the signal command, which wakes the flow when followed as printed", () => {
    const waiting = ticket("t-1");
    expect(waiting.out).toContain('Waiting for signal "message".');
    const hint = /Send it with: (firestep signal .*)$/m.exec(waiting.out)?.[1];
    expect(hint).toMatch(/^firestep signal t-1 message '<json>' --module \S+index\.js --dir \S+$/);

    const first = runAsPrinted(hint!.replace("'<json>'", `'{"text":"it still fails"}'`));
    expect(first.err).toBe("");
    expect(first.out).toContain("[flow.signalled]");
    expect(first.out).toContain('[step.completed] "signal:message"');
    // The flow takes the next message with another waitForSignal: the command stops there too.
    expect(first.code).toBe(4);
    expect(first.out).toContain('Waiting for signal "message".');

    const second = cli.run("signal", "t-1", "message", '{"text":"any news?"}', "--module", examples, "--answer", '{"resolution":"reset the password"}');
    expect(second.err).toBe("");
    expect(second.code).toBe(0);
    expect(second.out).toContain('Succeeded: {"messages":["it still fails","any news?"],"resolution":"reset the password"}');
    expect(status("t-1")).toBe("succeeded");
  });

  it("refuses a payload the signal's schema rejects with exit 3, leaving every stored file byte for byte unchanged", () => {
    ticket("t-2");
    const before = storeFiles();
    const r = cli.run("signal", "t-2", "message", '{"text":5}', "--module", examples);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/^firestep: INVALID_PAYLOAD: Signal "message" to flow "t-2": the payload does not match the schema: text: .*Nothing was changed/);
    expect(storeFiles()).toEqual(before);
    expect(status("t-2")).toBe("waiting");
  });

  it("refuses a signal the flow does not declare (exit 2) and one to a finished flow (exit 3)", () => {
    ticket("t-3");
    const undeclared = cli.run("signal", "t-3", "mesage", '{"text":"x"}', "--module", examples);
    expect(undeclared.code).toBe(2);
    expect(undeclared.err).toContain('Flow "supportTicket" declares no signal "mesage". It declares: message.');
    expect(cli.run("cancel", "t-3").code).toBe(0);
    const late = cli.run("signal", "t-3", "message", '{"text":"x"}', "--module", examples);
    expect(late.code).toBe(3);
    expect(late.err).toMatch(/INVALID_FLOW_STATE: Cannot signal flow "t-3": it is cancelled/);
  });

  it("prints only the error for a refused signal, and the signalling line before the events of one accepted", () => {
    ticket("t-5");
    for (const [signal, payload, code] of [["mesage", '{"text":"x"}', 2], ["message", '{"text":5}', 3]] as const) {
      const r = cli.run("signal", "t-5", signal, payload, "--module", examples);
      expect(r.code).toBe(code);
      expect(r.out).toBe("");
    }
    const accepted = cli.run("signal", "t-5", "message", '{"text":"x"}', "--module", examples);
    expect(accepted.code).toBe(4);
    expect(accepted.out).toMatch(/^Signalling t-5 \(supportTicket\): "message"\n {2}\[flow\.signalled\]/);
    expect(cli.run("cancel", "t-5").code).toBe(0);
    const late = cli.run("signal", "t-5", "message", '{"text":"x"}', "--module", examples);
    expect(late.code).toBe(3);
    expect(late.out).toBe("");
  });

  it("needs --module, saying why, and sends nothing without it", () => {
    ticket("t-4");
    const before = storeFiles();
    const r = cli.run("signal", "t-4", "message", '{"text":"x"}');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/firestep signal needs --module FILE\.js.*schema the flow declares.*Nothing was sent\./);
    expect(storeFiles()).toEqual(before);
  });
});

describe("firestep query", () => {
  it("prints the value the query computes from the flow's steps, as { result } with --json", () => {
    ticket("q-1");
    expect(cli.run("query", "q-1", "messageCount", "--module", examples).out).toBe('Query "messageCount" of q-1 (supportTicket): 0\n');
    expect(cli.run("signal", "q-1", "message", '{"text":"hello"}', "--module", examples).code).toBe(4);
    const r = cli.run("query", "q-1", "messageCount", "--module", examples, "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ result: 1 });
  });

  it("runs no flow: a due flow of the module it loads is left for a command that runs flows", () => {
    ticket("q-2");
    expect(cli.run("run", examples, "approveOrder", JSON.stringify({ orderId: "q-2" }), "--id", "q-2-order").code).toBe(4);
    expect(cli.run("resume", "q-2-order", '{"approved":true}').code).toBe(0);
    expect(cli.run("query", "q-2", "messageCount", "--module", examples).code).toBe(0);
    expect(status("q-2-order")).toBe("scheduled");
  });

  it("needs --module, and refuses a query the flow does not declare and an unknown flow", () => {
    ticket("q-3");
    const noModule = cli.run("query", "q-3", "messageCount");
    expect(noModule.code).toBe(2);
    expect(noModule.err).toMatch(/firestep query needs --module FILE\.js.*a query is a function in the flow's definition/);
    const undeclared = cli.run("query", "q-3", "count", "--module", examples);
    expect(undeclared.code).toBe(2);
    expect(undeclared.err).toContain('Flow "supportTicket" declares no query "count". It declares: messageCount.');
    expect(cli.run("query", "nope", "messageCount", "--module", examples).err).toMatch(/FLOW_NOT_FOUND/);
  });
});
