/**
 * The calls app code makes, as free functions on the configured runtime (see configureFirestep):
 * the Genkit names (scheduleFlow, resumeFlow, getFlowState) and the control calls beside them.
 */
import type { Flow, FlowOutput, FlowRef } from "./flow.js";
import type { Operation } from "./engine/operation.js";
import { getRuntime } from "./runtime/configure.js";
import type { ScheduleOptions } from "./runtime/runtime.js";
import type { ListQuery } from "./ports.js";

/** Starts `flow` asynchronously; the operation returned is never already done. Third argument: delay in seconds, or options. */
export function scheduleFlow<F extends Flow>(flow: FlowRef<F>, input: unknown, delayOrOptions?: number | ScheduleOptions): Promise<Operation<FlowOutput<F>>> {
  return getRuntime().scheduleFlow(flow, input, delayOrOptions);
}

/** Answers the interrupt a flow is blocked on; the payload is checked against the interrupt's schema first. */
export function resumeFlow<F extends Flow>(flow: FlowRef<F>, flowId: string, payload: unknown, options?: { step?: string }): Promise<Operation<FlowOutput<F>>> {
  return getRuntime().resumeFlow(flow, flowId, payload, options);
}

export function getFlowState<F extends Flow>(flow: FlowRef<F>, flowId: string): Promise<Operation<FlowOutput<F>>> {
  return getRuntime().getFlowState(flow, flowId);
}

export const listFlows = (query?: ListQuery) => getRuntime().listFlows(query);
export const getFlowHistory = (flow: FlowRef | undefined, flowId: string) => getRuntime().getFlowHistory(flow, flowId);
export const pauseFlow = (flow: FlowRef | undefined, flowId: string) => getRuntime().pauseFlow(flow, flowId);
export const continueFlow = (flow: FlowRef | undefined, flowId: string) => getRuntime().continueFlow(flow, flowId);
export const cancelFlow = (flow: FlowRef | undefined, flowId: string, reason?: string) => getRuntime().cancelFlow(flow, flowId, reason);
export const retryFlow = (flow: FlowRef | undefined, flowId: string) => getRuntime().retryFlow(flow, flowId);
export const deleteFlow = (flow: FlowRef | undefined, flowId: string) => getRuntime().deleteFlow(flow, flowId);
/** Sends a declared signal to a flow; the flow takes it with waitForSignal. */
export const signalFlow = <F extends Flow>(flow: FlowRef<F>, flowId: string, name: string, payload: unknown) => getRuntime().signalFlow(flow, flowId, name, payload);
/** Answers a declared query from the flow's journal, without running a step. */
export const queryFlow = <F extends Flow>(flow: FlowRef<F>, flowId: string, name: string) => getRuntime().queryFlow(flow, flowId, name);

export type { Operation };
