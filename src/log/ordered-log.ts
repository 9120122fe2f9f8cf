/**
 * The ordered log of the design guide, built once for every ordered stream: DynamoDB Streams now,
 * Kinesis shards and CloudWatch Logs streams later.
 *
 * A log is made of shards; a shard has parents (none, one, or two for a Kinesis merge) and, once
 * closed, an ending sequence number. Positions are bigints that only grow within a log's lineage
 * (a child starts after its parents end). Rows live in `storage.log` (stream, shard, seq); the log's
 * metadata lives in one kv row, so an append costs one kv read, one index seek and one insert, all
 * inside the caller's transaction.
 *
 * Time comes from the injected clock: retention trimming, shard rollover and the deletion of a
 * closed log are scheduled with `clock.at`, and every read path also applies them lazily, so a
 * virtual clock that jumps sees exact behaviour.
 *
 * Consumers wait with `subscribe` (woken after the writing transaction returns) instead of polling.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, Timer } from '../core/clock.ts';
import type { LogRow, Storage } from '../storage/types.ts';

export interface ShardMeta {
  shardId: string;
  /** [] for a root shard, [parent] after a rollover or split, [parent, adjacent] after a merge. */
  parents: string[];
  createdAt: number;
  /** First position of the shard (reserved when the shard is created). */
  startSeq: string;
  /** Set when the shard is closed: its last position (= startSeq when it closed empty). */
  endSeq?: string;
  closedAt?: number;
  /** Every position <= floor is used or trimmed: the next append gets > floor. */
  floor: string;
  /** Positions <= trimmedThrough were removed by retention. */
  trimmedThrough?: string;
  /** Free-form per-shard facts (Kinesis hash key ranges later). */
  attrs?: Record<string, unknown>;
}

export interface LogMeta<A = Record<string, unknown>> {
  id: string;
  createdAt: number;
  status: 'open' | 'closed';
  closedAt?: number;
  retentionMs: number;
  /** Close the open shard and start a child after this long (null: never). */
  rolloverMs: number | null;
  shards: ShardMeta[];
  /** What the owning service keeps about the log (view type, table name ...). */
  attrs: A;
}

export interface AppendResult {
  shardId: string;
  seq: bigint;
  at: number;
}

export type LogEventKind = 'appended' | 'closed';
export interface LogEvent {
  logId: string;
  shardId: string;
  kind: LogEventKind;
}
export type LogListener = (e: LogEvent) => void;

export interface OrderedLogsOptions {
  storage: Storage;
  clock: Clock;
  /** Names this family of logs (kv namespace and storage stream prefix), e.g. 'ddbstreams'. */
  name: string;
  /** Shard ids are `shardId-<20-digit ms>-<8 hex>` (DynamoDB) unless a service supplies its own. */
  shardIdFor?: (createdAt: number, index: number) => string;
  /** Minimum spacing of retention sweeps (reads still trim exactly). Default 60 s. */
  sweepGranularityMs?: number;
  onError?: (e: unknown) => void;
}

export interface CreateLogOptions<A> {
  retentionMs: number;
  rolloverMs?: number | null;
  /** Open shards to start with (Kinesis ShardCount); default 1. */
  shardCount?: number;
  attrs: A;
}

const MAX_SEQ = 2n ** 62n;

/** A family of ordered logs (one per service). */
export class OrderedLogs<A = Record<string, unknown>> {
  readonly name: string;
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly ns: string;
  private readonly prefix: string;
  private readonly shardIdFor: (createdAt: number, index: number) => string;
  private readonly granularity: number;
  private readonly onError: (e: unknown) => void;
  private readonly cache = new Map<string, { raw: string; meta: LogMeta<A> }>();
  private readonly timers = new Map<string, { at: number; timer: Timer }>();
  private readonly listeners = new Map<string, Set<{ shardId?: string; cb: LogListener }>>();
  private pending: LogEvent[] = [];
  private flushQueued = false;
  private stopped = false;

  constructor(opts: OrderedLogsOptions) {
    this.name = opts.name;
    this.storage = opts.storage;
    this.clock = opts.clock;
    this.ns = `log:${opts.name}`;
    this.prefix = `${opts.name}:`;
    this.shardIdFor = opts.shardIdFor ?? defaultShardId;
    this.granularity = opts.sweepGranularityMs ?? 60_000;
    this.onError = opts.onError ?? (() => {});
  }

  /** Arm the maintenance timers of every stored log (call once at startup). */
  start(): void {
    this.storage.onReset(() => this.reset());
    for (const [, raw] of this.storage.kv.range(this.ns)) {
      const meta = JSON.parse(raw) as LogMeta<A>;
      this.schedule(meta, this.clock.now());
    }
  }

  /** Forget caches and timers after the storage was wiped (POST /_eddy/reset). */
  reset(): void {
    for (const t of this.timers.values()) t.timer.cancel();
    this.timers.clear();
    this.cache.clear();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) t.timer.cancel();
    this.timers.clear();
    this.listeners.clear();
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Create a log with its first shard(s). Runs inside the caller's transaction when there is one. */
  create(logId: string, now: number, opts: CreateLogOptions<A>): LogMeta<A> {
    if (this.storage.kv.get(this.ns, key(logId)) !== undefined) throw new Error(`log ${logId} exists`);
    const shards: ShardMeta[] = [];
    const n = opts.shardCount ?? 1;
    for (let i = 0; i < n; i++) shards.push(newShard(this.shardIdFor(now, i), [], now, 0n));
    const meta: LogMeta<A> = {
      id: logId,
      createdAt: now,
      status: 'open',
      retentionMs: opts.retentionMs,
      rolloverMs: opts.rolloverMs ?? null,
      shards,
      attrs: opts.attrs,
    };
    this.save(meta);
    this.schedule(meta, now);
    return meta;
  }

  /** Close every open shard; the log stays readable until its retention has passed, then it is deleted. */
  close(logId: string, now: number): LogMeta<A> | undefined {
    const meta = this.loadMutable(logId);
    if (!meta || meta.status === 'closed') return meta;
    this.roll(meta, now);
    for (const s of meta.shards) if (!s.endSeq) this.closeShard(meta, s, now);
    meta.status = 'closed';
    meta.closedAt = now;
    this.save(meta);
    this.schedule(meta, now);
    return meta;
  }

  /**
   * Close `parents` (open shards) and start `count` children of all of them: a split (one parent, two
   * children) or a merge (two parents, one child) as Kinesis does it. Children start after every
   * parent's last position. Returns the children, in the caller's transaction.
   */
  reshard(logId: string, now: number, parents: string[], children: { attrs?: Record<string, unknown> }[]): ShardMeta[] {
    const meta = this.loadMutable(logId);
    if (meta?.status !== 'open') throw new Error(`log ${logId} is not open`);
    this.roll(meta, now);
    let start = 0n;
    for (const id of parents) {
      const s = meta.shards.find((x) => x.shardId === id && !x.endSeq);
      if (!s) throw new Error(`shard ${id} of ${logId} is not open`);
      this.closeShard(meta, s, now);
      start = maxBig(start, BigInt(s.endSeq!) + 1n);
    }
    const made = children.map((c, i) => {
      const child = newShard(this.shardIdFor(now, meta.shards.length + i), [...parents], now, start);
      if (c.attrs) child.attrs = c.attrs;
      return child;
    });
    meta.shards.push(...made);
    this.save(meta);
    this.schedule(meta, now);
    return made;
  }

  /** Remove a log and all its rows now. */
  delete(logId: string): void {
    this.storage.log.dropStream(this.prefix + logId);
    this.storage.kv.delete(this.ns, key(logId));
    this.cache.delete(logId);
    const t = this.timers.get(logId);
    t?.timer.cancel();
    this.timers.delete(logId);
  }

  /** Update the owner's attrs (e.g. a table's status) in the caller's transaction. */
  setAttrs(logId: string, attrs: A): void {
    const meta = this.loadMutable(logId);
    if (!meta) return;
    meta.attrs = attrs;
    this.save(meta);
  }

  // ---- reads -----------------------------------------------------------------------------------

  /** The log as stored (do not mutate). `now` applies due rollovers/trims/expiry first. */
  get(logId: string, now?: number): LogMeta<A> | undefined {
    if (now !== undefined) this.refresh(logId, now);
    return this.load(logId);
  }

  /** Logs whose ids start with `prefix`, in id order, after `after` (exclusive), at most `limit`. */
  list(prefix: string, opts: { after?: string; limit?: number; now?: number } = {}): LogMeta<A>[] {
    const lo = opts.after !== undefined && opts.after >= prefix ? { gt: key(opts.after) } : { gte: key(prefix) };
    const hi = prefixEnd(prefix);
    const out: LogMeta<A>[] = [];
    const ids: string[] = [];
    for (const [k] of this.storage.kv.range(this.ns, { ...lo, ...(hi ? { lt: hi } : {}) }))
      ids.push(k.toString('utf8'));
    for (const id of ids) {
      const m = this.get(id, opts.now);
      if (!m) continue;
      out.push(m);
      if (opts.limit !== undefined && out.length >= opts.limit) break;
    }
    return out;
  }

  /** Rows of a shard with seq >= fromSeq, in order (after applying retention as of `now`). */
  read(logId: string, shardId: string, fromSeq: bigint, limit: number, now?: number): LogRow[] {
    if (now !== undefined) this.enforceRetention(logId, shardId, now);
    return this.storage.log.read(this.prefix + logId, shardId, fromSeq, limit);
  }

  /** The first position that a TRIM_HORIZON reader gets for a shard. */
  trimHorizon(logId: string, shardId: string, now: number): bigint | undefined {
    const s = this.enforceRetention(logId, shardId, now);
    if (!s) return undefined;
    const first = this.storage.log.first(this.prefix + logId, shardId);
    if (first) return first.seq;
    return nextSeq(s, undefined);
  }

  /** The position just after the newest row (LATEST). For a closed shard: endSeq + 1. */
  latest(logId: string, shardId: string): bigint | undefined {
    const meta = this.load(logId);
    const s = meta?.shards.find((x) => x.shardId === shardId);
    if (!s) return undefined;
    if (s.endSeq) return BigInt(s.endSeq) + 1n;
    return nextSeq(s, this.storage.log.last(this.prefix + logId, shardId));
  }

  /** The newest row of a shard. */
  last(logId: string, shardId: string): LogRow | undefined {
    return this.storage.log.last(this.prefix + logId, shardId);
  }

  /** One row by exact position. */
  row(logId: string, shardId: string, seq: bigint): LogRow | undefined {
    const r = this.storage.log.read(this.prefix + logId, shardId, seq, 1)[0];
    return r && r.seq === seq ? r : undefined;
  }

  // ---- writes ----------------------------------------------------------------------------------

  /**
   * Append one row to the log's open shard (or `shardId`), in the caller's transaction. Rolls the
   * shard over first when its period has passed. `data` may be built from the log's metadata (one
   * metadata read per append). Returns undefined when the log is missing or closed.
   */
  append(
    logId: string,
    data: string | ((meta: LogMeta<A>) => string),
    now: number,
    shardId?: string,
  ): AppendResult | undefined {
    let meta = this.load(logId);
    if (meta?.status !== 'open') return undefined;
    if (this.rollDue(meta, now)) {
      meta = this.loadMutable(logId)!;
      this.roll(meta, now);
      this.save(meta);
      this.schedule(meta, now);
    }
    let shard: ShardMeta | undefined;
    if (shardId === undefined) {
      for (const s of meta.shards) if (!s.endSeq) shard = s;
    } else {
      shard = meta.shards.find((s) => s.shardId === shardId && !s.endSeq);
    }
    if (!shard) return undefined;
    const skey = this.prefix + logId;
    const seq = nextSeq(shard, this.storage.log.last(skey, shard.shardId));
    if (seq >= MAX_SEQ) throw new Error(`log ${logId} ran out of sequence numbers`);
    this.storage.log.append(skey, shard.shardId, seq, now, typeof data === 'string' ? data : data(meta));
    const t = this.timers.get(logId);
    if (!t || t.at > now + meta.retentionMs) this.arm(logId, Math.max(now + meta.retentionMs, now + this.granularity));
    if (this.listeners.size) this.emit({ logId, shardId: shard.shardId, kind: 'appended' });
    return { shardId: shard.shardId, seq, at: now };
  }

  // ---- wake-ups --------------------------------------------------------------------------------

  /**
   * Be told when rows are appended to a log (or one shard of it) or a shard closes. Callbacks run
   * after the writing transaction has returned (a microtask later), never inside it; a rolled-back
   * write may cause a spurious wake-up, never a missed one. Returns the unsubscribe function.
   */
  subscribe(logId: string, shardId: string | undefined, cb: LogListener): () => void {
    let set = this.listeners.get(logId);
    if (!set) this.listeners.set(logId, (set = new Set()));
    const sub = { shardId, cb };
    set.add(sub);
    return () => {
      const s = this.listeners.get(logId);
      if (!s) return;
      s.delete(sub);
      if (!s.size) this.listeners.delete(logId);
    };
  }

  private emit(e: LogEvent): void {
    if (!this.listeners.has(e.logId)) return;
    this.pending.push(e);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushQueued = false;
    const events = this.pending;
    this.pending = [];
    const seen = new Set<string>();
    for (const e of events) {
      const k = `${e.logId}\0${e.shardId}\0${e.kind}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const set = this.listeners.get(e.logId);
      if (!set) continue;
      for (const sub of [...set]) {
        if (sub.shardId !== undefined && sub.shardId !== e.shardId) continue;
        try {
          sub.cb(e);
        } catch (err) {
          this.onError(err);
        }
      }
    }
  }

  // ---- maintenance -----------------------------------------------------------------------------

  /** Apply due rollovers, retention and expiry to one log now (its own transaction). */
  maintain(logId: string, now = this.clock.now()): void {
    this.storage.tx(() => {
      const meta = this.loadMutable(logId);
      if (!meta) return;
      if (meta.status === 'closed' && meta.closedAt! + meta.retentionMs <= now) {
        this.delete(logId);
        return;
      }
      let changed = this.roll(meta, now);
      const keep: ShardMeta[] = [];
      for (const s of meta.shards) {
        if (s.closedAt !== undefined && s.closedAt + meta.retentionMs <= now) {
          this.storage.log.trim(this.prefix + logId, s.shardId, Number.MAX_SAFE_INTEGER);
          changed = true;
          continue;
        }
        if (this.trimShard(meta, s, now)) changed = true;
        keep.push(s);
      }
      meta.shards = keep;
      if (changed) this.save(meta);
      this.schedule(meta, now);
    });
  }

  /** Apply what is due as of `now` when anything is (cheap check first). */
  private refresh(logId: string, now: number): void {
    const meta = this.load(logId);
    if (!meta) return;
    const due =
      (meta.status === 'closed' && meta.closedAt! + meta.retentionMs <= now) ||
      this.rollDue(meta, now) ||
      meta.shards.some((s) => s.closedAt !== undefined && s.closedAt + meta.retentionMs <= now);
    if (due) this.maintain(logId, now);
  }

  /** Make sure rows older than retention are gone from one shard; returns the shard (or undefined). */
  private enforceRetention(logId: string, shardId: string, now: number): ShardMeta | undefined {
    this.refresh(logId, now);
    const meta = this.load(logId);
    const s = meta?.shards.find((x) => x.shardId === shardId);
    if (!meta || !s) return undefined;
    const first = this.storage.log.first(this.prefix + logId, shardId);
    if (first && first.at + meta.retentionMs <= now) {
      this.storage.tx(() => {
        const m = this.loadMutable(logId)!;
        const sm = m.shards.find((x) => x.shardId === shardId)!;
        if (this.trimShard(m, sm, now)) this.save(m);
      });
      return this.load(logId)!.shards.find((x) => x.shardId === shardId);
    }
    return s;
  }

  /** Delete rows past retention from a shard, recording how far it was trimmed. */
  private trimShard(meta: LogMeta<A>, s: ShardMeta, now: number): boolean {
    const skey = this.prefix + meta.id;
    const first = this.storage.log.first(skey, s.shardId);
    if (!first || first.at + meta.retentionMs > now) return false;
    const lastBefore = this.storage.log.last(skey, s.shardId)!;
    this.storage.log.trim(skey, s.shardId, now - meta.retentionMs + 1);
    const firstAfter = this.storage.log.first(skey, s.shardId);
    const through = firstAfter ? firstAfter.seq - 1n : lastBefore.seq;
    s.trimmedThrough = String(maxBig(BigInt(s.trimmedThrough ?? '-1'), through));
    s.floor = String(maxBig(BigInt(s.floor), through));
    return true;
  }

  private rollDue(meta: LogMeta<A>, now: number): boolean {
    if (meta.rolloverMs === null || meta.status !== 'open') return false;
    for (const s of meta.shards) if (!s.endSeq && now >= s.createdAt + meta.rolloverMs) return true;
    return false;
  }

  /** Close each open shard whose period has passed and start its child (a chain after a long idle). */
  private roll(meta: LogMeta<A>, now: number): boolean {
    if (meta.rolloverMs === null || meta.status !== 'open') return false;
    const period = meta.rolloverMs;
    let changed = false;
    const keepChain = Math.ceil(meta.retentionMs / period) + 1;
    for (const s of [...meta.shards]) {
      if (s.endSeq || now < s.createdAt + period) continue;
      const periods = Math.floor((now - s.createdAt) / period);
      let parent = s;
      this.closeShard(meta, parent, s.createdAt + period);
      for (let i = Math.max(1, periods - keepChain); i <= periods; i++) {
        const createdAt = s.createdAt + i * period;
        const child = newShard(
          this.shardIdFor(createdAt, meta.shards.length),
          [parent.shardId],
          createdAt,
          BigInt(parent.endSeq!) + 1n,
        );
        meta.shards.push(child);
        if (i < periods) this.closeShard(meta, child, createdAt + period);
        parent = child;
      }
      changed = true;
    }
    return changed;
  }

  private closeShard(meta: LogMeta<A>, s: ShardMeta, at: number): void {
    const last = this.storage.log.last(this.prefix + meta.id, s.shardId);
    const start = BigInt(s.startSeq);
    const end = maxBig(maxBig(last?.seq ?? -1n, BigInt(s.floor)), start);
    s.endSeq = String(end);
    s.floor = String(end);
    s.closedAt = at;
    if (this.listeners.size) this.emit({ logId: meta.id, shardId: s.shardId, kind: 'closed' });
  }

  /** Arm the log's next maintenance (rollover, trim, shard/log expiry). */
  private schedule(meta: LogMeta<A>, now: number): void {
    let due = Number.POSITIVE_INFINITY;
    if (meta.status === 'closed') due = meta.closedAt! + meta.retentionMs;
    for (const s of meta.shards) {
      if (!s.endSeq && meta.rolloverMs !== null && meta.status === 'open')
        due = Math.min(due, s.createdAt + meta.rolloverMs);
      if (s.closedAt !== undefined) due = Math.min(due, s.closedAt + meta.retentionMs);
      const first = this.storage.log.first(this.prefix + meta.id, s.shardId);
      if (first) due = Math.min(due, Math.max(first.at + meta.retentionMs, now + this.granularity));
    }
    const t = this.timers.get(meta.id);
    if (t) {
      t.timer.cancel();
      this.timers.delete(meta.id);
    }
    if (due !== Number.POSITIVE_INFINITY) this.arm(meta.id, due);
  }

  private arm(logId: string, at: number): void {
    if (this.stopped) return;
    const t = this.timers.get(logId);
    if (t) {
      if (t.at <= at) return;
      t.timer.cancel();
    }
    const timer = this.clock.at(at, () => {
      const cur = this.timers.get(logId);
      if (cur?.timer === timer) this.timers.delete(logId);
      if (this.stopped) return;
      try {
        this.maintain(logId);
      } catch (e) {
        this.onError(e);
      }
    });
    this.timers.set(logId, { at, timer });
  }

  // ---- storage of metadata ---------------------------------------------------------------------

  private load(logId: string): LogMeta<A> | undefined {
    const raw = this.storage.kv.get(this.ns, key(logId));
    if (raw === undefined) return undefined;
    const c = this.cache.get(logId);
    if (c && c.raw === raw) return c.meta;
    const meta = JSON.parse(raw) as LogMeta<A>;
    this.cache.set(logId, { raw, meta });
    return meta;
  }

  /** A private copy to change and `save` (the cached one stays as committed). */
  private loadMutable(logId: string): LogMeta<A> | undefined {
    const raw = this.storage.kv.get(this.ns, key(logId));
    return raw === undefined ? undefined : (JSON.parse(raw) as LogMeta<A>);
  }

  private save(meta: LogMeta<A>): void {
    this.storage.kv.put(this.ns, key(meta.id), JSON.stringify(meta));
  }
}

function newShard(shardId: string, parents: string[], createdAt: number, startSeq: bigint): ShardMeta {
  return { shardId, parents, createdAt, startSeq: String(startSeq), floor: String(startSeq - 1n) };
}

function nextSeq(s: ShardMeta, last: LogRow | undefined): bigint {
  const floor = BigInt(s.floor);
  return (last && last.seq > floor ? last.seq : floor) + 1n;
}

const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);
const key = (id: string) => Buffer.from(id, 'utf8');

/** The smallest key greater than every key starting with `prefix` (undefined: no bound). */
function prefixEnd(prefix: string): Buffer | undefined {
  const b = Buffer.from(prefix, 'utf8');
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i]++;
      return out;
    }
  }
  return undefined;
}

/** DynamoDB's shard id shape: `shardId-00000001414562045508-2bac9cd2`. */
export function defaultShardId(createdAt: number): string {
  return `shardId-${String(createdAt).padStart(20, '0')}-${randomBytes(4).toString('hex')}`;
}
