import { afterAll, describe, expect, it } from "vitest";
import { FLOW_ID_RULE } from "../../src/runtime/call-options.js";
import { FLOW_STATUSES } from "../../src/schemas.js";
import { cliSession, examples } from "./cli-process.js";

const cli = cliSession();
afterAll(() => cli.remove());

const finished = (id: string) => {
  const r = cli.run("run", examples, "approveOrder", JSON.stringify({ orderId: id }), "--answer", '{"approved":false}', "--id", id);
  expect(r.code, r.err).toBe(0);
};
const ids = () => (JSON.parse(cli.run("list", "--json").out) as { flows: Array<{ id: string }> }).flows.map((f) => f.id).sort();

describe("firestep command-line arguments", () => {
  it("refuses an unknown flag with exit 2, naming it and the command's flags, before purging anything", () => {
    finished("kept-1");
    const r = cli.run("purge", "--older-than", "0", "--flwo", "bookTrip");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown flag --flwo/i);
    expect(r.err).toMatch(/did you mean --flow\?/);
    expect(r.err).toContain("--older-than SECONDS");
    expect(ids()).toEqual(["kept-1"]);
  });

  it("refuses a misspelt list filter instead of listing every flow", () => {
    const r = cli.run("list", "--stauts", "waiting");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown flag --stauts.*did you mean --status\?/is);
    expect(r.out).toBe("");
  });

  it("refuses a flag another command takes, and a flag given twice", () => {
    expect(cli.run("show", "kept-1", "--status", "waiting").err).toMatch(/unknown flag --status for "firestep show"/i);
    const twice = cli.run("purge", "--older-than", "0", "--older-than", "3600");
    expect(twice.code).toBe(2);
    expect(twice.err).toMatch(/--older-than is given twice/);
    expect(ids()).toEqual(["kept-1"]);
  });

  it("refuses extra positional arguments", () => {
    const r = cli.run("cancel", "kept-1", "kept-2");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/usage: firestep cancel <flowId>/);
  });

  it("checks --answer before creating the flow", () => {
    const r = cli.run("run", examples, "approveOrder", '{"orderId":"a-1"}', "--id", "never-1", "--answer", "notjson");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--answer "notjson" is not valid JSON/);
    expect(cli.run("show", "never-1").code).toBe(3);
  });

  it("checks --id before loading anything", () => {
    const r = cli.run("run", examples, "approveOrder", '{"orderId":"a-2"}', "--id", "no spaces");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--id takes a string of 1-128 letters, .*; got "no spaces"\./);
  });

  it("gives a malformed flag value exit 2 and says what the flag takes", () => {
    const limit = cli.run("list", "--limit", "abc");
    expect(limit.code).toBe(2);
    expect(limit.err).toMatch(/--limit takes a whole number from 1 to 1000; got "abc"/);
    const age = cli.run("purge", "--older-than", "a-week");
    expect(age.code).toBe(2);
    expect(age.err).toMatch(/--older-than takes a number of seconds/);
    const cursor = cli.run("list", "--cursor", "garbage");
    expect(cursor.code).toBe(2);
    expect(ids()).toEqual(["kept-1"]);
  });
});

describe("firestep command-line values that cannot narrow anything", () => {
  const listed = (...args: string[]) => (JSON.parse(cli.run("list", ...args, "--json").out) as { flows: Array<{ id: string }> }).flows.map((f) => f.id).sort();

  it("refuses an empty flow name instead of listing or purging every flow", () => {
    const before = ids();
    const list = cli.run("list", "--flow", "");
    expect(list.code).toBe(2);
    expect(list.err).toMatch(/--flow needs a flow name/);
    expect(list.out).toBe("");
    const purge = cli.run("purge", "--older-than", "0", "--flow", "");
    expect(purge.code).toBe(2);
    expect(purge.err).toMatch(/--flow needs a flow name/);
    expect(ids()).toEqual(before);
  });

  it("refuses an empty value for any flag that takes one, such as the interrupt to answer", () => {
    const r = cli.run("resume", "kept-1", '{"approved":true}', "--step", "");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--step needs the name of an interrupt; got an empty one/);
    expect(cli.run("list", "--cursor", "").code).toBe(2);
  });

  it("refuses a flow id that cannot be one, for every command that takes one, stating the rule and the value, before opening a store", () => {
    const lines: string[][] = [
      ["show", "a b"],
      ["history", "a b"],
      ["resume", "a b", "{}"],
      ["continue", "a b"],
      ["retry", "a b"],
      ["pause", "a b"],
      ["cancel", "a b"],
      ["delete", "a b"],
      ["signal", "a b", "message", "--module", examples],
      ["query", "a b", "messageCount", "--module", examples],
    ];
    for (const line of lines) {
      const r = cli.run(...line);
      expect(r.code, `${line.join(" ")}: ${r.err}`).toBe(2);
      expect(r.err).toContain(`a flow id is ${FLOW_ID_RULE}; got "a b"`);
      expect(r.out).toBe("");
    }
    // Firestore without a project cannot be opened: the id is refused first.
    expect(cli.run("show", "", "--backend", "firestore").err).toContain(`a flow id is ${FLOW_ID_RULE}; got ""`);
  });

  it("lists the flows in any of a comma-separated list of statuses, as GET /flows?status= does", () => {
    expect(cli.run("run", examples, "approveOrder", JSON.stringify({ orderId: "w" }), "--id", "waiting-1").code).toBe(4);
    expect(listed("--status", "waiting")).toEqual(["waiting-1"]);
    expect(listed("--status", "waiting,succeeded")).toEqual([...ids()].sort());
    expect(listed("--status", "failed, waiting")).toEqual(["waiting-1"]);
  });

  it("refuses an unknown status in the list, naming the valid ones, and a list with an empty item", () => {
    const r = cli.run("list", "--status", "waiting,done");
    expect(r.code).toBe(2);
    expect(r.err).toContain(`got "done"`);
    expect(r.err).toContain(FLOW_STATUSES.join(", "));
    expect(r.out).toBe("");
    expect(cli.run("list", "--status", "waiting,").code).toBe(2);
    expect(cli.run("list", "--status", ",").code).toBe(2);
  });
});
