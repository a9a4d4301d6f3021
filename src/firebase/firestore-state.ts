/**
 * What the Firestore store remembers about a flow document between calls: the rev and update time it last
 * saw and the layout, so the next commit can write with a `lastUpdateTime` precondition without reading.
 * Also the gRPC status codes the store tells apart.
 */
import type { Timestamp } from "firebase-admin/firestore";
import type { Meta, PageData } from "./firestore-layout.js";

export interface FlowState {
  rev: number;
  /** The flow document's update time when this state was seen: the precondition of the next write. */
  updateTime: Timestamp;
  meta: Meta;
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

  set(id: string, state: Cached): void {
    this.entries.delete(id);
    this.entries.set(id, { rev: state.rev, updateTime: state.updateTime, meta: state.meta });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Forgets the flow, or only the state seen at `updateTime` (a newer one, cached meanwhile, stays). */
  forget(id: string, updateTime?: Timestamp): void {
    const e = this.entries.get(id);
    if (e && (!updateTime || e.updateTime.isEqual(updateTime))) this.entries.delete(id);
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
