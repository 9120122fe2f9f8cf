/**
 * The sources and destinations of Lambda event source mappings, over the other services' in-process
 * APIs: DynamoDB Streams read straight from its ordered log (with its wake-ups), and on-failure
 * destinations through the one delivery path (the transactional outbox).
 */

import type { DynamoDbStreams } from '../services/dynamodbstreams/index.ts';
import { recordFromRow } from '../services/dynamodbstreams/records.ts';
import type { DestinationPort, SourceRecord, StreamSource } from '../services/lambda/esm/types.ts';
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

/** On-failure destinations through the delivery path (SQS queues today). */
export function outboxDestinations(delivery: DeliveryPort): DestinationPort {
  return {
    accepts: (target) => /^arn:aws[\w-]*:sqs:/.test(target),
    send(target, body, origin) {
      delivery.deliver(target, { body, origin });
    },
  };
}
