/**
 * One SQS mapping at work: pollers (ScalingConfig.MaximumConcurrency, default 5) long-poll the
 * queue through SQS's own receive (woken by sends), gather a batch (BatchSize, batching window,
 * 6 MB), drop filtered-out messages (deleted, as AWS does), invoke, and delete what succeeded.
 * Failed messages stay hidden until their visibility timeout ends and come back; SQS's redrive
 * policy moves them to the dead-letter queue after maxReceiveCount. FIFO queues keep each message
 * group in order: SQS hands out one in-flight batch per group, and a failure keeps the rest of that
 * group's messages in the batch too.
 */
import { randomUUID } from 'node:crypto';
import { type CompiledPattern, compilePattern, lambdaData, matches } from '../../../core/pattern/index.ts';
import { MAX_PAYLOAD, type WorkerContext } from './stream-worker.ts';
import type { MappingRecord, QueueMessage, QueueSource } from './types.ts';

const DEFAULT_POLLERS = 5;
const LONG_POLL_SECONDS = 20;
const RETRY_RECEIVE_MS = 5_000;

export class QueueMappingWorker {
  private stopped = false;
  private draining = false;
  private readonly filters: CompiledPattern[];
  private readonly pollers = new Set<Promise<void>>();
  private readonly processing = new Set<Promise<void>>();
  private active = 0;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly m: MappingRecord,
    private readonly src: QueueSource,
  ) {
    this.filters = (m.filters ?? []).map((p) => compilePattern(p, 'lambda'));
  }

  get busy(): boolean {
    return this.active > 0;
  }

  start(): void {
    const n = this.m.maxConcurrency ?? DEFAULT_POLLERS;
    for (let i = 0; i < n; i++) {
      const p = this.poll().catch((e) => {
        if (!this.stopped)
          this.ctx.logger.error('event source mapping: SQS poller failed', {
            uuid: this.m.uuid,
            error: e instanceof Error ? (e.stack ?? e.message) : String(e),
          });
      });
      this.pollers.add(p);
      void p.finally(() => this.pollers.delete(p));
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Finish the batches being invoked; pollers still waiting in a long poll are not waited for (any
   * messages they get are made visible again at once).
   */
  async drain(): Promise<void> {
    this.draining = true;
    while (this.processing.size) await Promise.allSettled([...this.processing]);
  }

  private get done(): boolean {
    return this.stopped || this.draining;
  }

  private async poll(): Promise<void> {
    const arn = this.m.eventSourceArn;
    while (!this.done) {
      let batch: QueueMessage[];
      try {
        batch = await this.src.receive(arn, Math.min(10, this.m.batchSize), LONG_POLL_SECONDS);
      } catch (e) {
        // The queue is gone or refuses us: report it and try again later (on the clock).
        this.ctx.result(this.m.uuid, `PROBLEM: ${e instanceof Error ? e.message : String(e)}`);
        await new Promise<void>((r) => this.ctx.clock.after(RETRY_RECEIVE_MS, r));
        continue;
      }
      if (this.stopped) return;
      if (this.draining) {
        if (batch.length)
          this.src.release(
            arn,
            batch.map((x) => x.receiptHandle),
          );
        return;
      }
      if (!batch.length) continue;
      // Gather more until the batch is full, the window ends, or 6 MB is reached.
      const deadline = this.ctx.clock.now() + this.m.windowSeconds * 1000;
      let bytes = batch.reduce((n, x) => n + approxSize(x), 0);
      while (batch.length < this.m.batchSize && bytes < MAX_PAYLOAD - 300_000 && !this.done) {
        const left = deadline - this.ctx.clock.now();
        if (left <= 0) break;
        const more = await this.src
          .receive(
            arn,
            Math.min(10, this.m.batchSize - batch.length),
            Math.min(LONG_POLL_SECONDS, Math.ceil(left / 1000)),
          )
          .catch(() => [] as QueueMessage[]);
        if (!more.length && this.ctx.clock.now() < deadline) {
          // An empty long poll that ended early (the queue was purged or deleted): stop gathering.
          break;
        }
        batch = batch.concat(more);
        bytes += more.reduce((n, x) => n + approxSize(x), 0);
      }
      if (this.stopped) return;
      if (this.draining) {
        this.src.release(
          arn,
          batch.map((x) => x.receiptHandle),
        );
        return;
      }
      this.active++;
      const p = this.process(batch);
      this.processing.add(p);
      try {
        await p;
      } finally {
        this.processing.delete(p);
        this.active--;
      }
    }
  }

  private record(x: QueueMessage): Record<string, unknown> {
    const messageAttributes: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x.messageAttributes ?? {})) {
      const a: Record<string, unknown> = {};
      if (v.StringValue !== undefined) a.stringValue = v.StringValue;
      if (v.BinaryValue !== undefined) a.binaryValue = v.BinaryValue;
      a.stringListValues = [];
      a.binaryListValues = [];
      a.dataType = v.DataType;
      messageAttributes[k] = a;
    }
    const out: Record<string, unknown> = {
      messageId: x.messageId,
      receiptHandle: x.receiptHandle,
      body: x.body,
      attributes: x.attributes,
      messageAttributes,
    };
    if (x.md5OfMessageAttributes) out.md5OfMessageAttributes = x.md5OfMessageAttributes;
    out.md5OfBody = x.md5OfBody;
    out.eventSource = 'aws:sqs';
    out.eventSourceARN = this.m.eventSourceArn;
    out.awsRegion = this.m.region;
    return out;
  }

  private async process(batch: QueueMessage[]): Promise<void> {
    const arn = this.m.eventSourceArn;
    const records = batch.map((x) => ({ msg: x, record: this.record(x) }));
    let keep = records;
    if (this.filters.length) {
      keep = records.filter((r) => this.filters.some((p) => matches(p, { ...r.record, body: lambdaData(r.msg.body) })));
      const dropped = records.filter((r) => !keep.includes(r));
      if (dropped.length)
        this.src.delete(
          arn,
          dropped.map((r) => r.msg.receiptHandle),
        );
    }
    if (!keep.length) return;
    const payload = Buffer.from(JSON.stringify({ Records: keep.map((r) => r.record) }));
    let failedIds: Set<string> | 'all';
    try {
      const out = await this.ctx.invoke(this.m.functionArn, payload, {
        accountId: this.m.accountId,
        region: this.m.region,
      });
      if (this.stopped) return;
      this.ctx.metrics.invocation(this.m.functionArn, this.m.uuid, !out.FunctionError);
      if (out.FunctionError) {
        failedIds = 'all';
        this.ctx.result(this.m.uuid, 'PROBLEM: Function call failed');
      } else {
        failedIds = this.m.reportBatchItemFailures
          ? itemFailures(
              out.Payload,
              keep.map((r) => r.msg.messageId),
            )
          : new Set();
        this.ctx.result(this.m.uuid, 'OK');
      }
    } catch (e) {
      if (this.stopped) return;
      this.ctx.logger.warn(
        'event source mapping: SQS batch not invoked; messages return after their visibility timeout',
        {
          uuid: this.m.uuid,
          error: e instanceof Error ? e.message : String(e),
          requestId: randomUUID(),
        },
      );
      failedIds = 'all';
    }
    if (failedIds === 'all') return; // nothing deleted: every message comes back after its visibility timeout
    const fifo = this.src.isFifo(arn);
    const blockedGroups = new Set<string>();
    const toDelete: string[] = [];
    for (const r of keep) {
      const group = r.msg.attributes.MessageGroupId;
      const failed = failedIds.has(r.msg.messageId) || (fifo && group !== undefined && blockedGroups.has(group));
      if (failed) {
        if (fifo && group !== undefined) blockedGroups.add(group);
        continue;
      }
      toDelete.push(r.msg.receiptHandle);
    }
    if (toDelete.length) this.src.delete(arn, toDelete);
  }
}

function approxSize(x: QueueMessage): number {
  return x.body.length + x.receiptHandle.length + 400;
}

/** SQS ReportBatchItemFailures: the failed message ids, or 'all' when the response is malformed. */
export function itemFailures(payload: Buffer | undefined, ids: string[]): Set<string> | 'all' {
  if (!payload?.length) return new Set();
  let resp: unknown;
  try {
    resp = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'all';
  }
  if (resp === null || resp === undefined) return new Set();
  if (typeof resp !== 'object' || Array.isArray(resp)) return 'all';
  const list = (resp as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === null || list === undefined) return new Set();
  if (!Array.isArray(list)) return 'all';
  const out = new Set<string>();
  for (const item of list) {
    const id = item && typeof item === 'object' ? (item as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || !id || !ids.includes(id)) return 'all';
    out.add(id);
  }
  return out;
}
