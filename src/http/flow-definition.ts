/**
 * What `GET /flows/:id` says about the code a stored flow runs with: the signals and queries it declares,
 * so a client (the dashboard) can offer them instead of guessing names. The definition is the one the
 * signal and query routes use, so what is listed here is what they accept.
 */
import { isFirestepError } from "../errors.js";
import type { Flow } from "../flow.js";
import { schemaField } from "../json-schema.js";
import type { FlowRecord } from "../schemas.js";

export type FlowDefinitionInfo =
  | {
      known: true;
      /** The definition's version, when it has one (it may differ from the record's when that one is no longer defined). */
      version?: string;
      /** Each declared signal with its payload's JSON Schema (left out when zod cannot convert it). */
      signals: Array<{ name: string; schema?: unknown }>;
      queries: Array<{ name: string }>;
    }
  | { known: false; message: string };

/** `flowFor` as the runtime resolves it: the runtime's flows, then this process's, at the record's version. */
export function describeDefinition(flowFor: (record: FlowRecord) => Flow, record: FlowRecord): FlowDefinitionInfo {
  let flow: Flow;
  try {
    flow = flowFor(record);
  } catch (e) {
    // A flow stored by another deployment must stay viewable; only its signals and queries are unknown.
    if (isFirestepError(e) && e.code === "FLOW_NOT_REGISTERED") return { known: false, message: notDefined(record.flowName) };
    throw e;
  }
  return {
    known: true,
    ...(flow.version ? { version: flow.version } : {}),
    signals: Object.entries(flow.signals ?? {}).map(([name, schema]) => ({ name, ...schemaField(schema) })),
    queries: Object.keys(flow.queries ?? {}).map((name) => ({ name })),
  };
}

function notDefined(flowName: string): string {
  return (
    `Flow "${flowName}" is not defined where this API runs (it may have been stored by another deployment), so its signals and queries are not known here; ` +
    `sending a signal or running a query is refused with 404 FLOW_NOT_REGISTERED. Give the flow to the runtime (flows) or import its module in the serving process.`
  );
}
