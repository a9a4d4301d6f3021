import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createRuntime, defineFlow, interrupt, isFirestepError, run, type QueuedTask } from "../../src/index.js";
import { createMemoryStore } from "../../src/stores/memory-store.js";
import { createFakeClock } from "../../src/testing/index.js";

const greet = defineFlow({ name: "optsGreet", input: z.object({ name: z.string() }), output: z.string() }, async ({ name }) => run("greet", () => `Hello, ${name}`));
const approval = defineFlow({ name: "optsApproval", input: z.void(), output: z.boolean() }, async () => (await interrupt("manager", z.object({ ok: z.boolean() }))).ok);

async function world() {
  const store = createMemoryStore();
  const tasks: QueuedTask[] = [];
  const rt = createRuntime({ store, queue: { enqueue: async (t) => void tasks.push(t) }, clock: createFakeClock(), logger: () => {} });
  // One flow blocked on an interrupt, as a runner would leave it, so resume and cancel have something to refuse.
  await rt.scheduleFlow(approval, undefined, { flowId: "blocked" });
  for (const task of tasks.splice(0)) await rt.deliver(task.task);
  const snapshot = async () => ({ flows: (await store.list({})).flows, blocked: await store.load("blocked"), tasks: tasks.length });
  return { rt, snapshot };
}

/** The call is refused with INVALID_ARGUMENT; returns its message. */
async function refused(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (e === undefined) throw new Error("expected the call to be refused, but it succeeded");
  expect(isFirestepError(e) && e.code, String(e)).toBe("INVALID_ARGUMENT");
  return (e as Error).message;
}

describe("app calls refuse bad options with INVALID_ARGUMENT, naming the key, before anything is stored", () => {
  const cases: Array<[string, (rt: Awaited<ReturnType<typeof world>>["rt"]) => Promise<unknown>, Array<string | RegExp>]> = [
    ["listFlows: cursor not a string", (rt) => rt.listFlows({ cursor: 5 as never }), ["cursor", "got 5."]],
    ["listFlows: unknown status", (rt) => rt.listFlows({ status: "exploded" as never }), ["status", "scheduled, running, waiting", 'got "exploded"']],
    ["listFlows: an unknown status among known ones", (rt) => rt.listFlows({ status: ["waiting", "nope"] as never }), ["status", 'got ["waiting","nope"]']],
    ["listFlows: an unknown key", (rt) => rt.listFlows({ name: "x" } as never), ['unknown option "name"', "flowName, status, limit, cursor"]],
    ["listFlows: not an object", (rt) => rt.listFlows("optsGreet" as never), ["must be an object", 'got "optsGreet"']],
    ["scheduleFlow: a third argument that is neither a delay nor options", (rt) => rt.scheduleFlow(greet, { name: "a" }, "soon" as never), ["delay in seconds or an options object", 'got "soon"']],
    ["scheduleFlow: delaySeconds as a string", (rt) => rt.scheduleFlow(greet, { name: "a" }, { delaySeconds: "3" as never }), ["delaySeconds must be a number from 0 to", 'got "3".']],
    ["scheduleFlow: flowId as a number", (rt) => rt.scheduleFlow(greet, { name: "a" }, { flowId: 5 as never }), ["flowId must be a string", "got 5."]],
    ["scheduleFlow: a delay past 100 years", (rt) => rt.scheduleFlow(greet, { name: "a" }, 1e300), ["delaySeconds", "100 years", "got 1e+300"]],
    ["scheduleFlow: delaySeconds past 100 years", (rt) => rt.scheduleFlow(greet, { name: "a" }, { delaySeconds: 101 * 365 * 86400 }), ["100 years"]],
    ["scheduleFlow: an unknown key", (rt) => rt.scheduleFlow(greet, { name: "a" }, { delay: 5 } as never), ['unknown option "delay"', "delaySeconds, flowId"]],
    ["resumeFlow: step as a number", (rt) => rt.resumeFlow(approval, "blocked", { ok: true }, { step: 5 as never }), ["step must be a string", "got 5."]],
    ["resumeFlow: an unknown key", (rt) => rt.resumeFlow(approval, "blocked", { ok: true }, { stepName: "manager" } as never), ['unknown option "stepName"', "step"]],
    ["cancelFlow: reason as a number", (rt) => rt.cancelFlow(approval, "blocked", 5 as never), ["reason must be a string", "got 5."]],
    ["getFlow: an id that is not a string", (rt) => rt.getFlow(5 as never), ["flow id", "got 5."]],
  ];
  it.each(cases)("%s", async (_name, call, mentions) => {
    const { rt, snapshot } = await world();
    const before = await snapshot();
    const message = await refused(call(rt));
    for (const m of mentions) expect(message).toMatch(typeof m === "string" ? new RegExp(m.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : m);
    expect(message).not.toMatch(/is not allowed|TypeError|slice/);
    expect(await snapshot()).toEqual(before);
  });

  it("accepts the documented options, a delay of exactly 100 years among them", async () => {
    const { rt } = await world();
    const op = await rt.scheduleFlow(greet, { name: "a" }, { delaySeconds: 100 * 365 * 86400, flowId: "later" });
    expect(op.metadata.wakeAt).toMatch(/^21\d\d-/);
    expect((await rt.listFlows({ flowName: "optsGreet", status: ["scheduled"], limit: 10 })).flows.map((f) => f.id)).toEqual(["later"]);
    expect((await rt.resumeFlow(approval, "blocked", { ok: true }, { step: "manager" })).metadata.status).toBe("scheduled");
  });
});
