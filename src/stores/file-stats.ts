/** The file store's own I/O counters, shared by its parts (the store, its write-ahead segments, recovery). */

/** I/O a file store has done, for benchmarks and capacity planning. */
export interface FileStoreStats {
  /** Bytes read from flow files and segments. */
  bytesRead: number;
  /** Bytes written to flow files and segments (not counting the zeros segments are filled with ahead). */
  bytesWritten: number;
  /** Durable writes: fdatasync and fsync calls, and writes to O_DSYNC segments. */
  syncs: number;
  /** Commits (and creates) made durable by a segment write they shared with others. */
  groupCommits: number;
}

export function emptyStats(): FileStoreStats {
  return { bytesRead: 0, bytesWritten: 0, syncs: 0, groupCommits: 0 };
}
