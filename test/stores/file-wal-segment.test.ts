/**
 * One write-ahead segment, written directly (O_DIRECT, whole blocks) or through the page cache: both
 * hold every appended record in order, readable by recovery, whatever the records' sizes and however
 * appends fall across blocks, the aligned buffer's size and the zeros filled ahead.
 */
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { O_DIRECT } from "../../src/stores/file-direct-io.js";
import { flowFileName } from "../../src/stores/file-names.js";
import { emptyStats } from "../../src/stores/file-stats.js";
import { decodeRecords, encodeRecord } from "../../src/stores/file-wal-recovery.js";
import { SegmentFile } from "../../src/stores/file-wal-segment.js";

const work = fs.mkdtempSync(path.join(tmpdir(), "firestep-segment-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const EXT4_MAGIC = 0xef53;

/** Record sizes that cross 512- and 4,096-byte blocks, fill a 64 KiB buffer and pass the 1 MiB one. */
const SIZES = [1, 700, 511, 512, 513, 3000, 4096, 70_000, 5, 1_100_000, 90, 2, 64 * 1024, 333];

/** Appends one batch per size (a batch of three records every third time), alternating both ways to append. */
async function writeAll(seg: SegmentFile): Promise<Buffer[]> {
  const written: Buffer[] = [];
  for (const [i, n] of SIZES.entries()) {
    const batch = i % 3 === 2 ? [n, 17, n + 1] : [n];
    const parts: Buffer[] = [];
    for (const size of batch) {
      const bytes = Buffer.alloc(size, 97 + (written.length % 26));
      written.push(bytes);
      parts.push(...encodeRecord(flowFileName(`flow-${written.length}`, 0), written.length, bytes, false));
    }
    if (i % 2 === 1 && seg.appendNow(parts)) continue;
    await seg.append(parts);
  }
  return written;
}

async function roundTrip(direct: boolean): Promise<{ seg: SegmentFile; written: Buffer[]; read: Buffer[] }> {
  const file = path.join(work, `.wal.${direct ? "direct" : "buffered"}`);
  const stats = emptyStats();
  const seg = await SegmentFile.create(file, 16 * 1024 * 1024, stats, async () => undefined, direct);
  const written = await writeAll(seg);
  await seg.close();
  const bytes = fs.readFileSync(file);
  expect(stats.bytesWritten, "counts the records' bytes, not the blocks rewritten").toBe(seg.size);
  expect(bytes.subarray(seg.size).every((b) => b === 0), "zeros after the records").toBe(true);
  const read = decodeRecords(bytes);
  expect(read.map((r) => r.bytes.length)).toEqual(written.map((b) => b.length));
  return { seg, written, read: read.map((r) => r.bytes) };
}

describe("a write-ahead segment", () => {
  it("is written directly where the file system allows it, and recovery reads back every record in order", async () => {
    const { seg, written, read } = await roundTrip(true);
    // ext4 takes direct writes (this project's machines keep tmpdir() there); a file system that does not
    // (tmpfs before Linux 6.6) falls back to the page cache, which the next test pins.
    if (O_DIRECT !== 0 && fs.statfsSync(work).type === EXT4_MAGIC) expect(seg.direct, "direct writes on ext4").toBe(true);
    expect(read.every((r, i) => r.equals(written[i]!))).toBe(true);
  });

  it("is written through the page cache when direct writes are not asked for, with the same records", async () => {
    const { seg, written, read } = await roundTrip(false);
    expect(seg.direct).toBe(false);
    expect(read.every((r, i) => r.equals(written[i]!))).toBe(true);
  });
});
