/**
 * Direct I/O (O_DIRECT) for the write-ahead segment: a durable write that skips the page cache.
 *
 * A segment is only ever written, and read back only by recovery, so the page cache buys it nothing. Going
 * around it saves copying into the cache and the write-back machinery of an O_DSYNC write. On this
 * project's VM (ext4, virtio disk) the write itself took about as long either way, with a little less CPU
 * direct; a durable step on the file store was faster in 7 of 9 interleaved pairs (docs/performance-history.md).
 *
 * O_DIRECT wants the buffer's address, the file offset and the length all multiples of the device's
 * logical block. Node has no aligned allocation, but a WebAssembly memory starts on a page boundary, so
 * the buffers here are views of one. The block size is found by writing zeros at the start of a new,
 * empty segment: 512 bytes, then 4,096; where neither is accepted (a file system without O_DIRECT, as
 * tmpfs on older kernels), the segment is written through the page cache.
 */
import * as fs from "node:fs";

/** 0 where the platform has no O_DIRECT. */
export const O_DIRECT = fs.constants.O_DIRECT ?? 0;

/** The one WebAssembly constructor used here; the project's TypeScript libraries do not declare the namespace. */
declare const WebAssembly: { Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer } };

const WASM_PAGE = 64 * 1024;
const BLOCK_SIZES = [512, 4096];

/** A zeroed buffer of at least `bytes`, rounded up to 64 KiB, whose first byte is page-aligned. */
export function alignedBuffer(bytes: number): Buffer {
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE)) });
  return Buffer.from(memory.buffer);
}

let zeros: Buffer | undefined;

/** 64 KiB of aligned zeros, shared: never written to. */
export function alignedZeros(): Buffer {
  return (zeros ??= alignedBuffer(WASM_PAGE));
}

/**
 * Opens `file`, a new and empty file, for durable direct writes (O_DSYNC | O_DIRECT), and finds the logical
 * block size they must be aligned to by writing zeros at its start. Undefined where the platform or the
 * file system does not take them.
 */
export function openDirect(file: string): { fd: number; block: number } | undefined {
  if (!O_DIRECT) return undefined;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_DSYNC | O_DIRECT);
  } catch {
    return undefined;
  }
  for (const block of BLOCK_SIZES) {
    try {
      fs.writeSync(fd, alignedZeros(), 0, block, 0);
      return { fd, block };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EINVAL") break;
    }
  }
  fs.closeSync(fd);
  return undefined;
}

export function alignDown(n: number, block: number): number {
  return n - (n % block);
}

export function alignUp(n: number, block: number): number {
  return alignDown(n + block - 1, block);
}
