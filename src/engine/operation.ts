/** The operation shape Genkit documents for a flow's state, built from a flow record. */
import { publicError, type SerializedError } from "../errors.js";
import { isFinished, type FlowRecord, type FlowStatus, type Wait } from "../schemas.js";

export interface Operation<O = unknown> {
  /** The flow's id. */
  name: string;
  done: boolean;
  result?: { response: O } | { error: Omit<SerializedError, "stack"> };
  blockedOnStep?: { name: string; schema?: unknown };
  metadata: {
    flowName: string;
    status: FlowStatus;
    waitingFor?: Wait[];
    wakeAt?: string;
    createdAt: string;
    updatedAt: string;
    stepCount: number;
  };
}

export function toOperation<O = unknown>(r: FlowRecord): Operation<O> {
  const done = isFinished(r.status);
  const op: Operation<O> = {
    name: r.id,
    done,
    metadata: {
      flowName: r.flowName,
      status: r.status,
      ...(r.waits.length ? { waitingFor: r.waits.map(stripSchema) } : {}),
      ...(r.wakeAt !== undefined && isDate(r.wakeAt) ? { wakeAt: new Date(r.wakeAt).toISOString() } : {}),
      createdAt: new Date(r.createdAt).toISOString(),
      updatedAt: new Date(r.updatedAt).toISOString(),
      stepCount: r.stepCount,
    },
  };
  if (r.status === "succeeded") op.result = { response: r.output?.value as O };
  else if (done && r.error) op.result = { error: publicError(r.error) };
  const interrupt = r.waits.find((w) => w.kind === "interrupt");
  if (interrupt && interrupt.kind === "interrupt" && !done) {
    op.blockedOnStep = { name: interrupt.name, ...(interrupt.schema !== undefined ? { schema: interrupt.schema } : {}) };
  }
  return op;
}

/**
 * Wake times are bounded where they are given, but a record written before that may hold one past what a
 * Date can say; leaving it out of the operation keeps listing every other flow working.
 */
function isDate(ms: number): boolean {
  return Number.isFinite(new Date(ms).getTime());
}

function stripSchema(w: Wait): Wait {
  if (w.kind !== "interrupt") return w;
  const { schema: _schema, ...rest } = w;
  return rest;
}
