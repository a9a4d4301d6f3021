import { afterAll, describe, expect, it } from "vitest";
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
