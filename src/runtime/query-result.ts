/**
 * A query's result on its way out of the process (an HTTP reply, the CLI's output). In process, queryFlow
 * returns whatever the handler returns; a reply must be JSON, and JSON.stringify would quietly turn a Date
 * into a string, drop a function or throw on a BigInt, so the result is checked as stored values are.
 */
import { InvalidQueryResultError, isFirestepError } from "../errors.js";
import { storableCopy } from "../json-value.js";

/** The result as JSON carries it (undefined stays undefined: the reply leaves it out). */
export function jsonQueryResult(flowId: string, query: string, result: unknown): unknown {
  try {
    return storableCopy(`query ${query}`, result, Number.POSITIVE_INFINITY);
  } catch (e) {
    if (isFirestepError(e) && e.code === "UNSTORABLE_VALUE") throw new InvalidQueryResultError(flowId, query, String(e.details?.path), String(e.details?.why));
    throw e;
  }
}
