/** The file store's small concurrency helpers. */

/** Runs tasks one at a time per key, in call order; different keys run concurrently. */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key);
    const result = prev ? prev.then(fn) : fn();
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /**
   * Takes the key at once when no task holds it or waits for it, without a task function (one promise
   * instead of three, on a path taken once per step): returns the release, or undefined when the key is busy.
   */
  tryHold(key: string): (() => void) | undefined {
    if (this.tails.has(key)) return undefined;
    let release!: () => void;
    const tail = new Promise<void>((resolve) => (release = resolve));
    this.tails.set(key, tail);
    return () => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
      release();
    };
  }

  /** Whether a task holds the key or waits for it. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  /** Resolves once no task runs or waits. */
  async idle(): Promise<void> {
    while (this.tails.size) await Promise.all(this.tails.values());
  }
}

/** Lets at most `limit` tasks run at once; the others wait their turn, in order. */
export class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.tryEnter()) await new Promise<void>((resolve) => this.waiting.push(resolve)); // the slot is handed over
    try {
      return await fn();
    } finally {
      this.leave();
    }
  }

  /** Takes a slot when one is free; the caller must `leave()` once done. */
  tryEnter(): boolean {
    if (this.running >= this.limit) return false;
    this.running++;
    return true;
  }

  /** Gives the slot to the next waiting task, or frees it. */
  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
