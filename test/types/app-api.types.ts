/** Type tests: the app-level calls take a flow's input and give its output, and refuse what they cannot use. Compiled, never run. */
import { z } from "zod";
import {
  cancelFlow, continueFlow, defineFlow, deleteFlow, getFlowHistory, getFlowState, listFlows, pauseFlow, queryFlow, resumeFlow, retryFlow, scheduleFlow, signalFlow,
  type FlowRecord, type FlowStatus, type HistoryEvent, type ListPage, type ListQuery, type Operation, type ResumeOptions, type ScheduleOptions,
} from "../../src/index.js";
import * as firebase from "../../src/firebase/index.js";
import { expectType } from "./expect-type.js";

const order = defineFlow({ name: "typesAppOrder", input: z.object({ orderId: z.string() }), output: z.boolean() }, async () => true);
const deployed = firebase.onScheduledFlow({ name: "typesAppDeployed", input: z.object({ n: z.number() }), output: z.string() }, async ({ n }) => String(n));
const chat = defineFlow(
  {
    name: "typesAppChat",
    input: z.string(),
    output: z.number(),
    signals: { message: z.object({ text: z.string() }), close: z.null() },
    queries: { count: (view) => Object.keys(view.steps).length, status: async (view) => view.status },
  },
  async () => 0,
);

export async function appCalls(): Promise<void> {
  // scheduleFlow takes the flow's input and gives an operation typed by its output.
  expectType<Operation<boolean>>()(await scheduleFlow(order, { orderId: "o-1" }));
  expectType<Operation<boolean>>()(await scheduleFlow(order, { orderId: "o-2" }, 30));
  expectType<Operation<boolean>>()(await scheduleFlow(order, { orderId: "o-3" }, { flowId: "order-o-3", delaySeconds: 5 }));
  expectType<Operation<string>>()(await scheduleFlow(deployed, { n: 1 }));
  // @ts-expect-error the input is checked against the flow's schema
  await scheduleFlow(order, { orderId: 1 });
  // @ts-expect-error a missing input is refused
  await scheduleFlow(order, {});
  // @ts-expect-error the deployed flow's input too
  await scheduleFlow(deployed, { n: "1" });
  // @ts-expect-error an unknown schedule option is refused
  await scheduleFlow(order, { orderId: "o-4" }, { flowID: "typo" });
  // @ts-expect-error a delay is a number of seconds
  await scheduleFlow(order, { orderId: "o-5" }, "30");

  // getFlowState and the calls that change a flow give its operation, typed by its output.
  const state = await getFlowState(order, "id");
  expectType<Operation<boolean>>()(state);
  if (state.result && "response" in state.result) expectType<boolean>()(state.result.response);
  if (state.result && "error" in state.result) expectType<string>()(state.result.error.code);
  expectType<Operation<string>>()(await getFlowState(deployed, "id"));
  expectType<Operation<boolean>>()(await resumeFlow(order, "id", { approved: true }));
  expectType<Operation<boolean>>()(await resumeFlow(order, "id", { approved: true }, { step: "manager-approval" }));
  // @ts-expect-error an unknown resume option is refused
  await resumeFlow(order, "id", {}, { stepName: "x" });
  expectType<Operation<boolean>>()(await pauseFlow(order, "id"));
  expectType<Operation<boolean>>()(await continueFlow(order, "id"));
  expectType<Operation<boolean>>()(await cancelFlow(order, "id", "no longer needed"));
  expectType<Operation<string>>()(await retryFlow(deployed, "id"));
  // Without the flow's code, the output is unknown.
  expectType<Operation<unknown>>()(await pauseFlow(undefined, "id"));
  expectType<Operation<unknown>>()(await cancelFlow(undefined, "id"));
  expectType<void>()(await deleteFlow(order, "id"));
  expectType<HistoryEvent[]>()(await getFlowHistory(order, "id"));
  // @ts-expect-error a cancel reason is a string
  await cancelFlow(order, "id", { reason: "x" });
  // @ts-expect-error a flow id is a string
  await getFlowState(order, 42);
  // @ts-expect-error a flow is required (or undefined, for the calls that work by id alone)
  await getFlowState(undefined, "id");

  // listFlows takes a query whose unknown keys are refused, and gives a page of records.
  const page = await listFlows({ flowName: "typesAppOrder", status: ["waiting", "paused"], limit: 10 });
  expectType<ListPage>()(page);
  expectType<FlowRecord[]>()(page.flows);
  expectType<string | undefined>()(page.cursor);
  await listFlows();
  // @ts-expect-error an unknown list option is refused
  await listFlows({ flow: "typesAppOrder" });
  // @ts-expect-error status is one of the flow statuses
  await listFlows({ status: "done" });

  // Signals are checked by name and payload against what the flow declares.
  expectType<Operation<number>>()(await signalFlow(chat, "id", "message", { text: "hi" }));
  await signalFlow(chat, "id", "close", null);
  // @ts-expect-error the flow declares no signal "typo"
  await signalFlow(chat, "id", "typo", { text: "hi" });
  // @ts-expect-error the payload of "message" has a text
  await signalFlow(chat, "id", "message", { body: "hi" });
  // @ts-expect-error a flow that declares no signals takes none
  await signalFlow(order, "id", "message", {});

  // Queries are checked by name and give their handler's (awaited) result.
  expectType<number>()(await queryFlow(chat, "id", "count"));
  expectType<FlowStatus>()(await queryFlow(chat, "id", "status"));
  // @ts-expect-error the flow declares no query "typo"
  await queryFlow(chat, "id", "typo");

  // The option types are exported under their names.
  const scheduleOptions: ScheduleOptions = { delaySeconds: 1, flowId: "x" };
  const resumeOptions: ResumeOptions = { step: "x" };
  const query: ListQuery = { status: "failed", cursor: "c" };
  void [scheduleOptions, resumeOptions, query];
}
