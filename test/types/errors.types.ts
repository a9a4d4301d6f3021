/** Type tests: every error class carries its code as a literal type, and the guards narrow. Compiled, never run. */
import {
  ConflictError, CorruptRecordError, DeadlineExceededError, FirestepError, FlowAlreadyExistsError, FlowCancelledError, FlowNotFoundError, FlowNotRegisteredError,
  InterruptError, InterruptSwallowedError, InterruptTimeoutError, InvalidArgumentError, InvalidFlowStateError, InvalidInputError, InvalidOutputError,
  InvalidPayloadError, InvalidQueryResultError, InvalidStepNameError, NonDeterminismError, NonRetriableError, NotBlockedOnInterruptError, NotConfiguredError,
  PermissionDeniedError, PollTimeoutError, SignalTimeoutError, StepFailedError, StepTimeoutError, StoreUnavailableError, QueueUnavailableError,
  UnauthenticatedError, UnstorableValueError, ValueTooLargeError, FencedError, ERROR_CODES, isFirestepError, isInterruptError, type ErrorCode, type Wait,
} from "../../src/index.js";
import { OidcVerificationError } from "../../src/firebase/index.js";
import type { Equals, Expect } from "./expect-type.js";

type CodeOf<C extends abstract new (...args: never[]) => { code: unknown }> = InstanceType<C>["code"];
type _codes = [
  Expect<Equals<CodeOf<typeof InvalidInputError>, "INVALID_INPUT">>,
  Expect<Equals<CodeOf<typeof InvalidOutputError>, "INVALID_OUTPUT">>,
  Expect<Equals<CodeOf<typeof InvalidQueryResultError>, "INVALID_QUERY_RESULT">>,
  Expect<Equals<CodeOf<typeof InvalidPayloadError>, "INVALID_PAYLOAD">>,
  Expect<Equals<CodeOf<typeof InvalidArgumentError>, "INVALID_ARGUMENT">>,
  Expect<Equals<CodeOf<typeof InvalidStepNameError>, "INVALID_STEP_NAME">>,
  Expect<Equals<CodeOf<typeof UnstorableValueError>, "UNSTORABLE_VALUE">>,
  Expect<Equals<CodeOf<typeof ValueTooLargeError>, "VALUE_TOO_LARGE">>,
  Expect<Equals<CodeOf<typeof FlowNotFoundError>, "FLOW_NOT_FOUND">>,
  Expect<Equals<CodeOf<typeof FlowNotRegisteredError>, "FLOW_NOT_REGISTERED">>,
  Expect<Equals<CodeOf<typeof FlowAlreadyExistsError>, "FLOW_ALREADY_EXISTS">>,
  Expect<Equals<CodeOf<typeof InvalidFlowStateError>, "INVALID_FLOW_STATE">>,
  Expect<Equals<CodeOf<typeof NotBlockedOnInterruptError>, "NOT_BLOCKED_ON_INTERRUPT">>,
  Expect<Equals<CodeOf<typeof ConflictError>, "CONFLICT">>,
  Expect<Equals<CodeOf<typeof FencedError>, "FENCED">>,
  Expect<Equals<CodeOf<typeof NonRetriableError>, "NON_RETRIABLE">>,
  Expect<Equals<CodeOf<typeof StepFailedError>, "STEP_FAILED">>,
  Expect<Equals<CodeOf<typeof PollTimeoutError>, "POLL_TIMEOUT">>,
  Expect<Equals<CodeOf<typeof InterruptTimeoutError>, "INTERRUPT_TIMEOUT">>,
  Expect<Equals<CodeOf<typeof SignalTimeoutError>, "SIGNAL_TIMEOUT">>,
  Expect<Equals<CodeOf<typeof StepTimeoutError>, "STEP_TIMEOUT">>,
  Expect<Equals<CodeOf<typeof DeadlineExceededError>, "DEADLINE_EXCEEDED">>,
  Expect<Equals<CodeOf<typeof InterruptSwallowedError>, "INTERRUPT_SWALLOWED">>,
  Expect<Equals<CodeOf<typeof NonDeterminismError>, "NON_DETERMINISM">>,
  Expect<Equals<CodeOf<typeof FlowCancelledError>, "FLOW_CANCELLED">>,
  Expect<Equals<CodeOf<typeof CorruptRecordError>, "CORRUPT_RECORD">>,
  Expect<Equals<CodeOf<typeof StoreUnavailableError>, "STORE_UNAVAILABLE">>,
  Expect<Equals<CodeOf<typeof QueueUnavailableError>, "QUEUE_UNAVAILABLE">>,
  Expect<Equals<CodeOf<typeof UnauthenticatedError>, "UNAUTHENTICATED">>,
  Expect<Equals<CodeOf<typeof OidcVerificationError>, "UNAUTHENTICATED">>,
  Expect<Equals<CodeOf<typeof PermissionDeniedError>, "PERMISSION_DENIED">>,
  Expect<Equals<CodeOf<typeof NotConfiguredError>, "NOT_CONFIGURED">>,
  Expect<Equals<CodeOf<typeof FirestepError>, ErrorCode>>,
  Expect<Equals<ErrorCode, (typeof ERROR_CODES)[number]>>,
];

export function narrowing(e: unknown): void {
  if (isFirestepError(e)) {
    type _base = Expect<Equals<typeof e, FirestepError>>;
    type _code = Expect<Equals<typeof e.code, ErrorCode>>;
    type _details = Expect<Equals<typeof e.details, Record<string, unknown> | undefined>>;
  }
  // With a code, the guard narrows the code too.
  if (isFirestepError(e, "FLOW_NOT_FOUND")) {
    type _narrowed = Expect<Equals<typeof e.code, "FLOW_NOT_FOUND">>;
  }
  // @ts-expect-error not an error code
  isFirestepError(e, "NOT_A_CODE");
  if (isInterruptError(e)) {
    type _wait = Expect<Equals<typeof e.wait, Wait>>;
  }
  if (e instanceof StepFailedError) {
    type _step = Expect<Equals<[typeof e.step, typeof e.attempts, typeof e.code], [string, number, "STEP_FAILED"]>>;
  }
  // Throwable from a step with a message and an optional cause.
  new NonRetriableError("card declined", { cause: e });
  // @ts-expect-error a FirestepError's code is one of ERROR_CODES
  new FirestepError("NOPE", "message");
  void InterruptError;
}
