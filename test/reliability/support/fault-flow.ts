/** The flow the fault, delivery and soak tests run: steps, a sleep, a retried step, parallel steps, an interrupt. */
import { z } from "zod";
import { defineFlow, interrupt, run, sleep } from "../../../src/index.js";
import { EffectLog } from "./faults.js";

export const FAULT_STEP_KEYS = ["one", "two", "p", "q", "r", "s", "t", "three"] as const;
export const effects = new EffectLog();

export const faultFlow = defineFlow({ name: "reliabilityFaultFlow", input: z.object({ id: z.string() }), output: z.number() }, async ({ id }) => {
  const one = await run("one", () => effects.run(id, "one", 0));
  await sleep("nap", 60);
  const two = await run({ name: "two", retryConfig: { maxAttempts: 50, minBackoffSeconds: 1 } }, ({ attempt }) => effects.run(id, "two", 10, attempt === 1));
  // Three at once: q and r complete while p's write is under way and share the next one.
  const [p, q, r] = await Promise.all([run("p", () => effects.run(id, "p", 1000)), run("q", () => effects.run(id, "q", 2000)), run("r", () => effects.run(id, "r", 4000))]);
  // A second round, after one whose writes merged: both its steps are stored by one commit.
  const [s2, t2] = await Promise.all([run("s", () => effects.run(id, "s", 8000)), run("t", () => effects.run(id, "t", 16000))]);
  const answer = await interrupt("approve", z.object({ by: z.string() }));
  const three = await run("three", () => effects.run(id, "three", 100));
  return one.v + two.v + p.v + q.v + r.v + s2.v + t2.v + three.v + answer.by.length;
});
export const FAULT_FLOW_OUTPUT = 31113;
