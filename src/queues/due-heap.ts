/**
 * A min-heap of entries ordered by due time, then by insertion: the local queue's waiting tasks. Ten
 * thousand sleeping flows are ten thousand small array entries under one timer, not ten thousand timers.
 */
/** What the heap orders by: `seq` is set by the heap and breaks ties between entries due at once. */
export interface DueEntry {
  at: number;
  seq: number;
}

export class DueHeap<T extends DueEntry> {
  private readonly items: T[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  /** The earliest due time, or undefined when empty. */
  peekAt(): number | undefined {
    return this.items[0]?.at;
  }

  /** Adds `entry` (a fresh object the heap takes over; its `seq` is overwritten). */
  push(entry: T): void {
    const items = this.items;
    entry.seq = this.seq++;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  /** Removes and returns the earliest entry due at or before `now`, if any. */
  popDue(now: number): T | undefined {
    const items = this.items;
    const top = items[0];
    if (!top || top.at > now) return undefined;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && before(items[l]!, items[m]!)) m = l;
        if (r < items.length && before(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}

function before(a: DueEntry, b: DueEntry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
