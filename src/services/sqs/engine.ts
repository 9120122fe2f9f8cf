import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock, Timer } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { GaugeSample, MetricDatum, MetricsPort } from '../../core/ports.ts';
import type { Storage } from '../../storage/types.ts';
import type { RedrivePolicy } from './attributes.ts';
import { invalidParameter, queueDoesNotExist, sqsError } from './errors.ts';
import { type AttributeValue, md5Hex, md5OfAttributes } from './md5.ts';

/** A queue's metadata, one kv row per queue. */
export interface QueueMeta {
  name: string;
  account: string;
  region: string;
  arn: string;
  fifo: boolean;
  attributes: Record<string, string>;
  tags: Record<string, string>;
  /** Epoch seconds. */
  created: number;
  modified: number;
  lastPurgeMs?: number;
}

/** A message as stored (JSON in the queue store row). */
export interface StoredMessage {
  id: string;
  body: string;
  /** Message attributes with binary values as base64. */
  attrs?: Record<string, StoredAttr>;
  sys?: Record<string, StoredAttr>;
  md5b: string;
  md5a?: string;
  md5s?: string;
  /** Sent, ms. */
  sent: number;
  expires: number;
  rc: number;
  first?: number;
  /** Receipt nonce of the latest receive. */
  rn?: string;
  group?: string;
  dedup?: string;
  seqNo?: string;
  sender: string;
  dlqSource?: string;
}

export interface StoredAttr {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface SendInput {
  body: string;
  delaySeconds?: number;
  attrs?: Record<string, AttributeValue>;
  sys?: Record<string, AttributeValue>;
  groupId?: string;
  dedupId?: string;
  senderId: string;
  /** Bytes the message attributes count towards the size limit (for SentMessageSize). */
  attrsSize?: number;
}

export interface SendResult {
  MessageId: string;
  MD5OfMessageBody: string;
  MD5OfMessageAttributes?: string;
  MD5OfMessageSystemAttributes?: string;
  SequenceNumber?: string;
}

export interface Received {
  meta: QueueMeta;
  msg: StoredMessage;
  receiptHandle: string;
}

const QUEUES = 'sqs:q';
const DELETED = 'sqs:deleted';
const SEQ = 'sqs:seq';
const DEDUP_WINDOW_MS = 5 * 60 * 1000;
const MAX_SEQ_SCAN = 1_000_000;

export const storeName = (arn: string) => `sqs:${arn}`;
const expiryNs = (arn: string) => `sqs:x:${arn}`;
const dedupNs = (arn: string) => `sqs:d:${arn}`;
/** Deduplication entries by time, so expired ones are dropped as new ones arrive. */
const dedupTimeNs = (arn: string) => `sqs:dt:${arn}`;
const queueKey = (account: string, region: string, name: string) => Buffer.from(`${account}:${region}:${name}`);

function expiryKey(at: number, id: string): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(at))));
  return Buffer.concat([b, Buffer.from(id)]);
}

/** Receipt handles are opaque to clients: queue ARN, message id and the receive's nonce. */
export function encodeReceipt(arn: string, id: string, nonce: string): string {
  return Buffer.from(`${arn}\n${id}\n${nonce}`).toString('base64');
}
export function decodeReceipt(handle: string): { arn: string; id: string; nonce: string } | undefined {
  if (!/^[A-Za-z0-9+/=]+$/.test(handle)) return undefined;
  const parts = Buffer.from(handle, 'base64').toString('utf8').split('\n');
  if (parts.length !== 3 || !parts[0].startsWith('arn:')) return undefined;
  return { arn: parts[0], id: parts[1], nonce: parts[2] };
}

type Waiter = () => void;

/**
 * The SQS engine: queue metadata, the message store (storage.queue, visibility-ordered), expiry,
 * dead-letter moves, FIFO groups and deduplication, and long-poll wake-ups. Synchronous except
 * for `waitFor`; every mutation runs inside `storage.tx` by its caller or itself.
 */
export class SqsEngine {
  private waiters = new Map<string, Set<Waiter>>();
  private attempts = new Map<string, { at: number; handles: Received[] }>();
  private stopped = false;
  private stopHooks = new Set<() => void>();
  /**
   * When each delayed message becomes visible, per queue ARN (ApproximateNumberOfMessagesDelayed):
   * kept in memory so a gauge never reads message bodies; rebuilt by one scan per queue after a start.
   */
  private delayed = new Map<string, number[]>();
  private delayedKnown = new Set<string>();

  constructor(
    readonly storage: Storage,
    readonly clock: Clock,
    readonly logger: Logger,
    /** AWS/SQS metrics (CloudWatch), when wired. */
    readonly metrics?: MetricsPort,
  ) {
    storage.onReset(() => {
      this.delayed.clear();
      this.delayedKnown.clear();
    });
  }

  /** Record AWS/SQS metrics of one queue (summed in memory per minute by CloudWatch). */
  metric(meta: QueueMeta, data: MetricDatum[]): void {
    if (!this.metrics) return;
    for (const d of data) d.Dimensions = [{ Name: 'QueueName', Value: meta.name }];
    this.metrics.put(meta.account, meta.region, 'AWS/SQS', data);
  }

  // ---- queues ----

  getQueue(account: string, region: string, name: string): QueueMeta | undefined {
    const raw = this.storage.kv.get(QUEUES, queueKey(account, region, name));
    return raw ? (JSON.parse(raw) as QueueMeta) : undefined;
  }
  getQueueByArn(arn: string): QueueMeta | undefined {
    const m = /^arn:aws[\w-]*:sqs:([^:]+):(\d{12}):(.+)$/.exec(arn);
    return m ? this.getQueue(m[2], m[1], m[3]) : undefined;
  }
  requireQueue(account: string, region: string, name: string): QueueMeta {
    const q = this.getQueue(account, region, name);
    if (!q) throw queueDoesNotExist();
    return q;
  }
  putQueue(meta: QueueMeta): void {
    this.storage.kv.put(QUEUES, queueKey(meta.account, meta.region, meta.name), JSON.stringify(meta));
  }
  listQueues(account: string, region: string, prefix: string, after: string | undefined, limit: number): QueueMeta[] {
    const base = `${account}:${region}:`;
    const out: QueueMeta[] = [];
    const gte = Buffer.from(base + prefix);
    for (const [k, v] of this.storage.kv.range(QUEUES, after ? { gt: Buffer.from(base + after) } : { gte })) {
      const key = k.toString();
      if (!key.startsWith(base + prefix)) break;
      out.push(JSON.parse(v) as QueueMeta);
      if (out.length >= limit) break;
    }
    return out;
  }
  deletedRecently(account: string, region: string, name: string): boolean {
    const raw = this.storage.kv.get(DELETED, queueKey(account, region, name));
    return raw !== undefined && Number(raw) + 60_000 > this.clock.now();
  }
  deleteQueue(meta: QueueMeta): void {
    this.storage.tx(() => {
      this.storage.kv.delete(QUEUES, queueKey(meta.account, meta.region, meta.name));
      this.storage.kv.put(DELETED, queueKey(meta.account, meta.region, meta.name), String(this.clock.now()));
      this.dropMessages(meta);
      this.storage.kv.drop(dedupNs(meta.arn));
      this.storage.kv.drop(dedupTimeNs(meta.arn));
      this.storage.kv.delete(SEQ, Buffer.from(meta.arn));
    });
    this.wake(meta.arn);
  }
  purge(meta: QueueMeta): void {
    this.storage.tx(() => this.dropMessages(meta));
  }
  private dropMessages(meta: QueueMeta) {
    this.storage.queue.purge(storeName(meta.arn));
    this.storage.kv.drop(expiryNs(meta.arn));
    this.delayed.delete(meta.arn);
    this.delayedKnown.add(meta.arn);
  }

  // ---- counts ----

  counts(meta: QueueMeta, want: { notVisible: boolean; delayed: boolean }) {
    this.sweep(meta);
    const now = this.clock.now();
    const { total, visible } = this.storage.queue.count(storeName(meta.arn), now);
    let notVisible = 0;
    let delayed = 0;
    if (want.notVisible || want.delayed) {
      for (const row of this.storage.queue.visible(storeName(meta.arn), Number.MAX_SAFE_INTEGER, MAX_SEQ_SCAN)) {
        if (row.visibleAt <= now) continue;
        const m = JSON.parse(row.data) as StoredMessage;
        if (m.rc > 0) notVisible++;
        else delayed++;
      }
    }
    return { visible, notVisible, delayed, total };
  }

  /**
   * The AWS/SQS queue-depth gauges CloudWatch samples once a minute: per queue one count query
   * (visible / total), the oldest message through the expiry index (one key, one row), and delayed
   * messages from memory. Grouped per account and region.
   */
  depthGauges(): GaugeSample[] {
    const now = this.clock.now();
    const out = new Map<string, GaugeSample>();
    for (const [, raw] of this.storage.kv.range(QUEUES)) {
      const meta = JSON.parse(raw) as QueueMeta;
      this.sweep(meta);
      const { total, visible } = this.storage.queue.count(storeName(meta.arn), now);
      const hidden = total - visible;
      const delayed = Math.min(hidden, this.delayedCount(meta, now, hidden));
      const dims = [{ Name: 'QueueName', Value: meta.name }];
      const scope = `${meta.account}:${meta.region}`;
      let g = out.get(scope);
      if (!g)
        out.set(scope, (g = { accountId: meta.account, region: meta.region, namespace: 'AWS/SQS', metricData: [] }));
      g.metricData.push(
        { MetricName: 'ApproximateNumberOfMessagesVisible', Value: visible, Unit: 'Count', Dimensions: dims },
        {
          MetricName: 'ApproximateNumberOfMessagesNotVisible',
          Value: hidden - delayed,
          Unit: 'Count',
          Dimensions: dims,
        },
        { MetricName: 'ApproximateNumberOfMessagesDelayed', Value: delayed, Unit: 'Count', Dimensions: dims },
        {
          MetricName: 'ApproximateAgeOfOldestMessage',
          Value: total ? this.oldestAgeSeconds(meta, now) : 0,
          Unit: 'Seconds',
          Dimensions: dims,
        },
      );
    }
    return [...out.values()];
  }

  /** Delayed messages still hidden at `now` (the first call per queue after a start scans it once). */
  private delayedCount(meta: QueueMeta, now: number, hidden: number): number {
    let list = this.delayed.get(meta.arn);
    if (!this.delayedKnown.has(meta.arn)) {
      this.delayedKnown.add(meta.arn);
      list = [];
      if (hidden > 0)
        for (const row of this.storage.queue.visible(storeName(meta.arn), Number.MAX_SAFE_INTEGER, MAX_SEQ_SCAN))
          if (row.visibleAt > now && (JSON.parse(row.data) as StoredMessage).rc === 0) list.push(row.visibleAt);
    }
    if (!list?.length) {
      this.delayed.delete(meta.arn);
      return 0;
    }
    list = list.filter((t) => t > now);
    if (list.length) this.delayed.set(meta.arn, list);
    else this.delayed.delete(meta.arn);
    return list.length;
  }

  /** Seconds since the oldest message was sent: the earliest expiry is the oldest message (same retention). */
  private oldestAgeSeconds(meta: QueueMeta, now: number): number {
    for (const [k] of this.storage.kv.range(expiryNs(meta.arn), { limit: 1 })) {
      const row = this.storage.queue.get(storeName(meta.arn), k.subarray(8).toString());
      if (!row) return 0;
      return Math.max(0, Math.floor((now - (JSON.parse(row.data) as StoredMessage).sent) / 1000));
    }
    return 0;
  }

  // ---- send ----

  /** Validate nothing (the caller did); write one message. Call inside a tx; wakes pollers after commit. */
  send(meta: QueueMeta, input: SendInput): SendResult {
    const now = this.clock.now();
    const id = randomUUID();
    const md5b = md5Hex(Buffer.from(input.body, 'utf8'));
    const md5a = input.attrs && Object.keys(input.attrs).length ? md5OfAttributes(input.attrs) : undefined;
    const md5s = input.sys && Object.keys(input.sys).length ? md5OfAttributes(input.sys) : undefined;
    let seqNo: string | undefined;
    let dedup: string | undefined;
    if (meta.fifo) {
      dedup = input.dedupId ?? createHash('sha256').update(input.body, 'utf8').digest('hex');
      const scope = meta.attributes.DeduplicationScope === 'messageGroup' ? `${input.groupId}\u0000${dedup}` : dedup;
      const dk = Buffer.from(scope);
      const prior = this.storage.kv.get(dedupNs(meta.arn), dk);
      if (prior) {
        const p = JSON.parse(prior) as { at: number; id: string; seqNo: string };
        if (p.at + DEDUP_WINDOW_MS > now) {
          // A duplicate within the window: accepted, not enqueued; the original's id comes back.
          return {
            MessageId: p.id,
            MD5OfMessageBody: md5b,
            MD5OfMessageAttributes: md5a,
            MD5OfMessageSystemAttributes: md5s,
            SequenceNumber: p.seqNo,
          };
        }
      }
      seqNo = this.nextSequence(meta.arn);
      this.storage.kv.put(dedupNs(meta.arn), dk, JSON.stringify({ at: now, id, seqNo }));
      this.storage.kv.put(dedupTimeNs(meta.arn), expiryKey(now, scope), '');
      this.dropExpiredDedup(meta.arn, now);
    }
    const delay = (input.delaySeconds ?? Number(meta.attributes.DelaySeconds ?? 0)) * 1000;
    const msg: StoredMessage = {
      id,
      body: input.body,
      md5b,
      sent: now,
      expires: now + Number(meta.attributes.MessageRetentionPeriod ?? 345600) * 1000,
      rc: 0,
      sender: input.senderId,
    };
    if (md5a) msg.attrs = toStored(input.attrs!);
    if (md5s) {
      msg.sys = toStored(input.sys!);
      msg.md5s = md5s;
    }
    if (md5a) msg.md5a = md5a;
    if (input.groupId !== undefined) msg.group = input.groupId;
    if (dedup !== undefined) msg.dedup = dedup;
    if (seqNo) msg.seqNo = seqNo;
    this.write(meta, msg, now + delay);
    if (delay > 0) {
      const list = this.delayed.get(meta.arn);
      if (list) list.push(now + delay);
      else this.delayed.set(meta.arn, [now + delay]);
    }
    this.metric(meta, [
      { MetricName: 'NumberOfMessagesSent', Value: 1, Unit: 'Count' },
      {
        MetricName: 'SentMessageSize',
        Value: Buffer.byteLength(input.body, 'utf8') + (input.attrsSize ?? 0),
        Unit: 'Bytes',
      },
    ]);
    return {
      MessageId: id,
      MD5OfMessageBody: md5b,
      MD5OfMessageAttributes: md5a,
      MD5OfMessageSystemAttributes: md5s,
      SequenceNumber: seqNo,
    };
  }

  private dropExpiredDedup(arn: string, now: number) {
    const tns = dedupTimeNs(arn);
    for (const [k] of [...this.storage.kv.range(tns, { lt: expiryKey(now - DEDUP_WINDOW_MS, ''), limit: 100 })]) {
      this.storage.kv.delete(tns, k);
      const dk = k.subarray(8);
      const cur = this.storage.kv.get(dedupNs(arn), dk);
      if (cur && (JSON.parse(cur) as { at: number }).at + DEDUP_WINDOW_MS <= now)
        this.storage.kv.delete(dedupNs(arn), dk);
    }
  }

  private write(meta: QueueMeta, msg: StoredMessage, visibleAt: number) {
    this.storage.queue.push(storeName(meta.arn), msg.id, visibleAt, JSON.stringify(msg));
    this.storage.kv.put(expiryNs(meta.arn), expiryKey(msg.expires, msg.id), '');
    queueMicrotask(() => this.wake(meta.arn));
  }

  private nextSequence(arn: string): string {
    const k = Buffer.from(arn);
    const n = BigInt(this.storage.kv.get(SEQ, k) ?? '0') + 1n;
    this.storage.kv.put(SEQ, k, String(n));
    return String(18_000_000_000_000_000_000n + n);
  }

  // ---- expiry ----

  /** Drop messages past their retention period. */
  sweep(meta: QueueMeta): void {
    const now = this.clock.now();
    const ns = expiryNs(meta.arn);
    const due = [...this.storage.kv.range(ns, { lte: expiryKey(now, '\uffff'), limit: 10_000 })];
    if (!due.length) return;
    this.storage.tx(() => {
      for (const [k] of due) {
        this.storage.kv.delete(ns, k);
        this.storage.queue.remove(storeName(meta.arn), k.subarray(8).toString());
      }
    });
  }

  // ---- receive ----

  receive(meta: QueueMeta, max: number, visibilitySeconds: number, attemptId?: string): Received[] {
    this.sweep(meta);
    const now = this.clock.now();
    if (attemptId) {
      const key = `${meta.arn}\n${attemptId}`;
      const prior = this.attempts.get(key);
      if (prior && prior.at + DEDUP_WINDOW_MS > now) {
        const still = prior.handles.filter((r) => {
          const row = this.storage.queue.get(storeName(meta.arn), r.msg.id);
          return row && (JSON.parse(row.data) as StoredMessage).rn === decodeReceipt(r.receiptHandle)?.nonce;
        });
        if (still.length === prior.handles.length && still.length) return still;
      }
    }
    const policy = meta.attributes.RedrivePolicy
      ? (JSON.parse(meta.attributes.RedrivePolicy) as RedrivePolicy)
      : undefined;
    const out: Received[] = [];
    this.storage.tx(() => {
      const rows = meta.fifo
        ? this.fifoCandidates(meta, now, max)
        : this.storage.queue.visible(storeName(meta.arn), now, max * 2 + 10);
      for (const row of rows) {
        if (out.length >= max) break;
        const msg = JSON.parse(row.data) as StoredMessage;
        if (policy && msg.rc >= policy.maxReceiveCount && this.moveToDlq(meta, msg, policy.deadLetterTargetArn))
          continue;
        msg.rc++;
        msg.first ??= now;
        msg.rn = randomBytes(12).toString('hex');
        this.storage.queue.update(storeName(meta.arn), msg.id, now + visibilitySeconds * 1000, JSON.stringify(msg));
        out.push({ meta, msg, receiptHandle: encodeReceipt(meta.arn, msg.id, msg.rn) });
      }
    });
    if (attemptId && out.length) {
      if (this.attempts.size > 10_000)
        for (const [k, v] of this.attempts) if (v.at + DEDUP_WINDOW_MS <= now) this.attempts.delete(k);
      this.attempts.set(`${meta.arn}\n${attemptId}`, { at: now, handles: out });
    }
    if (out.length) this.metric(meta, [{ MetricName: 'NumberOfMessagesReceived', Value: out.length, Unit: 'Count' }]);
    // Other long polls re-arm their timer for when these messages become visible again.
    if (out.length && this.waiters.has(meta.arn)) queueMicrotask(() => this.wake(meta.arn));
    return out;
  }

  /** FIFO: messages in send order, at most one in-flight batch per group; locked groups are skipped. */
  private fifoCandidates(meta: QueueMeta, now: number, max: number) {
    const rows = this.storage.queue.visible(storeName(meta.arn), Number.MAX_SAFE_INTEGER, MAX_SEQ_SCAN);
    rows.sort((a, b) => a.seq - b.seq);
    const locked = new Set<string>();
    const picked: typeof rows = [];
    let firstGroup: string | undefined;
    for (const row of rows) {
      const msg = JSON.parse(row.data) as StoredMessage;
      const g = msg.group ?? '';
      if (row.visibleAt > now || msg.expires <= now) {
        locked.add(g);
        continue;
      }
      if (locked.has(g)) continue;
      firstGroup ??= g;
      picked.push(row);
    }
    // Prefer messages of one group together, as SQS does, then the rest in order.
    const first = picked.filter((r) => (JSON.parse(r.data) as StoredMessage).group === firstGroup);
    const rest = picked.filter((r) => (JSON.parse(r.data) as StoredMessage).group !== firstGroup);
    return [...first, ...rest].slice(0, max * 2 + 10);
  }

  /** Move a message that exceeded maxReceiveCount; false when the DLQ is missing (it stays). */
  private moveToDlq(meta: QueueMeta, msg: StoredMessage, dlqArn: string): boolean {
    const dlq = this.getQueueByArn(dlqArn);
    if (!dlq) {
      this.logger.warn('sqs: dead-letter queue missing; message stays', { queue: meta.arn, dlq: dlqArn });
      return false;
    }
    this.removeMessage(meta, msg);
    // The expiry stays based on the original enqueue time, with the DLQ's retention period (as AWS).
    const retention = Number(dlq.attributes.MessageRetentionPeriod ?? 345600) * 1000;
    const moved: StoredMessage = {
      ...msg,
      rc: 0,
      first: undefined,
      rn: undefined,
      dlqSource: meta.arn,
      expires: msg.sent + retention,
    };
    if (dlq.fifo) moved.seqNo = this.nextSequence(dlq.arn);
    this.write(dlq, moved, this.clock.now());
    return true;
  }

  /**
   * DLQ redrive (StartMessageMoveTask): move every message of `src` to `dest`, or back to the queue
   * each came from. Messages whose destination is gone stay. Returns how many moved.
   */
  redrive(src: QueueMeta, dest: QueueMeta | undefined): { moved: number; total: number } {
    let moved = 0;
    const rows = this.storage.queue
      .visible(storeName(src.arn), Number.MAX_SAFE_INTEGER, MAX_SEQ_SCAN)
      .sort((a, b) => a.seq - b.seq);
    this.storage.tx(() => {
      for (const row of rows) {
        const msg = JSON.parse(row.data) as StoredMessage;
        const target = dest ?? (msg.dlqSource ? this.getQueueByArn(msg.dlqSource) : undefined);
        if (!target) continue;
        this.removeMessage(src, msg);
        const retention = Number(target.attributes.MessageRetentionPeriod ?? 345600) * 1000;
        const back: StoredMessage = {
          ...msg,
          rc: 0,
          first: undefined,
          rn: undefined,
          dlqSource: undefined,
          expires: this.clock.now() + retention,
        };
        if (target.fifo) back.seqNo = this.nextSequence(target.arn);
        this.write(target, back, this.clock.now());
        moved++;
      }
    });
    return { moved, total: rows.length };
  }

  private removeMessage(meta: QueueMeta, msg: StoredMessage) {
    this.storage.queue.remove(storeName(meta.arn), msg.id);
    this.storage.kv.delete(expiryNs(meta.arn), expiryKey(msg.expires, msg.id));
  }

  // ---- receipts ----

  /** Delete by receipt handle. Unknown (already deleted) messages succeed, as in SQS. */
  deleteMessage(meta: QueueMeta, handle: string): void {
    const r = this.receipt(meta, handle);
    // As SQS: every delete with a valid receipt handle counts, repeated ones too.
    this.metric(meta, [{ MetricName: 'NumberOfMessagesDeleted', Value: 1, Unit: 'Count' }]);
    const row = this.storage.queue.get(storeName(meta.arn), r.id);
    if (!row) return;
    this.storage.tx(() => this.removeMessage(meta, JSON.parse(row.data) as StoredMessage));
    if (meta.fifo) queueMicrotask(() => this.wake(meta.arn));
  }

  changeVisibility(meta: QueueMeta, handle: string, seconds: number): void {
    const r = this.receipt(meta, handle);
    const now = this.clock.now();
    const row = this.storage.queue.get(storeName(meta.arn), r.id);
    const msg = row && (JSON.parse(row.data) as StoredMessage);
    if (!row || !msg || msg.rc === 0 || row.visibleAt <= now) {
      throw sqsError('MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.');
    }
    if (seconds < 0 || seconds > 43200) {
      throw invalidParameter(
        `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`,
      );
    }
    this.storage.queue.update(storeName(meta.arn), r.id, now + seconds * 1000);
    queueMicrotask(() => this.wake(meta.arn));
  }

  private receipt(meta: QueueMeta, handle: string) {
    const r = decodeReceipt(handle);
    if (!r || r.arn !== meta.arn) {
      throw sqsError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`);
    }
    return r;
  }

  // ---- long polling ----

  /** Wake long polls on this queue (new message, message visible again, queue deleted). */
  wake(arn: string): void {
    const set = this.waiters.get(arn);
    if (!set) return;
    for (const w of [...set]) w();
  }

  /**
   * Resolve with messages as soon as some are receivable, or [] at the deadline. Woken by sends and
   * by a clock timer at the next time a hidden message becomes visible: no polling loop.
   */
  waitFor(meta: QueueMeta, waitSeconds: number, attempt: () => Received[]): Promise<Received[]> {
    return new Promise((resolve) => {
      let set = this.waiters.get(meta.arn);
      if (!set) this.waiters.set(meta.arn, (set = new Set()));
      let nextTimer: Timer | undefined;
      let done = false;
      const finish = (r: Received[]) => {
        if (done) return;
        done = true;
        set!.delete(tryNow);
        if (!set!.size) this.waiters.delete(meta.arn);
        nextTimer?.cancel();
        deadline.cancel();
        this.stopHooks.delete(onStop);
        resolve(r);
      };
      const arm = () => {
        nextTimer?.cancel();
        const next = this.storage.queue.nextVisibleAfter(storeName(meta.arn), this.clock.now());
        nextTimer = next !== undefined ? this.clock.at(next, tryNow) : undefined;
      };
      const tryNow = () => {
        if (done) return;
        if (this.stopped) return finish([]);
        let r: Received[];
        try {
          if (!this.getQueueByArn(meta.arn)) return finish([]);
          r = attempt();
        } catch (e) {
          this.logger.error('sqs: long poll failed', { error: String(e) });
          return finish([]);
        }
        if (r.length) finish(r);
        else arm();
      };
      const onStop = () => finish([]);
      this.stopHooks.add(onStop);
      set.add(tryNow);
      const deadline = this.clock.after(waitSeconds * 1000, () => finish([]));
      arm();
    });
  }

  stop(): void {
    this.stopped = true;
    for (const h of [...this.stopHooks]) h();
  }
}

function toStored(attrs: Record<string, AttributeValue>): Record<string, StoredAttr> {
  const out: Record<string, StoredAttr> = {};
  for (const [k, v] of Object.entries(attrs)) {
    const s: StoredAttr = { DataType: v.DataType };
    if (v.StringValue !== undefined) s.StringValue = v.StringValue;
    if (v.BinaryValue !== undefined) s.BinaryValue = v.BinaryValue.toString('base64');
    out[k] = s;
  }
  return out;
}
