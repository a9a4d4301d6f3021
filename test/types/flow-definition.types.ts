/** Type tests: defineFlow / onScheduledFlow infer a flow's input and output from its zod schemas and check its function against them. */
import { z } from "zod";
import { defineFlow, onScheduledFlow, type Flow, type FlowFn, type FlowInput, type FlowOutput, type FlowRef, type FlowView, type FlowStatus } from "../../src/index.js";
import * as firebase from "../../src/firebase/index.js";
import type { Equals, Expect } from "./expect-type.js";

const Input = z.object({ orderId: z.string(), qty: z.number().default(1) });

const order = defineFlow({ name: "typesOrder", input: Input, output: z.boolean() }, async (input) => {
  type _input = Expect<Equals<typeof input, { orderId: string; qty: number }>>;
  return input.qty > 0;
});

// The caller's side of the input (defaults optional) and the reader's side of the output.
type _in = Expect<Equals<FlowInput<typeof order>, { orderId: string; qty?: number | undefined }>>;
type _out = Expect<Equals<FlowOutput<typeof order>, boolean>>;
// A flow that declares no signals or queries has none ({}), so signalFlow and queryFlow refuse every name.
type _flow = Expect<Equals<typeof order, Flow<typeof Input, z.ZodBoolean, {}, {}>>>;
type _fn = Expect<Equals<(typeof order)["fn"], FlowFn<typeof Input, z.ZodBoolean>>>;

// A typed flow is still a Flow and a FlowRef (what the runtime's untyped calls take).
const asFlow: Flow = order;
const asRef: FlowRef = order;

// The function's return type is checked against the output schema.
// @ts-expect-error a string is not the boolean the output schema declares
defineFlow({ name: "typesWrongOutput", input: Input, output: z.boolean() }, async () => "yes");
// @ts-expect-error the flow function must be async (return a promise)
defineFlow({ name: "typesSyncFn", input: Input, output: z.boolean() }, () => true);
// @ts-expect-error the input has no property "customerId"
defineFlow({ name: "typesWrongInput", input: Input, output: z.boolean() }, async (input) => input.customerId === "x");
// @ts-expect-error an unknown option is refused
defineFlow({ name: "typesUnknownOption", input: Input, output: z.boolean(), retries: 3 }, async () => true);
// @ts-expect-error concurrencyKey.key takes the parsed input
defineFlow({ name: "typesKey", input: Input, output: z.boolean(), concurrencyKey: { key: (i) => i.nope, limit: 1 } }, async () => true);

// The root's onScheduledFlow is defineFlow (a plain flow).
const plain = onScheduledFlow({ name: "typesPlain", input: z.string(), output: z.number() }, async (s) => s.length);
type _plain = Expect<Equals<FlowOutput<typeof plain>, number>>;

// firestep/firebase's onScheduledFlow returns a deployable function with the flow attached.
const deployed = firebase.onScheduledFlow(
  { name: "typesDeployed", input: Input, output: z.object({ total: z.number() }), region: "europe-west1", memory: "1GiB", timeoutSeconds: 300 },
  async ({ orderId, qty }) => ({ total: orderId.length * qty }),
);
type _deployedFlow = Expect<Equals<(typeof deployed)["flow"], Flow<typeof Input, z.ZodObject<{ total: z.ZodNumber }>, {}, {}>>>;
type _deployedIn = Expect<Equals<FlowInput<typeof deployed>, { orderId: string; qty?: number | undefined }>>;
type _deployedOut = Expect<Equals<FlowOutput<typeof deployed>, { total: number }>>;
const deployedRef: FlowRef<(typeof deployed)["flow"]> = deployed;
// @ts-expect-error the function returns the wrong shape
firebase.onScheduledFlow({ name: "typesDeployedWrong", input: Input, output: z.object({ total: z.number() }) }, async () => ({ total: "1" }));
// @ts-expect-error memory takes the sizes Cloud Functions offers
firebase.onScheduledFlow({ name: "typesDeployedMemory", input: Input, output: z.boolean(), memory: "3MiB" }, async () => true);

// Signals and queries declared on a flow keep their schemas and handlers' types.
const chat = defineFlow(
  {
    name: "typesChat",
    input: z.object({ room: z.string() }),
    output: z.number(),
    signals: { message: z.object({ text: z.string() }), close: z.null() },
    queries: {
      messageCount: (view) => Object.keys(view.steps).length,
      room: async (view) => String((view.input as { room: string }).room),
    },
  },
  async () => 0,
);
type _signals = Expect<Equals<keyof NonNullable<(typeof chat)["signals"]>, "message" | "close">>;
type _queries = Expect<Equals<keyof NonNullable<(typeof chat)["queries"]>, "messageCount" | "room">>;
// @ts-expect-error a signal's schema must be a zod schema
defineFlow({ name: "typesBadSignal", input: z.string(), output: z.string(), signals: { message: "text" } }, async (s) => s);

// What a query handler sees.
type _viewStatus = Expect<Equals<FlowView["status"], FlowStatus>>;

export { asFlow, asRef, deployedRef };
