/**
 * The narrow storage interface every service is written against. All calls are synchronous;
 * `tx` makes everything inside it one atomic, durable commit (nested calls join the outer one).
 */
export interface Storage {
  tx<T>(fn: () => T): T;
  readonly kv: KvStore;
  readonly log: LogStore;
  readonly queue: QueueStore;
  readonly blob: BlobStore;
  /** Wipe all state (POST /_eddy/reset). */
  reset(): void;
  /** Services with in-memory caches or timers re-initialise here after a reset. */
  onReset(cb: () => void): void;
  close(): void;
  /** `PRAGMA integrity_check` result: 'ok' when healthy. */
  integrityCheck(): string;
  /** Where the database lives, or null when in memory. */
  readonly location: string | null;
}

export interface KvRange {
  gt?: Buffer;
  gte?: Buffer;
  lt?: Buffer;
  lte?: Buffer;
  reverse?: boolean;
  limit?: number;
}

/** Ordered key-value namespaces: keys are bytes compared with memcmp, values are strings (usually JSON). */
export interface KvStore {
  get(ns: string, key: Buffer): string | undefined;
  put(ns: string, key: Buffer, value: string): void;
  /** Returns true when a row was deleted. */
  delete(ns: string, key: Buffer): boolean;
  range(ns: string, range?: KvRange): IterableIterator<[Buffer, string]>;
  count(ns: string): number;
  /** Rows and total value bytes of a namespace. */
  stats(ns: string): { count: number; bytes: number };
  /** Delete a whole namespace. */
  drop(ns: string): void;
}

export interface LogRow {
  seq: bigint;
  /** Clock time of the append, ms. */
  at: number;
  data: string;
}

/**
 * Append-only records addressed by (stream, shard, seq). Sequence numbers are assigned by the caller
 * (the `log/` layer) and only grow within a shard.
 */
export interface LogStore {
  append(stream: string, shard: string, seq: bigint, at: number, data: string): void;
  /** Rows with seq >= fromSeq in order, at most `limit`. */
  read(stream: string, shard: string, fromSeq: bigint, limit: number): LogRow[];
  /** The last row of a shard, if any. */
  last(stream: string, shard: string): LogRow | undefined;
  /** The first row of a shard, if any. */
  first(stream: string, shard: string): LogRow | undefined;
  /** Delete rows appended before `beforeAt`; returns how many. */
  trim(stream: string, shard: string, beforeAt: number): number;
  dropStream(stream: string): void;
}

export interface QueueRow {
  id: string;
  seq: number;
  visibleAt: number;
  data: string;
}

/** Messages with a visibility time, received in (visibleAt, seq) order: SQS, outboxes, async invokes. */
export interface QueueStore {
  push(queue: string, id: string, visibleAt: number, data: string): number;
  /** Visible rows (visibleAt <= now) in order, at most `limit`. */
  visible(queue: string, now: number, limit: number): QueueRow[];
  get(queue: string, id: string): QueueRow | undefined;
  update(queue: string, id: string, visibleAt: number, data?: string): boolean;
  remove(queue: string, id: string): boolean;
  count(queue: string, now?: number): { total: number; visible: number };
  /** The earliest visibleAt strictly after `now`, to schedule a wake-up. */
  nextVisibleAfter(queue: string, now: number): number | undefined;
  purge(queue: string): number;
}

/** Large bodies (S3 objects, function code) kept beside the database. */
export interface BlobStore {
  /** A path for a new blob to be written to; call `commit` in the transaction that references it. */
  path(id: string): string;
  read(id: string): Buffer;
  exists(id: string): boolean;
  remove(id: string): void;
}
