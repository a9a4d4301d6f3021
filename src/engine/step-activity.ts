/**
 * Which of an execution's steps are running and which are parked, and so when an invocation may end:
 * once no step runs and at least one is parked (quiet: the flow waits), or once none runs at all.
 */

/** A step waiting for its suspension to be over, and how to try it again. */
export interface Parked {
  /** The step's call index: parked steps are tried again in call order, as a replay would reach them. */
  call: number;
  again: () => Promise<unknown>;
  resolve: (value: unknown) => void;
}

const IGNORE = () => undefined;

export class StepActivity {
  /** Steps running now (parked ones are not). */
  private active = 0;
  private readonly idle: Array<() => void> = [];
  private parked: Parked[] = [];
  /** Resolves the invocation's wait for quiet: set while it waits. */
  private quiet: (() => void) | undefined;
  private quietCheck = false;

  /** Counts an evaluation of a step as running; it must call `end()` when it returns, throws or parks. */
  begin(): void {
    this.active++;
  }

  readonly end = (): void => {
    if (--this.active > 0) return;
    for (const wake of this.idle.splice(0)) wake();
    this.checkQuiet();
  };

  /**
   * Counts a step that never parks as running until `p` settles, so the invocation waits for parallel
   * branches before it ends; a rejection nobody awaits is handled here.
   */
  track<T>(p: Promise<T>): Promise<T> {
    this.active++;
    p.then(this.end, this.end);
    return p;
  }

  /** Marks the promise of a step that may park (and counts itself) as handled when nobody awaits its rejection. */
  handled<T>(p: Promise<T>): Promise<T> {
    p.then(undefined, IGNORE);
    return p;
  }

  park(step: Parked): void {
    this.parked.push(step);
    this.checkQuiet();
  }

  get hasParked(): boolean {
    return this.parked.length > 0;
  }

  /** Hands over the parked steps, in call order, to be tried again. */
  takeParked(): Parked[] {
    const parked = this.parked.sort((a, b) => a.call - b.call);
    this.parked = [];
    return parked;
  }

  /** Forgets the parked steps: their promises never settle. */
  dropParked(): void {
    this.parked = [];
    this.quiet = undefined;
  }

  /** Resolves once no step runs and at least one is parked, with a turn of the event loop to be sure. */
  untilQuiet(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.quiet = resolve;
      this.checkQuiet();
    });
  }

  stopWaitingForQuiet(): void {
    this.quiet = undefined;
  }

  /** Resolves once no step runs. */
  async settle(): Promise<void> {
    while (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private checkQuiet(): void {
    if (!this.quiet || this.active > 0 || this.parked.length === 0 || this.quietCheck) return;
    this.quietCheck = true;
    setImmediate(() => {
      this.quietCheck = false;
      const quiet = this.quiet;
      if (quiet && this.active === 0 && this.parked.length > 0) {
        this.quiet = undefined;
        quiet();
      }
    });
  }
}
