/**
 * The sources and destinations of Lambda event source mappings, over the other services' in-process
 * APIs: DynamoDB Streams read straight from its ordered log (with its wake-ups), and on-failure
 * destinations through the one delivery path (the transactional outbox).
 */

import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { RequestContext } from '../core/context.ts';
import type { MetricsPort } from '../core/ports.ts';
import type { ServiceImpl } from '../gateway/service.ts';
import type { DynamoDbStreams } from '../services/dynamodbstreams/index.ts';
import { recordFromRow } from '../services/dynamodbstreams/records.ts';
import type {
  DestinationPort,
  EsmMetrics,
  ObjectDestination,
  QueueMessage,
  QueueSource,
  SourceRecord,
  StreamSource,
} from '../services/lambda/esm/types.ts';
import type { DeliveryPort } from '../services/sns/ports.ts';

const STREAM_ARN = /^arn:aws[\w-]*:dynamodb:[^:]+:\d{12}:table\/[^/]+\/stream\/.+$/;

/** DynamoDB Streams as a stream source: shards, positions, records as Lambda receives them. */
export function dynamodbStreamSource(streams: DynamoDbStreams, retentionMs = 24 * 3_600_000): StreamSource {
  const { logs } = streams;
  return {
    kind: 'dynamodb',
    retentionMs,
    accepts: (arn) => STREAM_ARN.test(arn),
    exists: (arn, now) => logs.get(arn, now) !== undefined,
    shards(arn, now) {
      const meta = logs.get(arn, now);
      if (!meta) return undefined;
      return meta.shards.map((s) => ({
        shardId: s.shardId,
        parents: s.parents,
        endSeq: s.endSeq !== undefined ? BigInt(s.endSeq) : undefined,
      }));
    },
    trimHorizon: (arn, shardId, now) => logs.trimHorizon(arn, shardId, now),
    latest: (arn, shardId) => logs.latest(arn, shardId),
    read(arn, shardId, from, limit, now) {
      const out: SourceRecord[] = [];
      for (const row of logs.read(arn, shardId, from, limit, now)) {
        const r = recordFromRow(row);
        const record = { ...r, eventSourceARN: arn } as Record<string, unknown>;
        const text = JSON.stringify(record);
        out.push({
          seq: row.seq,
          at: row.at,
          record,
          json: text,
          size: Buffer.byteLength(text),
          key: keyOf(r.dynamodb.Keys),
          sequenceNumber: r.dynamodb.SequenceNumber,
        });
      }
      return out;
    },
    subscribe: (arn, cb) => logs.subscribe(arn, undefined, (e) => cb(e.shardId)),
  };
}

/** The item key, canonical (attribute names sorted) so one item always lands in one lane. */
function keyOf(keys: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(keys)
      .sort()
      .map((k) => [k, keys[k]]),
  );
}

/**
 * SQS as a queue source, through the SQS service's own operations in process (its long polls are
 * woken by sends; its receive applies visibility and the redrive policy).
 */
export function sqsQueueSource(sqs: ServiceImpl, clock: Clock): QueueSource {
  const parse = (arn: string) => {
    const m = /^arn:aws[\w-]*:sqs:([^:]+):(\d{12}):(.+)$/.exec(arn);
    if (!m) throw new Error(`not an SQS queue ARN: ${arn}`);
    return { region: m[1], accountId: m[2], name: m[3] };
  };
  const call = async (operation: string, arn: string, input: Record<string, unknown>) => {
    const q = parse(arn);
    const ctx: RequestContext = {
      requestId: randomUUID(),
      accountId: q.accountId,
      region: q.region,
      service: 'sqs',
      operation,
      clock,
      endpoint: 'http://eddy.internal',
    };
    return (await sqs.operations[operation]({ QueueUrl: `/${q.accountId}/${q.name}`, ...input }, ctx)) as Record<
      string,
      unknown
    >;
  };
  const callSync = (operation: string, arn: string, input: Record<string, unknown>) => {
    void call(operation, arn, input).catch(() => {
      // A queue deleted meanwhile: nothing to delete or release.
    });
  };
  const attributes = (arn: string): Record<string, string> | undefined => {
    let out: Record<string, string> | undefined;
    const q = parse(arn);
    const r = sqs.operations.GetQueueAttributes(
      { QueueUrl: `/${q.accountId}/${q.name}`, AttributeNames: ['All'] },
      {
        requestId: randomUUID(),
        accountId: q.accountId,
        region: q.region,
        service: 'sqs',
        operation: 'GetQueueAttributes',
        clock,
        endpoint: 'http://eddy.internal',
      },
    ) as { Attributes?: Record<string, string> } | Promise<unknown>;
    if (!(r instanceof Promise)) out = r.Attributes;
    return out;
  };
  const safeAttributes = (arn: string) => {
    try {
      return attributes(arn);
    } catch {
      return undefined;
    }
  };
  return {
    accepts: (arn) => /^arn:aws[\w-]*:sqs:/.test(arn),
    exists: (arn) => safeAttributes(arn) !== undefined,
    isFifo: (arn) => arn.endsWith('.fifo'),
    visibilityTimeout: (arn) => Number(safeAttributes(arn)?.VisibilityTimeout ?? 30),
    async receive(arn, max, waitSeconds) {
      const out = await call('ReceiveMessage', arn, {
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      });
      return ((out.Messages as Record<string, unknown>[] | undefined) ?? []).map(
        (x): QueueMessage => ({
          messageId: x.MessageId as string,
          receiptHandle: x.ReceiptHandle as string,
          body: x.Body as string,
          md5OfBody: x.MD5OfBody as string,
          md5OfMessageAttributes: x.MD5OfMessageAttributes as string | undefined,
          attributes: (x.Attributes as Record<string, string>) ?? {},
          messageAttributes: (x.MessageAttributes as QueueMessage['messageAttributes']) ?? {},
        }),
      );
    },
    delete(arn, handles) {
      for (const h of handles) callSync('DeleteMessage', arn, { ReceiptHandle: h });
    },
    release(arn, handles) {
      for (const h of handles) callSync('ChangeMessageVisibility', arn, { ReceiptHandle: h, VisibilityTimeout: 0 });
    },
  };
}

/** On-failure destinations through the delivery path: SQS queues and SNS topics. */
export function outboxDestinations(delivery: DeliveryPort): DestinationPort {
  return {
    accepts: (target) => /^arn:aws[\w-]*:(sqs|sns):/.test(target),
    send(target, body, origin) {
      delivery.deliver(target, { body, origin });
    },
  };
}

/**
 * Mapping metrics into CloudWatch: `AWS/Lambda` `IteratorAge` (ms, by FunctionName) per stream batch.
 * Invocations and Errors are already recorded by Lambda's invoke path, so they are not counted twice.
 */
export function cloudwatchEsmMetrics(metrics: MetricsPort): EsmMetrics {
  return {
    iteratorAge(functionArn, _uuid, ms) {
      const [, , , region, accountId, , name] = functionArn.split(':');
      metrics.put(accountId, region, 'AWS/Lambda', [
        {
          MetricName: 'IteratorAge',
          Value: Math.max(0, ms),
          Unit: 'Milliseconds',
          Dimensions: [{ Name: 'FunctionName', Value: name }],
        },
      ]);
    },
    invocation() {},
  };
}

/** S3 buckets as on-failure destinations, through S3's own PutObject in process. */
export function s3ObjectDestination(s3: ServiceImpl, clock: Clock): ObjectDestination {
  return {
    accepts: (target) => /^arn:aws[\w-]*:s3:::[^/]+$/.test(target),
    async put(target, key, body, owner) {
      const ctx: RequestContext = {
        requestId: randomUUID(),
        accountId: owner.accountId,
        region: owner.region,
        service: 's3',
        operation: 'PutObject',
        clock,
        endpoint: 'http://eddy.internal',
      };
      const Bucket = target.slice(target.indexOf(':::') + 3);
      await s3.operations.PutObject(
        { Bucket, Key: key, Body: Buffer.from(body), ContentType: 'application/json' },
        ctx,
      );
    },
  };
}
