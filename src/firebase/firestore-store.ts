/**
 * The flow store on Cloud Firestore (firebase-admin). Layout: firestore-layout.ts; how a commit becomes
 * writes: firestore-commit-plan.ts.
 *
 * Fencing: every write to a flow document carries a `lastUpdateTime` precondition equal to the update time
 * this store last saw for it (from its own read or write, cached per flow), and the rev check is made
 * against what that read or write saw. So a commit whose expected rev is stale, or that raced another
 * writer, is rejected by Firestore and writes nothing; the store then reads once to tell a lost race
 * (ConflictError) from a cache that was merely out of date. A step commit is one document write and, with
 * a warm cache, no read.
 *
 * The store also keeps the journals it has read or written, tagged with the layout's journal version
 * (`jv`, replaced by every write that changes the journal): a load that finds the document's version
 * unchanged reads only the record and layout (one small read), never the journal again.
 */
import { randomBytes } from "node:crypto";
import { FieldPath, type DocumentReference, type DocumentSnapshot, type Firestore, type Query, type Timestamp } from "firebase-admin/firestore";
import { ConflictError, CorruptRecordError, InvalidArgumentError, NotConfiguredError, StoreUnavailableError } from "../errors.js";
import { deepFreeze, jsonCopy } from "../json-value.js";
import type { Commit, FlowStore, ListPage, ListQuery, LoadedFlow } from "../ports.js";
import { HistoryEventSchema, StepRecordSchema, parseStored, type FlowRecord, type HistoryEvent, type StepRecord } from "../schemas.js";
import { decodeCursor, encodeCursor, pageLimit } from "../stores/store-helpers.js";
import { planCommit, planCreate } from "./firestore-commit-plan.js";
import { listedRecord, readRecordFields, RECORD_FIELDS } from "./firestore-fields.js";
import {
  DEFAULT_COLLECTION, F, MAX_VALUE_BYTES, PAGES_COLLECTION, PageSchema, isValidDocId, numberedEntries, parseJsonField, valueSize, type Meta, type PageData,
} from "./firestore-layout.js";
import { CODE, errorCode, JournalCache, LayoutCache, type FlowState } from "./firestore-state.js";

export interface FirestoreStoreStats {
  /** Documents read (as Firestore bills them: a query that returns nothing counts one). */
  reads: number;
  /** Documents written or deleted. */
  writes: number;
  /** Bytes of field values read (counted when the object passed in has this field). */
  bytesRead?: number;
  /** Bytes of field values written, as Firestore sizes them (counted when the object has this field). */
  bytesWritten?: number;
}

export interface FirestoreStoreOptions {
  firestore: Firestore;
  /** Collection of the flow documents (default "firestep-flows"). */
  collection?: string;
  /** Incremented with every document read and write this store makes. */
  stats?: FirestoreStoreStats;
  /** Bytes of journals kept in memory to answer loads without reading them again (default 64 MiB; 0 turns it off). */
  journalCacheBytes?: number;
}

/** Attempts of one commit or delete whose precondition keeps failing before it is reported as a conflict. */
const MAX_ATTEMPTS = 8;
/** Page documents deleted together with the flow document in one batch (Firestore allows 500 writes). */
const DELETE_BATCH = 450;

export function createFirestoreStore(options: FirestoreStoreOptions): FlowStore {
  return new FirestoreFlowStore(options);
}

class FirestoreFlowStore implements FlowStore {
  readonly maxValueBytes = MAX_VALUE_BYTES;
  private readonly db: Firestore;
  private readonly collection: string;
  private readonly stats: FirestoreStoreStats;
  private readonly cache = new LayoutCache();
  private readonly journals: JournalCache;

  constructor(options: FirestoreStoreOptions) {
    this.db = options.firestore;
    this.collection = options.collection ?? DEFAULT_COLLECTION;
    this.stats = options.stats ?? { reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0 };
    this.journals = new JournalCache(options.journalCacheBytes ?? 64 * 1024 * 1024);
  }

  async create(record: FlowRecord, events: HistoryEvent[] = []): Promise<{ created: boolean; record: FlowRecord }> {
    const ref = this.ref(record.id);
    if (!ref) throw new InvalidArgumentError(`Flow id "${record.id.slice(0, 60)}" cannot name a Firestore document: use 1-1500 bytes without "/", not "." or "..", not "__…__".`);
    for (let attempt = 0; ; attempt++) {
      const { data, meta } = planCreate(ref.path, record, events, randomBytes(6).toString("base64url"));
      try {
        const result = await this.io(() => ref.create(data));
        this.stats.writes++;
        this.wrote(data);
        this.cache.set(record.id, { rev: record.rev, updateTime: result.writeTime, meta, record });
        this.journals.set(record.id, { g: meta.g, jv: meta.jv!, steps: [], bytes: 0 });
        return { created: true, record };
      } catch (e) {
        if (errorCode(e) !== CODE.ALREADY_EXISTS) throw e;
      }
      const existing = await this.readState(ref, "record");
      if (existing) return { created: false, record: existing.record };
      if (attempt >= MAX_ATTEMPTS) throw new ConflictError(record.id, "it was created and deleted repeatedly while creating it");
    }
  }

  async get(id: string): Promise<FlowRecord | undefined> {
    const ref = this.ref(id);
    return ref ? (await this.readState(ref, "record"))?.record : undefined;
  }

  async load(id: string): Promise<LoadedFlow | undefined> {
    const ref = this.ref(id);
    if (!ref) return undefined;
    const held = this.journals.get(id);
    if (held) {
      const state = await this.readState(ref, "record");
      if (!state) return undefined;
      if (state.meta.g === held.g && state.meta.jv === held.jv) return { record: state.record, steps: held.steps.slice() };
    }
    const state = await this.readState(ref, "full");
    if (!state) return undefined;
    const raw = [...state.open!];
    if (state.meta.pc > 0) {
      for (const page of await this.readPages(ref, state.meta, state.readTime)) raw.push(...numberedEntries(page.j, id, `journal page ${page.n}`));
    }
    let bytes = 0;
    this.journals.forget(id); // until the journal just read proves sound
    const steps = raw
      .sort((a, b) => a[0] - b[0])
      .map(([seq, json]) => {
        bytes += json.length;
        const step = parseJsonField<StepRecord>(StepRecordSchema, json, id, `journal step ${seq}`);
        if (step.seq !== seq) throw new CorruptRecordError(id, `journal step ${seq}`, `it says it is seq ${step.seq}`);
        return step;
      });
    // Journal entries never change once written: the held journal and every load share them, frozen.
    for (const step of steps) deepFreeze(step);
    if (state.meta.jv !== undefined) this.journals.set(id, { g: state.meta.g, jv: state.meta.jv, steps: steps.slice(), bytes });
    return { record: state.record, steps };
  }

  /**
   * The record and journal this process last wrote or read, with no read at all: a warm wake-up of a flow
   * this process ran last costs no document read. It may be stale; the claim, conditional on its rev and
   * on the document's update time, is what proves it current.
   */
  loadHeld(id: string): LoadedFlow | undefined {
    const seen = this.cache.record(id);
    const held = this.journals.get(id);
    if (!seen || !held || held.g !== seen.meta.g || held.jv !== seen.meta.jv) return undefined;
    return { record: seen.record, steps: held.steps.slice() };
  }

  async commit(id: string, commit: Commit): Promise<FlowRecord> {
    const ref = this.ref(id);
    if (!ref) throw new ConflictError(id, "the flow does not exist");
    let state: FlowState | undefined = this.cache.get(id);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      state ??= await this.readState(ref, "record");
      if (!state) throw new ConflictError(id, "the flow does not exist");
      if (state.rev !== commit.expectRev) {
        if (state.cached) {
          this.cache.forget(id, state.updateTime);
          state = undefined;
          continue;
        }
        throw new ConflictError(id, `expected rev ${commit.expectRev}, found ${state.rev}`);
      }
      if (commit.record.rev !== commit.expectRev + 1 || commit.record.id !== id) {
        throw new InvalidArgumentError(`Commit to flow "${id}" must carry rev ${commit.expectRev + 1} and the same id.`);
      }
      const plan = planCommit({
        flowId: id, flowPath: ref.path, meta: state.meta, commit, journalVersion: randomBytes(6).toString("base64url"),
        ...(state.record ? { previous: state.record } : {}), ...(state.legacy ? { legacy: true } : {}),
        ...(state.open ? { open: state.open } : {}), ...(state.pages ? { pages: state.pages } : {}),
      });
      if (plan.need === "open") {
        state = await this.readState(ref, "full");
        continue;
      }
      if (plan.need === "pages") {
        // Pages are read at the instant the flow document was, so they match its layout.
        if (state.readTime) state.pages = await this.readPages(ref, state.meta, state.readTime);
        else state = await this.readState(ref, state.open ? "full" : "record");
        continue;
      }
      const batch = this.db.batch();
      batch.update(ref, plan.flowUpdate, { lastUpdateTime: state.updateTime });
      for (const p of plan.pageSets) batch.set(ref.collection(PAGES_COLLECTION).doc(p.id), p.data);
      for (const p of plan.pageDeletes) batch.delete(ref.collection(PAGES_COLLECTION).doc(p));
      try {
        const results = await this.io(() => batch.commit());
        this.stats.writes += results.length;
        let written = valueSize(plan.flowUpdate);
        for (const p of plan.pageSets) written += valueSize(p.data);
        if (this.stats.bytesWritten !== undefined) this.stats.bytesWritten += written;
        this.cache.set(id, { rev: commit.record.rev, updateTime: results[0]!.writeTime, meta: plan.meta, record: commit.record });
        this.keepJournal(id, state.meta, plan.meta, commit, written);
        return commit.record;
      } catch (e) {
        this.cache.forget(id, state.updateTime);
        if (!isLostRace(e)) throw e;
        state = undefined;
      }
    }
    throw new ConflictError(id, "the record kept changing while writing");
  }

  async history(id: string): Promise<HistoryEvent[]> {
    const ref = this.ref(id);
    if (!ref) return [];
    const [snap] = await this.io(() => this.db.getAll(ref, { fieldMask: [F.history] }));
    this.stats.reads++;
    if (!snap?.exists) return [];
    this.read(snap.get(F.history));
    return numberedEntries(snap.get(F.history), id, "history").map(([n, json]) => parseJsonField<HistoryEvent>(HistoryEventSchema, json, id, `history event ${n}`));
  }

  async list(query: ListQuery): Promise<ListPage> {
    const limit = pageLimit(query);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidArgumentError(`List limit must be an integer from 1 to 1000; got ${limit}.`);
    const statuses = query.status === undefined ? undefined : Array.isArray(query.status) ? query.status : [query.status];
    if (statuses?.length === 0) return { flows: [] };
    let q: Query = this.db.collection(this.collection);
    if (query.flowName) q = q.where(F.flowName, "==", query.flowName);
    if (statuses) q = statuses.length === 1 ? q.where(F.status, "==", statuses[0]) : q.where(F.status, "in", statuses);
    q = q.orderBy(F.createdAt, "desc").orderBy(FieldPath.documentId(), "desc");
    if (query.cursor) {
      const c = decodeCursor(query.cursor);
      q = q.startAfter(c.createdAt, c.id);
    }
    const snap = await this.io(() => q.select(F.record, F.recordFields).limit(limit + 1).get(), "list");
    this.stats.reads += Math.max(1, snap.size);
    for (const d of snap.docs) {
      this.read(d.get(F.record));
      this.read(d.get(F.recordFields));
    }
    const flows = snap.docs.slice(0, limit).map((d) => listedRecord((f) => d.get(f), d.id));
    return { flows, ...(snap.size > limit ? { cursor: encodeCursor(flows[flows.length - 1]!) } : {}) };
  }

  async delete(id: string, expectRev: number): Promise<void> {
    const ref = this.ref(id);
    if (!ref) return;
    let state: FlowState | undefined = this.cache.get(id);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      state ??= await this.readState(ref, "record");
      if (!state) return;
      if (state.rev !== expectRev) {
        if (state.cached) {
          this.cache.forget(id, state.updateTime);
          state = undefined;
          continue;
        }
        throw new ConflictError(id, `expected rev ${expectRev}, found ${state.rev}`);
      }
      const pages = state.meta.pc > 0 ? await this.pageRefs(ref, state.meta) : [];
      const batch = this.db.batch();
      batch.delete(ref, { lastUpdateTime: state.updateTime });
      for (const p of pages.slice(0, DELETE_BATCH)) batch.delete(p);
      try {
        const results = await this.io(() => batch.commit());
        this.stats.writes += results.length;
      } catch (e) {
        this.cache.forget(id, state.updateTime);
        if (!isLostRace(e)) throw e;
        state = undefined;
        continue;
      }
      this.cache.forget(id);
      this.journals.forget(id);
      // Pages beyond one batch go after the flow document; a later incarnation ignores any left behind.
      for (let i = DELETE_BATCH; i < pages.length; i += DELETE_BATCH) {
        const rest = this.db.batch();
        for (const p of pages.slice(i, i + DELETE_BATCH)) rest.delete(p);
        this.stats.writes += (await this.io(() => rest.commit())).length;
      }
      return;
    }
    throw new ConflictError(id, "the record kept changing while deleting");
  }

  private ref(id: string): DocumentReference | undefined {
    return typeof id === "string" && isValidDocId(id) ? this.db.collection(this.collection).doc(id) : undefined;
  }

  /**
   * Reads the flow document: its record and layout, or (`full`) also its open page (never the history).
   * Caches what it saw.
   */
  private async readState(ref: DocumentReference, what: "record" | "full"): Promise<(FlowState & { record: FlowRecord; readTime: Timestamp }) | undefined> {
    const fieldMask: string[] = what === "full" ? [...RECORD_FIELDS, F.journal] : [...RECORD_FIELDS];
    const [snap]: Array<DocumentSnapshot | undefined> = await this.io(() => this.db.getAll(ref, { fieldMask }));
    this.stats.reads++;
    if (!snap?.exists) {
      this.cache.forget(ref.id);
      this.journals.forget(ref.id);
      return undefined;
    }
    for (const f of fieldMask) this.read(snap.get(f));
    let state: FlowState & { record: FlowRecord; readTime: Timestamp };
    try {
      const { record, meta, legacy } = readRecordFields((f) => snap.get(f), ref.id);
      state = { record, rev: record.rev, updateTime: snap.updateTime!, meta, readTime: snap.readTime, ...(legacy ? { legacy } : {}) };
      if (what === "full") state.open = new Map(numberedEntries(snap.get(F.journal), ref.id, "journal"));
    } catch (e) {
      // A document found corrupt is not answered from memory again until it has been read whole.
      this.cache.forget(ref.id);
      this.journals.forget(ref.id);
      throw e;
    }
    this.cache.set(ref.id, state);
    return state;
  }

  /** The sealed pages of this incarnation, read at the same instant as the flow document of `state`. */
  private async readPages(ref: DocumentReference, meta: Meta, readTime: Timestamp): Promise<PageData[]> {
    const q = ref.collection(PAGES_COLLECTION).where("g", "==", meta.g);
    const snap = await this.io(() => this.db.runTransaction((tx) => tx.get(q), { readOnly: true, readTime }));
    this.stats.reads += Math.max(1, snap.size);
    for (const d of snap.docs) this.read(d.data());
    const pages = snap.docs.map((d) => parseStored(PageSchema, d.data(), ref.id, `journal page ${d.id}`));
    if (pages.length !== meta.pc) throw new CorruptRecordError(ref.id, "journal pages", `expected ${meta.pc}, found ${pages.length}`);
    return pages.sort((a, b) => a.n - b.n);
  }

  private async pageRefs(ref: DocumentReference, meta: Meta): Promise<DocumentReference[]> {
    const snap = await this.io(() => ref.collection(PAGES_COLLECTION).where("g", "==", meta.g).select().get());
    this.stats.reads += Math.max(1, snap.size);
    return snap.docs.map((d) => d.ref);
  }

  /**
   * Brings the held journal up to date after this store's own commit, when it held the version the
   * commit was planned on; otherwise drops it.
   */
  private keepJournal(id: string, before: Meta, after: Meta, commit: Commit, writtenBytes: number): void {
    const held = this.journals.get(id);
    if (!held) return;
    if (held.g !== before.g || held.jv !== before.jv || after.jv === undefined) return this.journals.forget(id);
    if (after.jv === before.jv) return;
    if (commit.truncateFrom !== undefined) held.steps = held.steps.filter((s) => s.seq < commit.truncateFrom!);
    for (const step of commit.steps ?? []) held.steps.push(deepFreeze(jsonCopy(step))); // exactly what a reader of the stored JSON gets
    this.journals.set(id, { ...held, jv: after.jv, bytes: held.bytes + writtenBytes });
  }

  private read(value: unknown): void {
    if (this.stats.bytesRead !== undefined) this.stats.bytesRead += valueSize(value);
  }

  private wrote(value: unknown): void {
    if (this.stats.bytesWritten !== undefined) this.stats.bytesWritten += valueSize(value);
  }

  /** Runs a Firestore call, turning an outage into StoreUnavailableError and a missing index into NotConfiguredError. */
  private async io<T>(fn: () => Promise<T>, what?: "list"): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const code = errorCode(e);
      if (what === "list" && code === CODE.FAILED_PRECONDITION) {
        throw new NotConfiguredError(
          `Listing flows needs the composite indexes in firestore.indexes.json of the firestep package on collection "${this.collection}": ` +
            `deploy them (firebase deploy --only firestore:indexes). Firestore said: ${(e as Error).message}`,
        );
      }
      if (code === CODE.UNAVAILABLE || code === CODE.DEADLINE_EXCEEDED || code === CODE.RESOURCE_EXHAUSTED) {
        throw new StoreUnavailableError(`Firestore is unavailable (${(e as Error).message}); try again later.`, { cause: e });
      }
      throw e;
    }
  }
}

/** A write that failed because the flow document changed (or vanished) since it was read. */
function isLostRace(e: unknown): boolean {
  const code = errorCode(e);
  return code === CODE.FAILED_PRECONDITION || code === CODE.ABORTED || code === CODE.NOT_FOUND;
}
