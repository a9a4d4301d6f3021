/**
 * Flow ids to file names. The mapping is injective, all lower case (safe on case-insensitive disks), free
 * of separators and dots (no traversal, no reserved names), and short enough for any file system.
 */
import { createHash } from "node:crypto";

/** Longest escaped stem kept readable; longer ids are hashed (NAME_MAX is 255 bytes). */
const MAX_STEM = 200;

function isPlain(byte: number): boolean {
  return (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2d || byte === 0x5f; // a-z 0-9 - _
}

/** An id made of plain characters only, which is its own stem. */
const PLAIN_ID = /^[a-z0-9_-]*$/;

/**
 * The stem for a flow id: plain bytes kept, every other byte (upper case, ".", ":", "/", "%", ...) as
 * `%xx`. Ids too long for that become `~` and their sha256 (`~` never appears in an escaped stem).
 */
export function flowStem(id: string): string {
  if (id.length <= MAX_STEM && PLAIN_ID.test(id)) return id; // the usual case (generated ids): nothing to escape
  let out = "";
  for (const byte of Buffer.from(id, "utf8")) {
    out += isPlain(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, "0")}`;
    if (out.length > MAX_STEM) return `~${createHash("sha256").update(id, "utf8").digest("hex")}`;
  }
  return out;
}

/**
 * A flow's log file for one incarnation. `generation` goes up each time the id is created again after a
 * delete, so a new incarnation never shares a file with a deleted one.
 */
export function flowFileName(id: string, generation: number): string {
  return `${flowStem(id)}@${generation}.log`;
}

/** The flow id a log file's name stands for, for messages; undefined for a hashed (very long) id or another name. */
export function flowIdOfFileName(name: string): string | undefined {
  const stem = /^([a-z0-9_%-]*)@\d+\.log$/.exec(name)?.[1];
  if (stem === undefined) return undefined;
  // A stem is the id's UTF-8 bytes, the non-plain ones as %xx: percent-encoding, which decodeURIComponent undoes.
  try {
    return decodeURIComponent(stem);
  } catch {
    return undefined;
  }
}

export const FLOW_FILE_PATTERN = /^[a-z0-9_%~-]*@\d+\.log$/;

export const TEMP_PREFIX = ".tmp-";
