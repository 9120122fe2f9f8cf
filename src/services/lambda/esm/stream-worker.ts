/**
 * One stream mapping at work: per shard (parents before children) it reads from the durable
 * checkpoint, filters, splits records into ParallelizationFactor lanes by item key, batches (size,
 * window, 6 MB), invokes, applies ReportBatchItemFailures / bisect / retry / record-age rules, sends
 * discarded batches to the on-failure destination and moves the checkpoint. Woken by appends (no
 * polling) unless the AWS cadence is asked for; all waits are on the injected clock.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, Timer } from '../../../core/clock.ts';
import type { Logger } from '../../../core/logger.ts';
import { type CompiledPattern, compilePattern, matches } from '../../../core/pattern/index.ts';
import type { Storage } from '../../../storage/types.ts';
import { CHECKPOINTS } from './control.ts';
import type {
  Checkpoint,
  DestinationPort,
  EsmMetrics,
  Invoke,
  MappingRecord,
  ObjectDestination,
  ShardInfo,
  SourceRecord,
  StreamSource,
} from './types.ts';

/** Lambda's synchronous payload limit. */
export const MAX_PAYLOAD = 6 * 1024 * 1024;
/** Room for the event envelope around the records. */
const ENVELOPE = 2048;
/** Retry back-off on the clock: 1 s, 2 s, 4 s ... capped at 30 s. */
export const backoffMs = (n: number) => Math.min(1000 * 2 ** Math.max(0, n - 1), 30_000);
/** `--esm-cadence aws`: DynamoDB Streams are polled 4 times a second, Kinesis once. */
export const AWS_POLL_MS = { dynamodb: 250, kinesis: 1000 } as const;

export interface WorkerContext {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  invoke: Invoke;
  destinations?: DestinationPort;
  objects?: ObjectDestination;
  metrics: EsmMetrics;
  cadence: 'push' | 'aws';
  /** Record the outcome of an invocation on the mapping (LastProcessingResult). */
  result(uuid: string, text: string): void;
}

export const cpKey = (uuid: string, shardId: string) => Buffer.from(`${uuid}\0${shardId}`);

export function loadCheckpoint(storage: Storage, uuid: string, shardId: string): Checkpoint | undefined {
  const raw = storage.kv.get(CHECKPOINTS, cpKey(uuid, shardId));
  return raw ? (JSON.parse(raw) as Checkpoint) : undefined;
}

export function saveCheckpoint(storage: Storage, uuid: string, shardId: string, cp: Checkpoint): void {
  storage.kv.put(CHECKPOINTS, cpKey(uuid, shardId), JSON.stringify(cp));
}

export function dropCheckpoints(storage: Storage, uuid: string): void {
  const lo = Buffer.from(`${uuid}\0`);
  const hi = Buffer.from(`${uuid}\x01`);
  const keys = [...storage.kv.range(CHECKPOINTS, { gte: lo, lt: hi })].map(([k]) => k);
  for (const k of keys) storage.kv.delete(CHECKPOINTS, k);
}

/**
 * Position every shard for a new mapping: LATEST starts the open shards at their end and marks
 * closed ones done; TRIM_HORIZON is resolved lazily (when a shard becomes ready).
 */
export function initCheckpoints(storage: Storage, src: StreamSource, m: MappingRecord, now: number): void {
  if (m.startingPosition !== 'LATEST') return;
  for (const s of src.shards(m.eventSourceArn, now) ?? []) {
    if (loadCheckpoint(storage, m.uuid, s.shardId)) continue;
    if (s.endSeq !== undefined) saveCheckpoint(storage, m.uuid, s.shardId, { next: String(s.endSeq + 1n), done: true });
    else saveCheckpoint(storage, m.uuid, s.shardId, { next: String(src.latest(m.eventSourceArn, s.shardId) ?? 0n) });
  }
}

interface Rec extends SourceRecord {
  /** When the engine read it (batching window). */
  readAt: number;
  windowStart?: number;
}

interface Lane {
  id: number;
  queue: Rec[];
  busy: boolean;
  timer?: Timer;
  timerAt?: number;
  /** Tumbling window in progress: its start (ms) and the function's state. */
  window?: { start: number; state: unknown };
}

type Outcome =
  | { kind: 'ok'; state?: unknown }
  | { kind: 'partial'; from: number; state?: unknown }
  | { kind: 'failed'; statusCode: number; functionError?: string; executedVersion?: string; requestId: string }
  | { kind: 'throttled' };

export class StreamMappingWorker {
  private readonly shards = new Map<string, ShardWorker>();
  private unsubscribe?: () => void;
  private stopped = false;
  readonly filters: CompiledPattern[];

  constructor(
    readonly ctx: WorkerContext,
    readonly m: MappingRecord,
    readonly src: StreamSource,
  ) {
    this.filters = (m.filters ?? []).map((p) => compilePattern(p, 'lambda'));
  }

  start(): void {
    this.unsubscribe = this.src.subscribe(this.m.eventSourceArn, (shardId) => this.wake(shardId));
    this.discover();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const s of this.shards.values()) s.stop();
    this.shards.clear();
  }

  /** Stop taking new batches; resolves once the batches in flight have finished (and checkpointed). */
  async drain(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    const shards = [...this.shards.values()];
    this.shards.clear();
    await Promise.all(shards.map((s) => s.drain()));
  }

  /** Resolves when no batch is in flight (tests, shutdown). */
  get busy(): boolean {
    for (const s of this.shards.values()) if (s.inFlight()) return true;
    return false;
  }

  private wake(shardId: string): void {
    if (this.stopped) return;
    const s = this.shards.get(shardId);
    if (s) s.pump();
    else this.discover();
  }

  /** Start workers for every shard that is ready: not done, and every parent done (or gone). */
  discover(): void {
    if (this.stopped) return;
    const now = this.ctx.clock.now();
    const shards = this.src.shards(this.m.eventSourceArn, now);
    if (!shards) return;
    const known = new Set(shards.map((s) => s.shardId));
    const isDone = (id: string): boolean => {
      if (!known.has(id)) return true;
      return loadCheckpoint(this.ctx.storage, this.m.uuid, id)?.done === true;
    };
    for (const s of shards) {
      if (this.shards.has(s.shardId) || isDone(s.shardId)) continue;
      if (!s.parents.every(isDone)) continue;
      const w = new ShardWorker(this, s);
      this.shards.set(s.shardId, w);
      w.pump();
    }
  }

  shardFinished(shardId: string): void {
    this.shards.delete(shardId);
    queueMicrotask(() => this.discover());
  }

  isStopped(): boolean {
    return this.stopped;
  }
}

class ShardWorker {
  private readonly ctx: WorkerContext;
  private readonly m: MappingRecord;
  private readonly lanes: Lane[];
  /** Next position to read from the log. */
  private readPos: bigint;
  /** Records read and not yet finished, in order; finished ones are skipped lazily. */
  private outstanding: bigint[] = [];
  private finished = new Set<bigint>();
  private checkpointed: bigint;
  private windows: Record<string, { start: number; state: unknown }>;
  private stopped = false;
  /** Disabled or updated: finish the batches in flight, start no more. */
  private draining = false;
  private readonly inflight = new Set<Promise<void>>();
  private pollTimer?: Timer;
  private reading = false;
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly owner: StreamMappingWorker,
    private shard: ShardInfo,
  ) {
    this.ctx = owner.ctx;
    this.m = owner.m;
    const n = this.m.parallelization ?? 1;
    this.lanes = Array.from({ length: n }, (_, id) => ({ id, queue: [], busy: false }));
    const cp = loadCheckpoint(this.ctx.storage, this.m.uuid, shard.shardId);
    let next: bigint;
    if (cp) next = BigInt(cp.next);
    else {
      next = this.owner.src.trimHorizon(this.m.eventSourceArn, shard.shardId, this.ctx.clock.now()) ?? 0n;
      saveCheckpoint(this.ctx.storage, this.m.uuid, shard.shardId, { next: String(next) });
    }
    this.readPos = next;
    this.checkpointed = next;
    this.windows = cp?.windows ?? {};
    for (const lane of this.lanes) {
      const w = this.windows[String(lane.id)];
      if (w) lane.window = w;
    }
  }

  stop(): void {
    this.stopped = true;
    this.pollTimer?.cancel();
    for (const l of this.lanes) l.timer?.cancel();
    this.wakeSleepers();
  }

  async drain(): Promise<void> {
    this.draining = true;
    this.pollTimer?.cancel();
    for (const l of this.lanes) l.timer?.cancel();
    this.wakeSleepers();
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
    this.stopped = true;
  }

  inFlight(): boolean {
    return this.lanes.some((l) => l.busy);
  }

  private get arn(): string {
    return this.m.eventSourceArn;
  }

  /** New data (or a shard close) may be there: read and dispatch, at the configured cadence. */
  pump(): void {
    if (this.stopped) return;
    if (this.ctx.cadence === 'aws') {
      if (this.pollTimer) return;
      this.pollTimer = this.ctx.clock.after(AWS_POLL_MS[this.owner.src.kind], () => {
        this.pollTimer = undefined;
        this.readAndDispatch();
      });
      return;
    }
    this.readAndDispatch();
  }

  private queued(): number {
    let n = 0;
    for (const l of this.lanes) n += l.queue.length;
    return n;
  }

  private readAndDispatch(): void {
    if (this.stopped || this.reading) return;
    this.reading = true;
    try {
      const now = this.ctx.clock.now();
      const horizon = this.owner.src.trimHorizon(this.arn, this.shard.shardId, now);
      if (horizon === undefined) {
        // The shard expired from the stream.
        this.finishShard();
        return;
      }
      if (this.readPos < horizon && this.outstanding.length === 0) {
        this.ctx.logger.warn('event source mapping: records expired from the stream before they were processed', {
          uuid: this.m.uuid,
          shardId: this.shard.shardId,
        });
        this.readPos = horizon;
        this.advance();
      }
      const ahead = Math.max(this.m.batchSize * this.lanes.length * 2, 1000);
      while (this.queued() < ahead) {
        const recs = this.owner.src.read(this.arn, this.shard.shardId, this.readPos, 1000, now);
        if (!recs.length) break;
        for (const r of recs) this.accept(r, now);
        this.readPos = recs[recs.length - 1].seq + 1n;
      }
      this.advance();
      this.refreshShard(now);
    } finally {
      this.reading = false;
    }
    for (const l of this.lanes) this.runLane(l);
    this.maybeFinish();
  }

  private accept(r: SourceRecord, now: number): void {
    const f = this.owner.filters;
    if (f.length && !f.some((p) => matches(p, r.record))) return; // filtered out: the checkpoint moves past it
    const rec: Rec = { ...r, readAt: now };
    if (this.m.tumblingSeconds) {
      const w = this.m.tumblingSeconds * 1000;
      rec.windowStart = Math.floor(r.at / w) * w;
    }
    this.outstanding.push(r.seq);
    this.lanes[this.laneOf(r.key)].queue.push(rec);
  }

  private laneOf(key: string): number {
    if (this.lanes.length === 1) return 0;
    let h = 2166136261;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
    return (h >>> 0) % this.lanes.length;
  }

  private refreshShard(now: number): void {
    if (this.shard.endSeq !== undefined) return;
    const s = this.owner.src.shards(this.arn, now)?.find((x) => x.shardId === this.shard.shardId);
    if (s) this.shard = s;
  }

  /** Mark records finished and move the durable checkpoint to the first unfinished one. */
  private complete(recs: Rec[]): void {
    for (const r of recs) this.finished.add(r.seq);
    this.advance();
  }

  private advance(): void {
    let i = 0;
    while (i < this.outstanding.length && this.finished.has(this.outstanding[i])) {
      this.finished.delete(this.outstanding[i]);
      i++;
    }
    if (i) this.outstanding = this.outstanding.slice(i);
    const next = this.outstanding.length ? this.outstanding[0] : this.readPos;
    if (next !== this.checkpointed) {
      this.checkpointed = next;
      this.persist();
    }
  }

  private persist(extra: Partial<Checkpoint> = {}): void {
    const cp: Checkpoint = { next: String(this.checkpointed), ...extra };
    if (Object.keys(this.windows).length) cp.windows = this.windows;
    this.ctx.storage.tx(() => saveCheckpoint(this.ctx.storage, this.m.uuid, this.shard.shardId, cp));
  }

  private maybeFinish(): void {
    if (this.stopped || this.shard.endSeq === undefined) return;
    if (this.outstanding.length || (this.readPos <= this.shard.endSeq && this.hasMore())) return;
    if (this.lanes.some((l) => l.busy || l.window)) return;
    this.finishShard();
  }

  private hasMore(): boolean {
    return this.owner.src.read(this.arn, this.shard.shardId, this.readPos, 1, this.ctx.clock.now()).length > 0;
  }

  private finishShard(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.persist({ done: true });
    this.owner.shardFinished(this.shard.shardId);
  }

  // ---- lanes: batches, invocations, outcomes ---------------------------------------------------

  private arm(lane: Lane, at: number): void {
    if (lane.timer && lane.timerAt !== undefined && lane.timerAt <= at) return;
    lane.timer?.cancel();
    lane.timerAt = at;
    lane.timer = this.ctx.clock.at(at, () => {
      lane.timer = undefined;
      lane.timerAt = undefined;
      this.runLane(lane);
      this.pump();
    });
  }

  /** Take the next batch of a lane, or undefined when it should wait (window) or has nothing. */
  private takeBatch(lane: Lane, now: number): Rec[] | undefined {
    if (!lane.queue.length) return undefined;
    const first = lane.queue[0];
    const batch: Rec[] = [];
    let bytes = ENVELOPE;
    for (const r of lane.queue) {
      if (batch.length >= this.m.batchSize) break;
      if (first.windowStart !== undefined && r.windowStart !== first.windowStart) break;
      if (batch.length && bytes + r.size + 1 > MAX_PAYLOAD) break;
      batch.push(r);
      bytes += r.size + 1;
    }
    const full = batch.length >= this.m.batchSize || batch.length < lane.queue.length;
    const windowMs = this.m.windowSeconds * 1000;
    if (!full && windowMs > 0 && first.readAt + windowMs > now) {
      this.arm(lane, first.readAt + windowMs);
      return undefined;
    }
    return batch;
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private runLane(lane: Lane): void {
    if (lane.busy || this.stopped || this.draining) return;
    const now = this.ctx.clock.now();
    // Tumbling windows: the final invocation once the window has ended and its records are done.
    if (lane.window) {
      const end = lane.window.start + (this.m.tumblingSeconds ?? 0) * 1000;
      const pendingInWindow = lane.queue.length > 0 && lane.queue[0].windowStart === lane.window.start;
      if (!pendingInWindow) {
        if (now >= end || (lane.queue.length > 0 && lane.queue[0].windowStart !== lane.window.start)) {
          lane.busy = true;
          this.track(
            this.finalInvoke(lane)
              .catch((e) => this.crashed(e))
              .finally(() => this.laneDone(lane)),
          );
          return;
        }
        this.arm(lane, end);
      }
    }
    const batch = this.takeBatch(lane, now);
    if (!batch) return;
    lane.busy = true;
    this.track(
      this.deliver(lane, batch)
        .catch((e) => this.crashed(e))
        .finally(() => this.laneDone(lane)),
    );
  }

  private crashed(e: unknown): void {
    if (this.stopped) return;
    this.ctx.logger.error('event source mapping: batch delivery failed', {
      uuid: this.m.uuid,
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    });
  }

  private laneDone(lane: Lane): void {
    lane.busy = false;
    if (this.stopped || this.draining) return;
    this.readAndDispatch();
  }

  /** Wait on the clock; a stop or drain ends every wait at once. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleepers.delete(wake);
        timer.cancel();
        resolve();
      };
      const timer = this.ctx.clock.after(ms, wake);
      this.sleepers.add(wake);
    });
  }

  private wakeSleepers(): void {
    for (const w of [...this.sleepers]) w();
  }

  /** The event as JSON text, built from each record's serialized form (no second stringify). */
  private payloadFor(lane: Lane, recs: Rec[], final = false): string {
    const records = `{"Records":[${recs.map((r) => r.json).join(',')}]`;
    if (!this.m.tumblingSeconds) return `${records}}`;
    const { Records: _, ...rest } = this.eventFor(lane, recs, final);
    return `${records},${JSON.stringify(rest).slice(1)}`;
  }

  private eventFor(lane: Lane, recs: Rec[], final = false): Record<string, unknown> {
    const ev: Record<string, unknown> = { Records: recs.map((r) => r.record) };
    if (this.m.tumblingSeconds) {
      const start = recs.length ? recs[0].windowStart! : lane.window!.start;
      const state = lane.window && lane.window.start === start ? lane.window.state : {};
      ev.window = {
        start: iso(start),
        end: iso(start + this.m.tumblingSeconds * 1000),
      };
      ev.state = state ?? {};
      ev.shardId = this.shard.shardId;
      ev.eventSourceARN = this.arn;
      ev.isFinalInvokeForWindow = final;
      ev.isWindowTerminatedEarly = false;
    }
    return ev;
  }

  private async invoke(lane: Lane, recs: Rec[], final = false): Promise<Outcome> {
    const payload = Buffer.from(this.payloadFor(lane, recs, final));
    const requestId = randomUUID();
    if (recs.length)
      this.ctx.metrics.iteratorAge(this.m.functionArn, this.m.uuid, this.ctx.clock.now() - recs[recs.length - 1].at);
    let out: Awaited<ReturnType<Invoke>>;
    try {
      out = await this.ctx.invoke(this.m.functionArn, payload, { accountId: this.m.accountId, region: this.m.region });
    } catch (e) {
      if (this.stopped) return { kind: 'throttled' };
      const code = (e as { code?: string }).code;
      this.ctx.logger.warn('event source mapping: invocation failed before the function ran', {
        uuid: this.m.uuid,
        error: e instanceof Error ? e.message : String(e),
      });
      this.ctx.result(
        this.m.uuid,
        code === 'ResourceNotFoundException' ? 'PROBLEM: Function not found.' : 'PROBLEM: Function call failed',
      );
      return { kind: 'throttled' };
    }
    if (this.stopped) return { kind: 'throttled' };
    const ok = !out.FunctionError;
    this.ctx.metrics.invocation(this.m.functionArn, this.m.uuid, ok);
    if (!ok) {
      this.ctx.result(this.m.uuid, 'PROBLEM: Function call failed');
      return {
        kind: 'failed',
        statusCode: out.StatusCode,
        functionError: out.FunctionError,
        executedVersion: out.ExecutedVersion,
        requestId,
      };
    }
    const parsed = parseResponse(out.Payload);
    let state: unknown;
    if (this.m.tumblingSeconds && parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      state = (parsed as { state?: unknown }).state;
    if (this.m.reportBatchItemFailures && recs.length) {
      const verdict = batchItemFailures(parsed, recs);
      if (verdict === 'malformed') {
        this.ctx.result(this.m.uuid, 'PROBLEM: Function call failed');
        return { kind: 'failed', statusCode: out.StatusCode, executedVersion: out.ExecutedVersion, requestId };
      }
      if (verdict !== undefined) {
        this.ctx.result(this.m.uuid, 'OK');
        return { kind: 'partial', from: verdict, state };
      }
    }
    this.ctx.result(this.m.uuid, 'OK');
    return { kind: 'ok', state };
  }

  private keepState(lane: Lane, recs: Rec[], state: unknown): void {
    if (!this.m.tumblingSeconds || !recs.length) return;
    lane.window = { start: recs[0].windowStart!, state: state ?? {} };
    this.windows[String(lane.id)] = lane.window;
  }

  /** Deliver one batch until it succeeds or is discarded: bisect, retries, record age. */
  private async deliver(lane: Lane, batch: Rec[]): Promise<void> {
    // Work items in order; bisection replaces one with its halves (splitting uses no retry).
    const work: { recs: Rec[]; attempts: number; throttles: number }[] = [{ recs: batch, attempts: 0, throttles: 0 }];
    while (work.length && !this.stopped) {
      const cur = work[0];
      if (this.draining && cur.attempts + cur.throttles > 0) return;
      const now = this.ctx.clock.now();
      // Records past MaximumRecordAgeInSeconds (or the stream's retention) are discarded, not invoked.
      const maxAgeMs =
        this.m.maxRecordAge !== undefined && this.m.maxRecordAge !== -1
          ? this.m.maxRecordAge * 1000
          : this.owner.src.retentionMs;
      // Checked before every invocation, the first included: a backlog older than the limit is skipped.
      const old = cur.recs.filter((r) => now - r.at > maxAgeMs);
      if (old.length) {
        await this.discard(lane, old, 'RecordAgeExceeded', cur.attempts, undefined);
        cur.recs = cur.recs.filter((r) => now - r.at <= maxAgeMs);
        if (!cur.recs.length) {
          work.shift();
          continue;
        }
      }
      const out = await this.invoke(lane, cur.recs);
      if (this.stopped) return;
      if (out.kind === 'ok') {
        this.keepState(lane, cur.recs, out.state);
        this.removeFromLane(lane, cur.recs);
        this.complete(cur.recs);
        work.shift();
        continue;
      }
      if (this.draining) {
        if (out.kind === 'partial') {
          const done = cur.recs.slice(0, out.from);
          this.removeFromLane(lane, done);
          this.complete(done);
        }
        return;
      }
      if (out.kind === 'throttled') {
        cur.throttles++;
        await this.sleep(backoffMs(cur.throttles));
        continue;
      }
      cur.attempts++;
      if (out.kind === 'partial') {
        this.keepState(lane, cur.recs, out.state);
        const done = cur.recs.slice(0, out.from);
        this.removeFromLane(lane, done);
        this.complete(done);
        cur.recs = cur.recs.slice(out.from);
      } else if (this.m.bisect && cur.recs.length > 1) {
        const half = Math.ceil(cur.recs.length / 2);
        work.splice(
          0,
          1,
          { recs: cur.recs.slice(0, half), attempts: cur.attempts - 1, throttles: 0 },
          { recs: cur.recs.slice(half), attempts: cur.attempts - 1, throttles: 0 },
        );
        continue;
      }
      const maxRetry = this.m.maxRetry ?? -1;
      if (maxRetry !== -1 && cur.attempts > maxRetry) {
        await this.discard(
          lane,
          cur.recs,
          'RetryAttemptsExhausted',
          cur.attempts,
          out.kind === 'failed' ? out : undefined,
        );
        work.shift();
        continue;
      }
      await this.sleep(backoffMs(cur.attempts));
    }
  }

  private removeFromLane(lane: Lane, recs: Rec[]): void {
    if (!recs.length) return;
    const n = recs.length;
    // The usual case: the batch is the front of the lane.
    if (lane.queue[0]?.seq === recs[0].seq && lane.queue[n - 1]?.seq === recs[n - 1].seq) {
      lane.queue.splice(0, n);
      return;
    }
    const gone = new Set(recs.map((r) => r.seq));
    lane.queue = lane.queue.filter((r) => !gone.has(r.seq));
  }

  /** Give up on records: the on-failure destination gets AWS's invocation record; the checkpoint moves on. */
  private async discard(
    lane: Lane,
    recs: Rec[],
    condition: string,
    attempts: number,
    failure: { statusCode: number; functionError?: string; executedVersion?: string; requestId: string } | undefined,
  ): Promise<void> {
    const first = recs[0];
    const last = recs[recs.length - 1];
    const now = this.ctx.clock.now();
    const record: Record<string, unknown> = {
      requestContext: {
        requestId: failure?.requestId ?? randomUUID(),
        functionArn: this.m.functionArn,
        condition,
        approximateInvokeCount: attempts,
      },
      responseContext: {
        statusCode: failure?.statusCode ?? 200,
        executedVersion: failure?.executedVersion ?? '$LATEST',
        functionError: failure?.functionError ?? 'Unhandled',
      },
      version: '1.0',
      timestamp: new Date(now).toISOString(),
      [this.owner.src.kind === 'dynamodb' ? 'DDBStreamBatchInfo' : 'KinesisBatchInfo']: {
        shardId: this.shard.shardId,
        startSequenceNumber: first.sequenceNumber,
        endSequenceNumber: last.sequenceNumber,
        approximateArrivalOfFirstRecord: isoSeconds(first.at),
        approximateArrivalOfLastRecord: isoSeconds(last.at),
        batchSize: recs.length,
        streamArn: this.arn,
      },
    };
    this.ctx.logger.warn('event source mapping: records discarded', {
      uuid: this.m.uuid,
      condition,
      shardId: this.shard.shardId,
      count: recs.length,
    });
    const dest = this.m.onFailure;
    if (dest && this.ctx.objects?.accepts(dest)) {
      // S3: the record and the batch itself, under aws/lambda/<uuid>/<shard>/YYYY/MM/DD/<time>-<uuid>.
      record.payload = this.eventFor(lane, recs);
      const t = new Date(now).toISOString();
      const key = `aws/lambda/${this.m.uuid}/${this.shard.shardId}/${t.slice(0, 4)}/${t.slice(5, 7)}/${t.slice(8, 10)}/${t.slice(0, 19).replaceAll(':', '.')}-${randomUUID()}`;
      for (let n = 1; !this.stopped; n++) {
        try {
          await this.ctx.objects.put(dest, key, JSON.stringify(record), {
            accountId: this.m.accountId,
            region: this.m.region,
          });
          break;
        } catch (e) {
          this.ctx.logger.warn('event source mapping: could not write the on-failure object; retrying', {
            dest,
            error: e instanceof Error ? e.message : String(e),
          });
          if (this.draining) return;
          await this.sleep(backoffMs(n));
        }
      }
      if (this.stopped) return;
    }
    this.ctx.storage.tx(() => {
      if (dest && this.ctx.destinations?.accepts(dest))
        this.ctx.destinations.send(dest, JSON.stringify(record), { eventSourceMapping: this.m.uuid, condition });
      else if (dest && !this.ctx.objects?.accepts(dest))
        this.ctx.logger.error('event source mapping: on-failure destination unavailable; record dropped', { dest });
      this.removeFromLane(lane, recs);
      this.complete(recs);
    });
  }

  private async finalInvoke(lane: Lane): Promise<void> {
    let attempts = 0;
    while (!this.stopped) {
      const out = await this.invoke(lane, [], true);
      if (this.stopped) return;
      if (out.kind === 'ok' || out.kind === 'partial') break;
      if (this.draining) return;
      attempts++;
      const maxRetry = this.m.maxRetry ?? -1;
      if (maxRetry !== -1 && attempts > maxRetry) break;
      await this.sleep(backoffMs(attempts));
      if (this.draining) return;
    }
    if (this.stopped) return;
    lane.window = undefined;
    delete this.windows[String(lane.id)];
    this.persist();
  }
}

function parseResponse(payload: Buffer | undefined): unknown {
  if (!payload?.length) return null;
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return payload.toString('utf8');
  }
}

/**
 * ReportBatchItemFailures: undefined = the whole batch succeeded; a number = index of the lowest
 * reported record (retry from there); 'malformed' = the whole batch failed.
 */
export function batchItemFailures(resp: unknown, recs: { sequenceNumber: string }[]): number | 'malformed' | undefined {
  if (resp === null || resp === undefined) return undefined;
  if (typeof resp !== 'object' || Array.isArray(resp)) return resp === '' ? undefined : 'malformed';
  const list = (resp as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === null || list === undefined) return undefined;
  if (!Array.isArray(list)) return 'malformed';
  if (!list.length) return undefined;
  let lowest: number | undefined;
  for (const item of list) {
    if (!item || typeof item !== 'object') return 'malformed';
    const id = (item as { itemIdentifier?: unknown }).itemIdentifier;
    if (typeof id !== 'string' || !id) return 'malformed';
    const i = recs.findIndex((r) => r.sequenceNumber === id);
    if (i < 0) return 'malformed';
    if (lowest === undefined || i < lowest) lowest = i;
  }
  return lowest;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const isoSeconds = iso;
