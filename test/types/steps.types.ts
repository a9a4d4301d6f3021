/** Type tests: what each step returns, and the arguments it refuses. Compiled, never run. */
import { z } from "zod";
import {
  action, awaitFlows, defineFlow, interrupt, now, patched, poll, random, run, runAction, runMap, sleep, sleepUntil, startChild, uuid, waitFor, waitForSignal,
  type ChildHandle, type Operation, type RunOptions, type StepAttempt,
} from "../../src/index.js";
import * as firebase from "../../src/firebase/index.js";
import { expectType } from "./expect-type.js";

const child = defineFlow({ name: "typesChild", input: z.object({ n: z.number() }), output: z.string() }, async ({ n }) => String(n));
const deployedChild = firebase.onScheduledFlow({ name: "typesDeployedChild", input: z.string(), output: z.array(z.number()) }, async (s) => [s.length]);
const double = action({ name: "double", input: z.number(), output: z.number().transform(String) }, (n) => n * 2);

export async function steps(): Promise<void> {
  // run returns the step function's awaited value, sync or async.
  expectType<number>()(await run("sync", () => 1));
  expectType<{ id: string }>()(await run("async", async () => ({ id: "x" })));
  expectType<undefined>()(await run("nothing", async () => undefined));
  expectType<string>()(await run({ name: "opts", retryConfig: { maxAttempts: 3 }, timeoutSeconds: 5 }, async ({ attempt, signal }) => {
    expectType<number>()(attempt);
    expectType<AbortSignal>()(signal);
    return "ok";
  }));
  // fallback and compensate are typed by the step's value.
  expectType<number>()(await run({ name: "saga", fallback: () => 0, compensate: (v) => { expectType<number>()(v); } }, async () => 1));
  // @ts-expect-error the fallback's value must be the step's type
  await run({ name: "badFallback", fallback: () => "zero" }, async () => 1);
  // @ts-expect-error retryConfig needs maxAttempts
  await run({ name: "badRetry", retryConfig: { minBackoffSeconds: 1 } }, async () => 1);
  // @ts-expect-error an unknown option is refused
  await run({ name: "typo", retries: 3 }, async () => 1);
  // @ts-expect-error run needs a function
  await run("noFn", 1);
  const opts: RunOptions<number> = { name: "named" };
  const attempt: StepAttempt = { attempt: 1, signal: new AbortController().signal };
  void opts;
  void attempt;

  // runAction checks the input against the action's schema and returns its output type.
  expectType<string>()(await runAction(double, 2));
  expectType<string>()(await runAction(double, 2, { name: "double-again", retryConfig: { maxAttempts: 2 } }));
  // @ts-expect-error the action takes a number
  await runAction(double, "2");
  // @ts-expect-error an action's function returns what its output schema takes
  action({ name: "bad", input: z.number(), output: z.string() }, (n) => n);

  // interrupt returns its schema's output type; timeoutValue must be of that type.
  expectType<{ approved: boolean }>()(await interrupt("approval", z.object({ approved: z.boolean() })));
  expectType<number>()(await interrupt("parsed", z.string().transform(Number), { timeoutSeconds: 60, timeoutValue: 0 }));
  // @ts-expect-error timeoutValue must match the schema's output
  await interrupt("badTimeout", z.object({ approved: z.boolean() }), { timeoutSeconds: 60, timeoutValue: { approved: "no" } });
  // @ts-expect-error interrupt needs a schema
  await interrupt("noSchema");

  // The waits resolve with nothing.
  expectType<void>()(await sleep("nap", 60));
  expectType<void>()(await sleepUntil("later", new Date()));
  expectType<void>()(await sleepUntil("later-ms", Date.now()));
  expectType<void>()(await poll({ name: "paid", pollPeriodSeconds: 30, timeoutSeconds: 600, backoff: 2, maxPeriodSeconds: 300 }, async () => true));
  // @ts-expect-error poll's function answers true or false
  await poll({ name: "notBool", pollPeriodSeconds: 30 }, async () => "done");
  // @ts-expect-error an unknown poll option is refused
  await poll({ name: "typo", pollPeriodSeconds: 30, timeout: 5 }, () => true);
  // @ts-expect-error sleep takes seconds as a number
  await sleep("nap", "60");

  // waitFor and awaitFlows give the other flows' operations, typed by their output.
  expectType<Array<Operation<string>>>()(await waitFor("others", child, ["a", "b"]));
  expectType<Array<Operation<number[]>>>()(await waitFor("deployed", deployedChild, ["a"]));
  const handle = await startChild("child", child, { n: 1 });
  expectType<ChildHandle<typeof child>>()(handle);
  expectType<Array<Operation<string>>>()(await awaitFlows("children", [handle]));
  await startChild("deployedChild", deployedChild, "text", { detached: true });
  // @ts-expect-error the child's input is checked
  await startChild("badChild", child, { n: "1" });
  // @ts-expect-error the deployed child's input is a string
  await startChild("badDeployedChild", deployedChild, 1);

  // Signals: the payload type is the caller's to say (the flow's declaration is not visible inside the step).
  expectType<unknown>()(await waitForSignal("message"));
  expectType<{ text: string }>()(await waitForSignal<{ text: string }>("message", { timeoutSeconds: 10 }));

  expectType<string[]>()(await runMap("each", [1, 2, 3], async (n, i) => String(n + i), { concurrency: 2 }));
  expectType<number>()(await now());
  expectType<string>()(await uuid("id"));
  expectType<number>()(await random());
  expectType<boolean>()(await patched("change-1"));
}
