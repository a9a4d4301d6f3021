/**
 * The state of one execution of a flow: the journal it replays, the step keys handed out so far, the
 * steps parked on a suspension, and the I/O callbacks through which completed steps become durable.
 * Step functions find it through AsyncLocalStorage, so user code calls plain `run(...)`.
 *
 * A step that must wait (an interrupt, a sleep, a poll, a retry, other flows) parks: its promise stays
 * pending, and once nothing else runs the invocation ends as suspended. The execution may then be kept
 * (warm) and continued by a later invocation, which wakes the parked steps; or dropped, in which case
 * the next invocation replays the journal from the start and reaches the same parked steps.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { DeadlineExceededError, InvalidArgumentError, InvalidStepNameError, NonDeterminismError } from "../errors.js";
import type { FlowRecord, HistoryEvent, StepKind, StepProgress, StepRecord, Wait } from "../schemas.js";
import { StepActivity } from "./step-activity.js";
import { InterruptError, StopSignal } from "./suspension.js";
import type { Flow } from "../flow.js";

/** What the engine needs from the runtime while a flow runs. */
export interface InvocationIO {
  now(): number;
  /** Calls `fn` after `ms` on the runtime's clock (step timeouts); returns a cancel. Default: real time. */
  setTimer?(ms: number, fn: () => void): () => void;
  /**
   * Makes completed steps durable; resolves only once they are stored. `valueBytes`, when known, is the
   * size of the steps' values as JSON: steps completing together may then be stored by one write.
   */
  checkpoint(steps: StepRecord[], events: HistoryEvent[], valueBytes?: number): Promise<unknown>;
  /** Reads other flows' records (for `waitFor`). */
  readFlows(ids: string[]): Promise<Array<FlowRecord | undefined>>;
  maxValueBytes: number;
  /** Live event hook (not stored by this call). */
  emit?(event: HistoryEvent): void;
  /** False while nobody listens to live events, so events that are never stored need not be built. */
  hasListeners?(): boolean;
  /** Schedules another flow (for startChild); the same flowId again is the same flow. */
  startFlow?(flowName: string, input: unknown, options: { flowId: string; parentId: string }): Promise<void>;
}

/** How an invocation runs: forward as usual, or replaying only to undo (a cancelled flow's compensations). */
export type InvocationMode = "run" | "compensate";

export interface Compensation {
  key: string;
  name: string;
  undo: () => Promise<unknown> | unknown;
}

/** The key and call index of a step call, and its journal entry when it already ran. */
export interface NextCall {
  key: string;
  call: number;
  done?: StepRecord;
}

/**
 * What the flow's code finds in place of the context inside a step's own function: a step called there
 * cannot park, so it throws its suspension into that function (and says so here).
 */
export interface StepScope {
  readonly ctx: InvocationContext;
  suspended: boolean;
}

export const MAX_STEP_NAME_LENGTH = 512;
/** Call indexes at and above this are the engine's own steps (compensations), never the flow's. */
export const ENGINE_CALL_BASE = 1_000_000_000;

export class InvocationContext {
  readonly flow: Flow;
  record: FlowRecord;
  io: InvocationIO;
  progress: Record<string, StepProgress>;
  inbox: Record<string, { value?: unknown; at: number }>;
  /** Inbox entries this invocation consumed (the runtime removes them from the record). */
  readonly consumedInbox = new Set<string>();
  /** What the parked steps wait for, as of this invocation. */
  readonly waits: Wait[] = [];
  /** Steps to store with the outcome rather than on their own (e.g. a sleep's wake time). */
  readonly deferredSteps: StepRecord[] = [];
  readonly events: HistoryEvent[] = [];
  private readonly byKey = new Map<string, StepRecord>();
  /** The flow's own steps by call index (dense from 0); the engine's steps are found by key only. */
  private readonly byCall: Array<StepRecord | undefined> = [];
  private readonly occurrences = new Map<string, number>();
  /** Which steps run and which are parked: the invocation ends when none runs. */
  readonly activity = new StepActivity();
  /** Between invocations: no runner holds the flow, so no step may start. */
  private detached = false;
  /** Set when code ran while detached; such an execution is not continued. */
  private spoiled = false;
  private calls = 0;
  private nextSeq: number;
  /** Compensations of the completed steps seen so far, in completion order. */
  readonly compensations: Compensation[] = [];
  readonly mode: InvocationMode;
  stopReason: string | undefined;
  replayed = 0;
  executed = 0;

  constructor(flow: Flow, record: FlowRecord, journal: readonly StepRecord[], io: InvocationIO, mode: InvocationMode = "run") {
    this.flow = flow;
    this.record = record;
    this.io = io;
    this.mode = mode;
    this.progress = { ...record.progress };
    this.inbox = { ...(record.inbox ?? {}) };
    for (const s of journal) {
      this.byKey.set(s.key, s);
      if (s.call < ENGINE_CALL_BASE) this.byCall[s.call] = s;
    }
    this.nextSeq = journal.length ? journal[journal.length - 1]!.seq + 1 : 0;
  }

  /** Hands out the stable key and call index of the next step named `name`, checking replay order. */
  nextCall(name: string, kind: StepKind): NextCall {
    validateStepName(name);
    const n = (this.occurrences.get(name) ?? 0) + 1;
    this.occurrences.set(name, n);
    const key = n === 1 ? name : `${name}#${n}`;
    const call = this.calls++;
    const atCall = this.byCall[call];
    if (atCall && (atCall.key !== key || atCall.kind !== kind)) {
      throw new NonDeterminismError(this.record.id, call, `${atCall.kind} "${atCall.key}"`, `${kind} "${key}"`);
    }
    const done = this.byKey.get(key);
    if (done && done.kind !== kind) {
      throw new NonDeterminismError(this.record.id, call, `${done.kind} "${done.key}"`, `${kind} "${key}"`);
    }
    if (!done && this.detached) {
      this.spoiled = true;
      throw new StopSignal("the flow is suspended; a step cannot start until it is woken");
    }
    if (!done && this.mode === "compensate") throw new StopSignal("replayed up to where the flow was cancelled");
    if (!done && this.stopReason) throw new StopSignal(this.stopReason);
    if (!done && this.record.deadlineAt !== undefined && this.io.now() >= this.record.deadlineAt) {
      throw new DeadlineExceededError(this.record.id, this.record.deadlineAt);
    }
    if (done) this.replayed++;
    return done ? { key, call, done } : { key, call };
  }

  /** Takes `fields` (a fresh object) as the journal entry of the step, numbering it. */
  newStep(fields: Omit<StepRecord, "seq">): StepRecord {
    const step = fields as StepRecord;
    step.seq = this.nextSeq++;
    this.byKey.set(step.key, step);
    if (step.call < ENGINE_CALL_BASE) this.byCall[step.call] = step;
    this.executed++;
    return step;
  }

  /** Stores `step` (and pending events) durably before the flow goes on. `valueBytes`: see InvocationIO.checkpoint. */
  persist(step: StepRecord, valueBytes?: number): Promise<unknown> {
    return this.io.checkpoint([step], this.events.length ? this.events.splice(0) : [], valueBytes);
  }

  /** True when someone may be listening to live events (those that are only emitted, never stored). */
  get live(): boolean {
    return this.io.hasListeners ? this.io.hasListeners() : this.io.emit !== undefined;
  }

  /** Records (and emits) `e`, a fresh object the context takes over. */
  event(e: Omit<HistoryEvent, "at"> & { at?: number }, store = true): void {
    e.at ??= this.io.now();
    const full = e as HistoryEvent;
    if (store) this.events.push(full);
    this.io.emit?.(full);
  }

  /** The suspension signal for `wait`; throws DEADLINE_EXCEEDED instead when the flow's deadline has passed. */
  private suspend(wait: Wait): InterruptError {
    const deadline = this.record.deadlineAt;
    if (deadline !== undefined && this.io.now() >= deadline) throw new DeadlineExceededError(this.record.id, deadline);
    return new InterruptError(wait);
  }

  /**
   * Parks the calling step until `wait` may be over: the returned promise stays pending, and a later
   * invocation of this execution settles it with `again()` (the step tried anew, which may park again).
   * Inside another step's function there is no parking: the suspension is thrown into that function,
   * whose step then parks in its stead.
   */
  park<T>(call: number, wait: Wait, again: () => Promise<T>): Promise<T> {
    const signal = this.suspend(wait);
    const scope = storage.getStore();
    if (scope !== undefined && !(scope instanceof InvocationContext)) {
      scope.suspended = true;
      // The enclosing step will run its function again, calling this step anew: only a replay keeps step keys straight.
      this.spoiled = true;
      throw signal;
    }
    this.waits.push(wait);
    return new Promise<T>((resolve) => this.activity.park({ call, again, resolve: resolve as (value: unknown) => void }));
  }

  /** Ends an invocation: until `resume`, no step may start. */
  detach(): void {
    this.detached = true;
  }

  /** True when this execution can be continued by a later invocation instead of being replayed. */
  get continuable(): boolean {
    return this.detached && !this.spoiled && this.activity.hasParked;
  }

  /**
   * Starts a new invocation of this execution with the claimed `record` and the new runner's `io`, and
   * tries every parked step again. The caller has checked that no other runner ran the flow meanwhile.
   */
  resume(record: FlowRecord, io: InvocationIO): void {
    this.record = record;
    this.io = io;
    this.progress = { ...record.progress };
    this.inbox = { ...(record.inbox ?? {}) };
    this.consumedInbox.clear();
    this.waits.length = 0;
    this.deferredSteps.length = 0;
    this.events.length = 0;
    this.stopReason = undefined;
    this.replayed = 0;
    this.executed = 0;
    this.detached = false;
    for (const p of this.activity.takeParked()) p.resolve(p.again());
  }

  /** Lets go of a detached execution: its parked steps never settle, and it is left to the garbage collector. */
  abandon(): void {
    this.detached = true;
    this.spoiled = true;
    this.activity.dropParked();
  }

  addCompensation(key: string, name: string, undo: () => Promise<unknown> | unknown): void {
    this.compensations.push({ key, name, undo });
  }

  /** The journal entry stored under `key`, if any (compensation steps look up their own). */
  journalEntry(key: string): StepRecord | undefined {
    return this.byKey.get(key);
  }

  journalHasKey(key: string): boolean {
    return this.byKey.has(key);
  }

  /** True when the journal holds steps the flow called at or after its next call (written by earlier code). */
  hasHistoryBeyondCall(): boolean {
    for (let call = this.calls; call < this.byCall.length; call++) if (this.byCall[call]) return true;
    return false;
  }

  /** A call index for a step the engine records itself (a compensation), far from the flow's own calls. */
  engineCall(): number {
    return ENGINE_CALL_BASE + this.nextSeq;
  }

  stop(reason: string): void {
    this.stopReason ??= reason;
  }
}

// One store for both: a second AsyncLocalStorage would make every promise the flow creates cost more.
const storage = new AsyncLocalStorage<InvocationContext | StepScope>();

/**
 * Calls a step's own function (or a fallback, a compensation, a poll check) with `arg`. A step called
 * inside it throws its suspension instead of parking and sets `scope.suspended`, so the caller can tell
 * a function that caught that suspension and returned anyway.
 */
export function inStepScope<A, T>(scope: StepScope, fn: (arg: A) => T, arg: A): T {
  return storage.run(scope, fn, arg);
}
export function runInContext<T>(ctx: InvocationContext, fn: () => Promise<T>): Promise<T> {
  return storage.run(ctx, fn);
}

export function currentContext(what: string): InvocationContext {
  const found = storage.getStore();
  if (!found) {
    throw new InvalidArgumentError(
      `${what}() was called outside a running flow. Steps work only inside a flow's function (onScheduledFlow/defineFlow), while the runtime runs it.`,
    );
  }
  return found instanceof InvocationContext ? found : found.ctx;
}

export function validateStepName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name.length === 0) {
    throw new InvalidStepNameError(`A step name must be a non-empty string; got ${JSON.stringify(name) ?? String(name)}. Give every step a short name.`);
  }
  if (name.length > MAX_STEP_NAME_LENGTH) {
    throw new InvalidStepNameError(`Step name "${name.slice(0, 40)}…" is ${name.length} characters long; the limit is ${MAX_STEP_NAME_LENGTH}. Use a shorter name.`);
  }
}
