import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { BlobStore, KvRange, KvStore, LogRow, LogStore, QueueRow, QueueStore, Storage } from '../types.ts';
import { Checkpointer } from './checkpointer.ts';
import { migrate, TABLES } from './schema.ts';

export interface SqliteOptions {
  /** Data dir; omitted = in memory (ephemeral). */
  dataDir?: string;
}

/** better-sqlite3 in WAL mode: synchronous, serial writes; one file per data dir. */
export function openSqliteStorage(opts: SqliteOptions = {}): Storage {
  const location = opts.dataDir ? join(opts.dataDir, 'eddy.db') : null;
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const db = new Database(location ?? ':memory:');
  if (location) {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives the process being killed (kill -9), not a power cut.
    db.pragma('synchronous = NORMAL');
    // Checkpoints run on a worker thread (see Checkpointer), never inside a request's commit.
    db.pragma('wal_autocheckpoint = 0');
  }
  db.pragma('foreign_keys = OFF');
  db.pragma('cache_size = -65536');
  migrate(db, opts.dataDir ?? ':memory:');

  // Bodies are files in both modes; an ephemeral store keeps them in a temp dir of its own, removed on close.
  const blobDir = opts.dataDir
    ? join(opts.dataDir, 'blobs')
    : join(tmpdir(), `eddy-mem-${process.pid}-${++ephemeralStores}`);

  const checkpointer = location ? new Checkpointer(location) : undefined;
  /** Called after every write; counts commits (a write outside a transaction commits by itself). */
  const wrote = checkpointer ? () => void (db.inTransaction || checkpointer.committed()) : () => {};
  const kv = createKv(db, wrote);
  const log = createLog(db, wrote);
  const queue = createQueue(db, wrote);
  const blob: BlobStore = {
    path(id) {
      mkdirSync(blobDir, { recursive: true });
      return join(blobDir, safeName(id));
    },
    read: (id) => readFileSync(join(blobDir, safeName(id))),
    exists: (id) => existsSync(join(blobDir, safeName(id))),
    remove: (id) => rmSync(join(blobDir, safeName(id)), { force: true }),
  };

  // One transaction wrapper for every call (building one per call costs more than the commit).
  const runTx = db.transaction((fn: () => unknown) => fn());
  let closed = false;
  const resetListeners: (() => void)[] = [];
  return {
    tx<T>(fn: () => T): T {
      if (db.inTransaction) return fn();
      // IMMEDIATE: take the write lock at BEGIN, so a checkpoint holding it makes us wait (busy
      // timeout) instead of failing a read-then-write transaction with SQLITE_BUSY.
      const r = runTx.immediate(fn) as T;
      wrote();
      return r;
    },
    kv,
    log,
    queue,
    blob,
    location,
    reset() {
      db.transaction(() => {
        for (const t of TABLES) db.exec(`DELETE FROM ${t}`);
      })();
      rmSync(blobDir, { recursive: true, force: true });
      for (const cb of resetListeners) cb();
    },
    onReset: (cb) => void resetListeners.push(cb),
    integrityCheck: () => String(db.pragma('integrity_check', { simple: true })),
    close() {
      if (closed) return;
      closed = true;
      void checkpointer?.stop();
      if (location) db.pragma('wal_checkpoint(TRUNCATE)');
      else rmSync(blobDir, { recursive: true, force: true });
      db.close();
    },
  };
}

let ephemeralStores = 0;

/** Blob ids are service-made; keep them to one flat, safe file name regardless. */
function safeName(id: string): string {
  return Buffer.from(id).toString('base64url');
}

const RANGE_PAGE = 256;

function createKv(db: Database.Database, wrote: () => void): KvStore {
  const get = db.prepare<[string, Buffer], { v: string }>('SELECT v FROM kv WHERE ns = ? AND k = ?');
  const put = db.prepare('INSERT INTO kv (ns, k, v) VALUES (?, ?, ?) ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v');
  const del = db.prepare('DELETE FROM kv WHERE ns = ? AND k = ?');
  const count = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM kv WHERE ns = ?');
  const stats = db.prepare<[string], { count: number; bytes: number | null }>(
    'SELECT count(*) AS count, sum(length(v)) AS bytes FROM kv WHERE ns = ?',
  );
  const drop = db.prepare('DELETE FROM kv WHERE ns = ?');
  const rangeCache = new Map<string, Database.Statement>();

  function rangeStatement(r: KvRange): Database.Statement {
    const lo = r.gt ? 'gt' : r.gte ? 'gte' : '';
    const hi = r.lt ? 'lt' : r.lte ? 'lte' : '';
    const key = `${lo}|${hi}|${r.reverse ? 1 : 0}|${r.limit !== undefined ? 1 : 0}`;
    let st = rangeCache.get(key);
    if (!st) {
      const where = ['ns = @ns'];
      if (lo) where.push(`k ${lo === 'gt' ? '>' : '>='} @lo`);
      if (hi) where.push(`k ${hi === 'lt' ? '<' : '<='} @hi`);
      const sql = `SELECT k, v FROM kv WHERE ${where.join(' AND ')} ORDER BY k ${r.reverse ? 'DESC' : 'ASC'}${r.limit !== undefined ? ' LIMIT @limit' : ''}`;
      st = db.prepare(sql).raw(true);
      rangeCache.set(key, st);
    }
    return st;
  }

  return {
    get: (ns, k) => get.get(ns, k)?.v,
    put(ns, k, v) {
      put.run(ns, k, v);
      wrote();
    },
    delete(ns, k) {
      const n = del.run(ns, k).changes;
      wrote();
      return n > 0;
    },
    *range(ns, r = {}) {
      // Read in pages so no statement stays open between yields: callers may write while iterating.
      let cur: KvRange = { ...r };
      let left = r.limit ?? Number.POSITIVE_INFINITY;
      for (;;) {
        const page = Math.min(left, RANGE_PAGE);
        const params: Record<string, unknown> = { ns, limit: page };
        if (cur.gt || cur.gte) params.lo = cur.gt ?? cur.gte;
        if (cur.lt || cur.lte) params.hi = cur.lt ?? cur.lte;
        const rows = rangeStatement({ ...cur, limit: page }).all(params) as [Buffer, string][];
        yield* rows;
        left -= rows.length;
        if (rows.length < page || left <= 0) return;
        const last = rows[rows.length - 1][0];
        cur = r.reverse ? { ...cur, lt: last, lte: undefined } : { ...cur, gt: last, gte: undefined };
      }
    },
    count: (ns) => count.get(ns)!.n,
    stats(ns) {
      const r = stats.get(ns)!;
      return { count: r.count, bytes: r.bytes ?? 0 };
    },
    drop(ns) {
      drop.run(ns);
      wrote();
    },
  };
}

function createLog(db: Database.Database, wrote: () => void): LogStore {
  db.defaultSafeIntegers(false);
  const append = db.prepare('INSERT INTO log (stream, shard, seq, at, data) VALUES (?, ?, ?, ?, ?)');
  const read = db
    .prepare('SELECT seq, at, data FROM log WHERE stream = ? AND shard = ? AND seq >= ? ORDER BY seq LIMIT ?')
    .safeIntegers(true);
  const last = db
    .prepare('SELECT seq, at, data FROM log WHERE stream = ? AND shard = ? ORDER BY seq DESC LIMIT 1')
    .safeIntegers(true);
  const first = db
    .prepare('SELECT seq, at, data FROM log WHERE stream = ? AND shard = ? ORDER BY seq ASC LIMIT 1')
    .safeIntegers(true);
  const trim = db.prepare('DELETE FROM log WHERE stream = ? AND shard = ? AND at < ?');
  const dropStream = db.prepare('DELETE FROM log WHERE stream = ?');
  const toRow = (r: { seq: bigint; at: bigint; data: string } | undefined): LogRow | undefined =>
    r && { seq: r.seq, at: Number(r.at), data: r.data };
  return {
    append(s, sh, seq, at, data) {
      append.run(s, sh, seq, at, data);
      wrote();
    },
    read: (s, sh, from, limit) =>
      (read.all(s, sh, from, limit) as { seq: bigint; at: bigint; data: string }[]).map((r) => toRow(r)!),
    last: (s, sh) => toRow(last.get(s, sh) as any),
    first: (s, sh) => toRow(first.get(s, sh) as any),
    trim(s, sh, before) {
      const n = trim.run(s, sh, before).changes;
      wrote();
      return n;
    },
    dropStream(s) {
      dropStream.run(s);
      wrote();
    },
  };
}

function createQueue(db: Database.Database, wrote: () => void): QueueStore {
  const nextSeq = db.prepare<[string], { s: number | null }>('SELECT max(seq) AS s FROM queue WHERE queue = ?');
  const lastSeq = new Map<string, number>();
  const push = db.prepare('INSERT INTO queue (queue, id, seq, visible_at, data) VALUES (?, ?, ?, ?, ?)');
  const visible = db.prepare(
    'SELECT id, seq, visible_at AS visibleAt, data FROM queue WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?',
  );
  const get = db.prepare('SELECT id, seq, visible_at AS visibleAt, data FROM queue WHERE queue = ? AND id = ?');
  const updVis = db.prepare('UPDATE queue SET visible_at = ? WHERE queue = ? AND id = ?');
  const updBoth = db.prepare('UPDATE queue SET visible_at = ?, data = ? WHERE queue = ? AND id = ?');
  const remove = db.prepare('DELETE FROM queue WHERE queue = ? AND id = ?');
  const count = db.prepare<[number, string], { total: number; visible: number }>(
    'SELECT count(*) AS total, coalesce(sum(visible_at <= ?), 0) AS visible FROM queue WHERE queue = ?',
  );
  const nextAfter = db.prepare<[string, number], { t: number | null }>(
    'SELECT min(visible_at) AS t FROM queue WHERE queue = ? AND visible_at > ?',
  );
  const purge = db.prepare('DELETE FROM queue WHERE queue = ?');
  return {
    push(q, id, at, data) {
      // The last seq per queue is kept in memory (read once), so a push never scans the queue.
      let last = lastSeq.get(q);
      if (last === undefined) last = nextSeq.get(q)!.s ?? 0;
      const seq = last + 1;
      lastSeq.set(q, seq);
      push.run(q, id, seq, at, data);
      wrote();
      return seq;
    },
    visible: (q, now, limit) => visible.all(q, now, limit) as QueueRow[],
    get: (q, id) => get.get(q, id) as QueueRow | undefined,
    update(q, id, at, data) {
      const n = (data === undefined ? updVis.run(at, q, id) : updBoth.run(at, data, q, id)).changes;
      wrote();
      return n > 0;
    },
    remove(q, id) {
      const n = remove.run(q, id).changes;
      wrote();
      return n > 0;
    },
    count: (q, now = Number.MAX_SAFE_INTEGER) => count.get(now, q)!,
    nextVisibleAfter: (q, now) => nextAfter.get(q, now)!.t ?? undefined,
    purge(q) {
      const n = purge.run(q).changes;
      wrote();
      return n;
    },
  };
}
