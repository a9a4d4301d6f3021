/**
 * What the Firestore store remembers about a flow document between calls: the rev and update time it last
 * saw and the layout, so the next commit can write with a `lastUpdateTime` precondition without reading.
 * Also the journals it holds, and the gRPC status codes the store tells apart.
 */
import type { Timestamp } from "firebase-admin/firestore";
import { cloneData, frozenCopy } from "../json-value.js";
import type { FlowRecord, StepRecord } from "../schemas.js";
import type { Meta, PageData } from "./firestore-layout.js";

export interface FlowState {
  rev: number;
  /** The flow document's update time when this state was seen: the precondition of the next write. */
  updateTime: Timestamp;
  meta: Meta;
  /** The document is in layout 1 (firestore-fields.ts). */
  legacy?: boolean;
  /** The record as of `updateTime`, when this process wrote or read it whole. */
  record?: FlowRecord;
  /** True when this came from the cache rather than a read just now. */
  cached?: boolean;
  /** When the document was read (absent for a state learned from a write). */
  readTime?: Timestamp;
  /** The open page's entries, when the document was read in full. */
  open?: Map<number, string>;
  /** The sealed pages, when read. */
  pages?: PageData[];
}

interface Cached {
  rev: number;
  updateTime: Timestamp;
  meta: Meta;
  legacy?: boolean;
  /** The record as of `updateTime` (frozen), when this process wrote or read it whole. */
  record?: FlowRecord;
}

/** Flow states by flow id, least recently used dropped first. */
export class LayoutCache {
  private readonly entries = new Map<string, Cached>();

  constructor(private readonly capacity = 5_000) {}

  get(id: string): FlowState | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    this.entries.set(id, e);
    return { ...e, cached: true };
  }

  /** The record as last seen, without touching the order (a copy the caller owns). */
  record(id: string): { record: FlowRecord; meta: Meta } | undefined {
    const e = this.entries.get(id);
    return e?.record ? { record: cloneData(e.record), meta: e.meta } : undefined;
  }

  set(id: string, state: Cached): void {
    this.entries.delete(id);
    const record = state.record ? frozenCopy(state.record) : undefined;
    this.entries.set(id, { rev: state.rev, updateTime: state.updateTime, meta: state.meta, ...(state.legacy ? { legacy: true } : {}), ...(record ? { record } : {}) });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Forgets the flow, or only the state seen at `updateTime` (a newer one, cached meanwhile, stays). */
  forget(id: string, updateTime?: Timestamp): void {
    const e = this.entries.get(id);
    if (e && (!updateTime || e.updateTime.isEqual(updateTime))) this.entries.delete(id);
  }
}

/** A flow's journal as this process last saw it, valid while the document's layout says `g` and `jv`. */
export interface CachedJournal {
  g: string;
  jv: string;
  /** Validated steps in seq order; never handed out (callers get copies). */
  steps: StepRecord[];
  /** Approximate JSON size, for the cache's bound. */
  bytes: number;
}

/**
 * Journals by flow id, least recently used dropped first, bounded in bytes. A warm process answers a
 * load with one small read of the flow document's record and layout instead of reading the journal.
 */
export class JournalCache {
  private readonly entries = new Map<string, CachedJournal>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  get(id: string): CachedJournal | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    this.entries.set(id, e);
    return e;
  }

  set(id: string, journal: CachedJournal): void {
    this.forget(id);
    if (journal.bytes > this.maxBytes / 4) return; // one huge flow must not evict everything else
    this.entries.set(id, journal);
    this.bytes += journal.bytes;
    for (const [old, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(old);
      this.bytes -= e.bytes;
    }
  }

  forget(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.bytes -= e.bytes;
  }
}

/** gRPC status codes (google.rpc.Code) the store reacts to. */
export const CODE = {
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNAVAILABLE: 14,
} as const;

export function errorCode(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}
