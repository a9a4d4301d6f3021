/**
 * The calls app code makes, as free functions on the configured runtime (see configureFirestep):
 * the Genkit names (scheduleFlow, resumeFlow, getFlowState) and the control calls beside them.
 */
import type { Flow, FlowInput, FlowOutput, FlowRef, QueryName, QueryResult, SignalName, SignalPayload } from "./flow.js";
import type { Operation } from "./engine/operation.js";
import { getRuntime } from "./runtime/configure.js";
import type { ResumeOptions, ScheduleOptions } from "./runtime/runtime.js";
import type { ListPage, ListQuery } from "./ports.js";
import type { HistoryEvent } from "./schemas.js";

/** Starts `flow` asynchronously; the operation returned is never already done. Third argument: delay in seconds, or options. */
export function scheduleFlow<F extends Flow>(flow: FlowRef<F>, input: FlowInput<F>, delayOrOptions?: number | ScheduleOptions): Promise<Operation<FlowOutput<F>>> {
  return getRuntime().scheduleFlow(flow, input, delayOrOptions);
}

/** Answers the interrupt a flow is blocked on; the payload is checked against the interrupt's schema first. */
export function resumeFlow<F extends Flow>(flow: FlowRef<F>, flowId: string, payload: unknown, options?: ResumeOptions): Promise<Operation<FlowOutput<F>>> {
  return getRuntime().resumeFlow(flow, flowId, payload, options);
}

export function getFlowState<F extends Flow>(flow: FlowRef<F>, flowId: string): Promise<Operation<FlowOutput<F>>> {
  return getRuntime().getFlowState(flow, flowId);
}

// The calls below take `undefined` for the flow where a tool knows only the id; the output is then unknown.
export const listFlows = (query?: ListQuery): Promise<ListPage> => getRuntime().listFlows(query);
export const getFlowHistory = (flow: FlowRef | undefined, flowId: string): Promise<HistoryEvent[]> => getRuntime().getFlowHistory(flow, flowId);
export const pauseFlow = <F extends Flow>(flow: FlowRef<F> | undefined, flowId: string): Promise<Operation<FlowOutput<F>>> => getRuntime().pauseFlow(flow, flowId);
export const continueFlow = <F extends Flow>(flow: FlowRef<F> | undefined, flowId: string): Promise<Operation<FlowOutput<F>>> => getRuntime().continueFlow(flow, flowId);
export const cancelFlow = <F extends Flow>(flow: FlowRef<F> | undefined, flowId: string, reason?: string): Promise<Operation<FlowOutput<F>>> =>
  getRuntime().cancelFlow(flow, flowId, reason);
export const retryFlow = <F extends Flow>(flow: FlowRef<F> | undefined, flowId: string): Promise<Operation<FlowOutput<F>>> => getRuntime().retryFlow(flow, flowId);
export const deleteFlow = (flow: FlowRef | undefined, flowId: string): Promise<void> => getRuntime().deleteFlow(flow, flowId);
/** Sends a signal the flow declares, its payload checked against the signal's schema; the flow takes it with waitForSignal. */
export const signalFlow = <F extends Flow, N extends SignalName<F>>(flow: FlowRef<F>, flowId: string, name: N, payload: SignalPayload<F, N>): Promise<Operation<FlowOutput<F>>> =>
  getRuntime().signalFlow(flow, flowId, name, payload);
/** Answers a query the flow declares from its journal, without running a step. */
export const queryFlow = <F extends Flow, N extends QueryName<F>>(flow: FlowRef<F>, flowId: string, name: N): Promise<QueryResult<F, N>> =>
  getRuntime().queryFlow(flow, flowId, name);

export type { Operation };
