/**
 * The file store's cache of open flow files (FlowFiles): what an entry pushed out of the cache keeps, so that
 * a burst of calls on more flows than the cache holds neither reads a file again nor syncs it directly.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { fstatSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FlowFiles } from "../../src/stores/file-entries.js";
import { KeyedLock } from "../../src/stores/file-concurrency.js";
import { emptyStats } from "../../src/stores/file-stats.js";
import { createFileStore } from "../../src/stores/file-store.js";
import { sampleRecord } from "../../src/testing/store-contract.js";

describe("file store's cache of open flow files", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  /** A directory holding flows `a` and `b`, written by a store that is closed again. */
  async function twoFlows(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "firestep-file-entries-"));
    dirs.push(dir);
    const store = createFileStore({ dir });
    await store.create(sampleRecord({ id: "a" }));
    await store.create(sampleRecord({ id: "b" }));
    await store.close?.();
    return dir;
  }

  it("a call waiting for its flow's lock takes back the entry pushed out meanwhile, open, instead of reading the file again", async () => {
    const dir = await twoFlows();
    const stats = emptyStats();
    const locks = new KeyedLock();
    const files = new FlowFiles(dir, { maxOpen: 1, maxBytes: 1 << 20 }, stats, locks);
    const first = (await locks.run("a", () => files.find("a"))).entry!;
    const readOnce = stats.bytesRead;
    expect(readOnce).toBeGreaterThan(0);

    let release!: () => void;
    const holding = locks.run("a", () => new Promise<void>((r) => (release = r))); // a call under way on `a`
    const waiting = locks.run("a", () => files.find("a")); // the next call on `a`, waiting its turn
    await locks.run("b", () => files.find("b")); // pushes `a` out of the cache: its close waits for the lock too
    expect(files.get("a")).toBeUndefined();
    const readThroughB = stats.bytesRead;
    release();
    await holding;
    const again = (await waiting).entry!;

    expect(again).toBe(first);
    expect(again.closed).toBe(false);
    expect(stats.bytesRead).toBe(readThroughB);
    await locks.idle(); // the close queued by the push-out has run, and left the taken-back entry open
    expect(files.get("a")).toBe(first);
    expect(fstatSync(first.fd).size).toBe(first.log.offset);
    files.closeAll();
  });

  it("an entry closed with lines deferred to its next write gets them back when its file is opened again", async () => {
    const dir = await twoFlows();
    const files = new FlowFiles(dir, { maxOpen: 1, maxBytes: 1 << 20 }, emptyStats(), new KeyedLock());
    const a = (await files.find("a")).entry!;
    a.durable = a.log.offset; // as after its create was made durable
    const deferred = { at: a.log.offset, bytes: Buffer.from("a claim, not yet durable\n") };
    a.deferred = deferred;
    files.forget(a);
    expect(a.closed).toBe(true);

    const reopened = (await files.find("a")).entry!;
    expect(reopened).not.toBe(a);
    expect(reopened.durable).toBe(a.durable);
    expect(reopened.deferred).toEqual(deferred);
    files.closeAll();
  });
});
