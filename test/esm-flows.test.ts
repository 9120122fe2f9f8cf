/**
 * Event source mapping flows across restarts and services: durable checkpoints (a stop, a restart
 * on the same data dir, and the batch in flight redelivered exactly once), and the seed 000 path
 * (table stream → handler → SNS → SQS, with the failing record in the dead-letter queue).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allIds, Hub, type Json, Kit } from './esm-helpers.ts';

const hub = new Hub();
beforeAll(() => hub.start());
afterAll(() => hub.stop());

describe('durable checkpoints', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'eddy-esm-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resumes from the checkpoint after a restart: nothing lost, only the in-flight batch again', async () => {
    const t0 = Date.UTC(2026, 1, 1);
    let kit = await new Kit(hub).start({ memory: false, dataDir: dir }, t0);
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let released = false;
    // r4's first delivery is held in flight when Eddy stops.
    hub.behaviours['durable-fn'] = (e) => (allIdsOf(e).includes('r4') && !released ? { hold: held } : undefined);
    let arn: string;
    try {
      arn = await kit.table('durable');
      await kit.fn('durable-fn');
      await kit.mapping({
        FunctionName: 'durable-fn',
        EventSourceArn: arn,
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 1,
      });
      for (const id of ['r1', 'r2', 'r3']) await kit.put('durable', id);
      await hub.until('durable-fn', (c) => allIds(c).includes('r3'));
      await kit.put('durable', 'r4');
      await hub.until('durable-fn', (c) => allIds(c).includes('r4'));
    } finally {
      await kit.stop();
      released = true;
      release();
    }
    expect(allIds(hub.calls['durable-fn'])).toEqual(['r1', 'r2', 'r3', 'r4']);

    // Same data dir, a later clock: r4 (in flight at the stop) comes again, then the new write.
    kit = await new Kit(hub).start({ memory: false, dataDir: dir }, t0 + 60_000);
    try {
      await kit.put('durable', 'r5');
      await hub.until('durable-fn', (c) => allIds(c).includes('r5'));
      expect(allIds(hub.calls['durable-fn'])).toEqual(['r1', 'r2', 'r3', 'r4', 'r4', 'r5']);
    } finally {
      await kit.stop();
    }
  });
});

describe('shard lineage', () => {
  const kit = new Kit(hub);
  beforeAll(async () => {
    // Shards roll over every minute in this Eddy (AWS: about every 4 hours).
    process.env.EDDY_DYNAMODB_STREAMS_SHARD_ROLLOVER_MS = '60000';
    try {
      await kit.start();
    } finally {
      delete process.env.EDDY_DYNAMODB_STREAMS_SHARD_ROLLOVER_MS;
    }
  });
  afterAll(() => kit.stop());

  it('reads a parent shard to its end before its child, even while the parent is failing', async () => {
    const arn = await kit.table('lineage');
    await kit.fn('lineage-fn');
    let failing = true;
    hub.behaviours['lineage-fn'] = (e) => (failing && allIdsOf(e).includes('p2') ? { throw: 'not yet' } : undefined);
    await kit.mapping({
      FunctionName: 'lineage-fn',
      EventSourceArn: arn,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 1,
    });
    await kit.put('lineage', 'p1');
    await kit.put('lineage', 'p2');
    await hub.until('lineage-fn', (c) => allIds(c).includes('p2'));
    // Roll the shard over: the next writes land in a child shard.
    await kit.clock.advance(61_000);
    await kit.put('lineage', 'c1');
    await kit.put('lineage', 'c2');
    const { DynamoDBStreamsClient, DescribeStreamCommand } = await import('@aws-sdk/client-dynamodb-streams');
    const streams = new DynamoDBStreamsClient({
      endpoint: kit.eddy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const d = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
    streams.destroy();
    expect(d.StreamDescription!.Shards!.length).toBeGreaterThanOrEqual(2);
    // p2 keeps failing (retried on the clock); the child's records must wait.
    await kit.advanceUntil(hub.until('lineage-fn', (c) => allIds(c).filter((x) => x === 'p2').length >= 4));
    expect(allIds(hub.calls['lineage-fn'])).not.toContain('c1');
    failing = false;
    await kit.advanceUntil(hub.until('lineage-fn', (c) => allIds(c).includes('c2')));
    const seen = allIds(hub.calls['lineage-fn']).filter((x, i, a) => a.indexOf(x) === i);
    expect(seen).toEqual(['p1', 'p2', 'c1', 'c2']);
    expect(allIds(hub.calls['lineage-fn']).slice(-2)).toEqual(['c1', 'c2']);
  });
});

describe('--esm-cadence aws', () => {
  const kit = new Kit(hub);
  beforeAll(async () => {
    process.env.EDDY_ESM_CADENCE = 'aws';
    try {
      await kit.start();
    } finally {
      delete process.env.EDDY_ESM_CADENCE;
    }
  });
  afterAll(() => kit.stop());

  it('reads DynamoDB Streams 4 times a second instead of on each append', async () => {
    const arn = await kit.table('cadence');
    await kit.fn('cadence-fn');
    await kit.mapping({ FunctionName: 'cadence-fn', EventSourceArn: arn, StartingPosition: 'LATEST' });
    await kit.put('cadence', 'a');
    await kit.put('cadence', 'b');
    await kit.clock.advance(249);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(hub.calls['cadence-fn'] ?? []).toHaveLength(0);
    await kit.clock.advance(1);
    await hub.count('cadence-fn', 1);
    expect(allIds(hub.calls['cadence-fn'])).toEqual(['a', 'b']);
  });
});

describe('reset', () => {
  const kit = new Kit(hub);
  beforeAll(() => kit.start());
  afterAll(() => kit.stop());

  it('POST /_eddy/reset stops every mapping; mappings created afterwards work', async () => {
    const arn = await kit.table('before-reset');
    await kit.fn('reset-fn');
    await kit.mapping({ FunctionName: 'reset-fn', EventSourceArn: arn, StartingPosition: 'LATEST' });
    await kit.put('before-reset', 'x1');
    await hub.count('reset-fn', 1);
    const res = await fetch(`${kit.eddy.endpoint}/_eddy/reset`, { method: 'POST' });
    expect(res.status).toBe(200);
    const { ListEventSourceMappingsCommand } = await import('@aws-sdk/client-lambda');
    expect((await kit.lambda.send(new ListEventSourceMappingsCommand({}))).EventSourceMappings).toEqual([]);
    const arn2 = await kit.table('after-reset');
    await kit.fn('reset-fn');
    await kit.mapping({ FunctionName: 'reset-fn', EventSourceArn: arn2, StartingPosition: 'LATEST' });
    await kit.put('after-reset', 'y1');
    await hub.until('reset-fn', (c) => allIds(c).includes('y1'));
    expect(allIds(hub.calls['reset-fn'])).toEqual(['x1', 'y1']);
  });
});

const allIdsOf = (e: Json): string[] => e.Records.map((r: Json) => r.dynamodb.Keys.id.S);

describe('seed 000: DynamoDB stream → Lambda → SNS → SQS, failures to the dead-letter queue', () => {
  const kit = new Kit(hub);
  beforeAll(() => kit.start());
  afterAll(() => kit.stop());

  it('publishes a notification per change and dead-letters the record that fails', async () => {
    const sns = new SNSClient({
      endpoint: kit.eddy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const arn = await kit.table('UserActivities');
      const topic = await sns.send(new CreateTopicCommand({ Name: 'activity-notifications' }));
      const notify = await kit.queue('activity-notify');
      await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: notify.arn }));
      const dlq = await kit.queue('stream-processor-dlq');
      await kit.fn(
        'stream-processor',
        `const { SNSClient, PublishCommand } = require('@aws-sdk/client-sns');
const sns = new SNSClient({});
exports.handler = async (event) => {
  for (const r of event.Records) {
    const id = r.dynamodb.Keys.id.S;
    if (r.dynamodb.NewImage && r.dynamodb.NewImage.status && r.dynamodb.NewImage.status.S === 'corrupt') throw new Error('cannot process ' + id);
    await sns.send(new PublishCommand({ TopicArn: process.env.TOPIC_ARN, Subject: 'Activity ' + r.eventName, Message: JSON.stringify({ id, eventName: r.eventName }) }));
  }
  return { batchItemFailures: [] };
};`,
        { TOPIC_ARN: topic.TopicArn! },
      );
      await kit.mapping({
        FunctionName: 'stream-processor',
        EventSourceArn: arn,
        StartingPosition: 'LATEST',
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: 5,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 1,
        DestinationConfig: { OnFailure: { Destination: dlq.arn } },
      });
      for (const [id, status] of [
        ['u1', 'ok'],
        ['u2', 'ok'],
        ['u3', 'corrupt'],
        ['u4', 'ok'],
      ])
        await kit.put('UserActivities', id, { status });
      // The 5 s batching window and the retries run on the virtual clock.
      const [dead] = await kit.advanceUntil(kit.receive(dlq.url));
      expect(dead.requestContext).toMatchObject({
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 2,
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:stream-processor',
      });
      expect(dead.DDBStreamBatchInfo).toMatchObject({ batchSize: 1, streamArn: arn });
      const seen = new Set<string>();
      while (seen.size < 3) {
        for (const n of await kit.advanceUntil(kit.receive(notify.url))) {
          expect(n.Type).toBe('Notification');
          expect(n.TopicArn).toBe(topic.TopicArn);
          seen.add(JSON.parse(n.Message).id);
        }
      }
      expect([...seen].sort()).toEqual(['u1', 'u2', 'u4']);
    } finally {
      sns.destroy();
    }
  });
});
