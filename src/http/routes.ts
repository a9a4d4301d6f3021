/**
 * The API's route table: each route is a path pattern and, per method, a handler that turns one request
 * into one runtime call and its reply.
 */
import { InvalidArgumentError, showValue } from "../errors.js";
import type { Flow } from "../flow.js";
import { toOperation, type Operation } from "../engine/operation.js";
import type { FlowRuntime, ScheduleOptions } from "../runtime/runtime.js";
import { jsonQueryResult } from "../runtime/query-result.js";
import type { ListQuery } from "../ports.js";
import { parseStatusList } from "../runtime/call-options.js";
import { describeDefinition } from "./flow-definition.js";
import { objectBody } from "./request-body.js";
import { withoutStacks } from "./responses.js";

export type Method = "GET" | "POST" | "DELETE";

export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  runtime(): FlowRuntime;
  body(): Promise<unknown>;
  /** The flow of this name: from the API's `flows`, the runtime's flows, or this process's registry. */
  findFlow(name: string): Flow;
}

export type Reply = { status: number; json: unknown } | { status: number; text: string; contentType: string } | { status: 204 };

export interface Route {
  /** Path segments; ":name" captures one. */
  path: string[];
  /** Routes without auth answer without touching the runtime. */
  public?: boolean;
  methods: Partial<Record<Method, (ctx: RouteContext) => Promise<Reply>>>;
}

const CONTROL_ACTIONS = ["pause", "continue", "cancel", "retry"] as const;

export const ROUTES: Route[] = [
  { path: ["health"], public: true, methods: { GET: async () => ({ status: 200, json: { ok: true } }) } },
  {
    path: ["metrics"],
    methods: { GET: async (c) => ({ status: 200, text: c.runtime().core.metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8" }) },
  },
  {
    path: ["flows"],
    methods: {
      async GET(c) {
        const page = await c.runtime().listFlows(listQuery(c.query));
        return { status: 200, json: { operations: page.flows.map((r) => publicOperation(toOperation(r))), ...(page.cursor ? { cursor: page.cursor } : {}) } };
      },
    },
  },
  {
    path: ["flows", ":ref"],
    methods: {
      async GET(c) {
        const d = await c.runtime().getFlow(c.params.ref!);
        const record = d.record.error ? { ...d.record, error: withoutStacks(d.record.error) } : d.record;
        const steps = d.steps.map((s) => (s.error ? { ...s, error: withoutStacks(s.error) } : s));
        const core = c.runtime().core;
        const definition = describeDefinition((r) => core.flowFor(r), d.record);
        return { status: 200, json: { operation: publicOperation(d.operation), record, steps, history: d.history, definition } };
      },
      async POST(c) {
        const flow = c.findFlow(c.params.ref!);
        const body = objectBody(await c.body(), ["input", "delaySeconds", "flowId"]);
        const options: ScheduleOptions = {};
        if (body.delaySeconds !== undefined) options.delaySeconds = body.delaySeconds as number;
        if (body.flowId !== undefined) options.flowId = body.flowId as string;
        return { status: 201, json: publicOperation(await c.runtime().scheduleFlow(flow, body.input, options)) };
      },
      async DELETE(c) {
        objectBody(await c.body(), []);
        await c.runtime().deleteFlow(undefined, c.params.ref!);
        return { status: 204 };
      },
    },
  },
  {
    path: ["flows", ":ref", "history"],
    methods: { GET: async (c) => ({ status: 200, json: { history: await c.runtime().getFlowHistory(undefined, c.params.ref!) } }) },
  },
  {
    path: ["flows", ":ref", "resume"],
    methods: {
      async POST(c) {
        const body = objectBody(await c.body(), ["payload", "step"]);
        const step = optionalString(body.step, "step");
        const op = await c.runtime().resumeFlow(undefined, c.params.ref!, body.payload, step === undefined ? {} : { step });
        return { status: 200, json: publicOperation(op) };
      },
    },
  },
  {
    path: ["flows", ":ref", "signals", ":signal"],
    methods: {
      async POST(c) {
        const body = objectBody(await c.body(), ["payload"]);
        // No flow given: the runtime checks the payload against the definition it runs this flow with.
        const op = await c.runtime().signalFlow(undefined, c.params.ref!, c.params.signal!, body.payload);
        return { status: 200, json: publicOperation(op) };
      },
    },
  },
  {
    path: ["flows", ":ref", "queries", ":query"],
    methods: {
      async GET(c) {
        const id = c.params.ref!;
        const result = jsonQueryResult(id, c.params.query!, await c.runtime().queryFlow(undefined, id, c.params.query!));
        return { status: 200, json: { result } };
      },
    },
  },
  ...CONTROL_ACTIONS.map(
    (action): Route => ({
      path: ["flows", ":ref", action],
      methods: {
        async POST(c) {
          const rt = c.runtime();
          const id = c.params.ref!;
          let op: Operation;
          const body = objectBody(await c.body(), action === "cancel" ? ["reason"] : []);
          if (action === "cancel") {
            op = await rt.cancelFlow(undefined, id, optionalString(body.reason, "reason"));
          } else if (action === "pause") op = await rt.pauseFlow(undefined, id);
          else if (action === "continue") op = await rt.continueFlow(undefined, id);
          else op = await rt.retryFlow(undefined, id);
          return { status: 200, json: publicOperation(op) };
        },
      },
    }),
  ),
];

/** Finds the route for a path; `params` holds the captured segments. */
export function matchRoute(segments: string[]): { route: Route; params: Record<string, string> } | undefined {
  for (const route of ROUTES) {
    if (route.path.length !== segments.length) continue;
    const params: Record<string, string> = {};
    if (route.path.every((p, i) => (p.startsWith(":") ? ((params[p.slice(1)] = segments[i]!), true) : p === segments[i]))) return { route, params };
  }
  return undefined;
}

const LIST_PARAMETERS = ["flow", "status", "limit", "cursor"];

/** GET /flows' query. A parameter it cannot read is refused, never dropped: dropping one would list more than asked. */
function listQuery(q: URLSearchParams): ListQuery {
  const query: ListQuery = {};
  for (const key of q.keys()) {
    if (!LIST_PARAMETERS.includes(key)) throw new InvalidArgumentError(`GET /flows does not take "${key}"; it takes ${LIST_PARAMETERS.join(", ")}.`);
  }
  const flow = q.get("flow");
  if (flow === "") throw new InvalidArgumentError(`flow needs a flow name; got an empty one. Leave flow out to list every flow name.`);
  if (flow !== null) query.flowName = flow;
  // Repeated (status=a&status=b) or comma-separated, the same list.
  const statuses = q.getAll("status");
  if (statuses.length) query.status = parseStatusList(statuses.join(","), "status");
  const limit = q.get("limit");
  if (limit !== null) {
    if (!/^\d+$/.test(limit)) throw new InvalidArgumentError(`limit must be a whole number from 1 to 1000; got "${limit}".`);
    query.limit = Number(limit);
  }
  const cursor = q.get("cursor");
  if (cursor) query.cursor = cursor;
  return query;
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new InvalidArgumentError(`"${field}" must be a string; got ${showValue(v)}.`);
  return v;
}

function publicOperation<O>(op: Operation<O>): Operation<O> {
  if (!op.result || !("error" in op.result)) return op;
  return { ...op, result: { error: withoutStacks(op.result.error) } };
}
