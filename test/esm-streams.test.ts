/**
 * Event source mappings on DynamoDB Streams, end to end: SDK v3 against Eddy on a virtual clock,
 * each handler a real process (the Runtime API) that reports to a hub; one test per semantic.
 */
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allIds, Hub, ids, type Json, Kit } from './esm-helpers.ts';

const hub = new Hub();
const kit = new Kit(hub);

beforeAll(async () => {
  await hub.start();
  await kit.start();
});
afterAll(async () => {
  await kit.stop();
  await hub.stop();
});

const err = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    const x = e as { name: string; message: string; $metadata: { httpStatusCode?: number } };
    return { name: x.name, message: x.message, status: x.$metadata?.httpStatusCode };
  }
  throw new Error('expected an error');
};

describe('control plane', () => {
  it('creates (Creating → Enabled), gets, lists, updates (Disabling → Disabled → Enabling), deletes', async () => {
    const arn = await kit.table('cp-table');
    await kit.fn('cp-fn');
    const created = await kit.lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'cp-fn',
        EventSourceArn: arn,
        StartingPosition: 'LATEST',
      }),
    );
    expect(created.State).toBe('Creating');
    expect(created.UUID).toMatch(/^[0-9a-f-]{36}$/);
    expect(created).toMatchObject({
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      ParallelizationFactor: 1,
      EventSourceArn: arn,
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:cp-fn',
      LastProcessingResult: 'No records processed',
      StateTransitionReason: 'USER_INITIATED',
      DestinationConfig: { OnFailure: {} },
      MaximumRecordAgeInSeconds: -1,
      BisectBatchOnFunctionError: false,
      MaximumRetryAttempts: -1,
      TumblingWindowInSeconds: 0,
      FunctionResponseTypes: [],
      EventSourceMappingArn: `arn:aws:lambda:us-east-1:000000000000:event-source-mapping:${created.UUID}`,
    });
    expect(created.LastModified).toBeInstanceOf(Date);
    await kit.clock.advance(0);
    const got = await kit.lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID }));
    expect(got.State).toBe('Enabled');

    const byFn = await kit.lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'cp-fn' }));
    expect(byFn.EventSourceMappings?.map((m) => m.UUID)).toEqual([created.UUID]);
    const bySrc = await kit.lambda.send(new ListEventSourceMappingsCommand({ EventSourceArn: arn }));
    expect(bySrc.EventSourceMappings?.map((m) => m.UUID)).toEqual([created.UUID]);

    const dup = await err(
      kit.lambda.send(
        new CreateEventSourceMappingCommand({
          FunctionName: 'cp-fn',
          EventSourceArn: arn,
          StartingPosition: 'LATEST',
        }),
      ),
    );
    expect(dup.name).toBe('ResourceConflictException');
    expect(dup.message).toContain(`Please update or delete the existing mapping with UUID ${created.UUID}`);

    const upd = await kit.lambda.send(
      new UpdateEventSourceMappingCommand({ UUID: created.UUID, Enabled: false, BatchSize: 7 }),
    );
    expect(upd.State).toBe('Disabling');
    expect(upd.BatchSize).toBe(7);
    await kit.clock.advance(0);
    expect((await kit.lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID }))).State).toBe('Disabled');
    const en = await kit.lambda.send(new UpdateEventSourceMappingCommand({ UUID: created.UUID, Enabled: true }));
    expect(en.State).toBe('Enabling');
    await kit.clock.advance(0);
    expect((await kit.lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID }))).State).toBe('Enabled');

    const del = await kit.lambda.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID }));
    expect(del.State).toBe('Deleting');
    await kit.clock.advance(0);
    const gone = await err(kit.lambda.send(new GetEventSourceMappingCommand({ UUID: created.UUID })));
    expect(gone).toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'The resource you requested does not exist.',
      status: 404,
    });
  });

  it('validates as AWS does: ranges, per-source parameters, filters, missing sources and functions', async () => {
    const arn = await kit.table('val');
    await kit.fn('val-fn');
    const create = (x: Record<string, unknown>) =>
      err(
        kit.lambda.send(
          new CreateEventSourceMappingCommand({ FunctionName: 'val-fn', EventSourceArn: arn, ...x } as never),
        ),
      );
    expect(await create({})).toMatchObject({
      name: 'InvalidParameterValueException',
      message:
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.",
    });
    expect((await create({ StartingPosition: 'LATEST', BatchSize: 10001 })).message).toContain(
      'Member must have value less than or equal to 10000',
    );
    expect((await create({ StartingPosition: 'LATEST', ParallelizationFactor: 11 })).message).toContain(
      'Member must have value less than or equal to 10',
    );
    expect((await create({ StartingPosition: 'LATEST', MaximumBatchingWindowInSeconds: 301 })).message).toContain(
      'Member must have value less than or equal to 300',
    );
    expect(
      await create({
        StartingPosition: 'LATEST',
        DestinationConfig: { OnSuccess: { Destination: 'arn:aws:sqs:us-east-1:000000000000:q' } },
      }),
    ).toMatchObject({
      name: 'InvalidParameterValueException',
      message: 'Unsupported DestinationConfig parameter for given event source mapping type.',
    });
    expect(
      await create({
        StartingPosition: 'LATEST',
        FilterCriteria: { Filters: [{ Pattern: '{"eventName": "INSERT"' }] },
      }),
    ).toMatchObject({ name: 'InvalidParameterValueException', message: 'Invalid filter pattern definition.' });
    expect(await create({ StartingPosition: 'LATEST', ScalingConfig: { MaximumConcurrency: 5 } })).toMatchObject({
      name: 'InvalidParameterValueException',
    });
    expect(await create({ StartingPosition: 'AT_TIMESTAMP', StartingPositionTimestamp: new Date() })).toMatchObject({
      name: 'InvalidParameterValueException',
    });
    expect(await create({ StartingPosition: 'LATEST', Topics: ['topic-a'] })).toMatchObject({
      name: 'InvalidParameterValueException',
      message: 'Topics (Kafka sources) is not supported by Eddy yet (see docs/services/event-source-mappings.md).',
    });
    expect(await create({ StartingPosition: 'LATEST', EventSourceArn: `${arn.slice(0, -3)}999` })).toMatchObject({
      name: 'InvalidParameterValueException',
      message: expect.stringMatching(/^Stream not found: /),
    });
    expect(await create({ StartingPosition: 'LATEST', FunctionName: 'nope' })).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
    expect(await create({ StartingPosition: 'LATEST', EventSourceArn: 'arn:aws:s3:::bucket' })).toMatchObject({
      name: 'InvalidParameterValueException',
      message: 'Unrecognized event source, must be kinesis, dynamodb stream or sqs.',
    });
    expect(await create({ StartingPosition: 'LATEST', MaximumRecordAgeInSeconds: 10 })).toMatchObject({
      name: 'InvalidParameterValueException',
    });
    const upd = await err(
      kit.lambda.send(
        new UpdateEventSourceMappingCommand({ UUID: '00000000-0000-0000-0000-000000000000', BatchSize: 5 }),
      ),
    );
    expect(upd.name).toBe('ResourceNotFoundException');
  });
});

describe('DynamoDB Streams → Lambda', () => {
  it('delivers in order, in batches of BatchSize, with the exact DynamoDB Streams event shape', async () => {
    const arn = await kit.table('order');
    await kit.fn('order-fn');
    for (let i = 0; i < 25; i++) await kit.put('order', `k${String(i).padStart(2, '0')}`, { v: i });
    await kit.mapping({
      FunctionName: 'order-fn',
      EventSourceArn: arn,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
    });
    await hub.until('order-fn', (c) => allIds(c).length >= 25);
    const calls = hub.calls['order-fn'];
    expect(calls.map((c: Json) => c.Records.length)).toEqual([10, 10, 5]);
    expect(allIds(calls)).toEqual(Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, '0')}`));
    const r = calls[0].Records[0];
    expect(Object.keys(calls[0])).toEqual(['Records']);
    expect(Object.keys(r)).toEqual([
      'eventID',
      'eventName',
      'eventVersion',
      'eventSource',
      'awsRegion',
      'dynamodb',
      'eventSourceARN',
    ]);
    expect(r).toMatchObject({
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: arn,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.UTC(2026, 0, 1) / 1000),
        Keys: { id: { S: 'k00' } },
        NewImage: { id: { S: 'k00' }, v: { N: '0' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(r.dynamodb.SequenceNumber).toMatch(/^\d{21}$/);
    expect(typeof r.dynamodb.SizeBytes).toBe('number');
    const seqs = calls.flatMap((c: Json) => c.Records.map((x: Json) => BigInt(x.dynamodb.SequenceNumber)));
    expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);
  });

  it('caps a batch at Lambda’s 6 MB payload, whatever BatchSize says', async () => {
    const arn = await kit.table('big');
    await kit.fn('big-fn');
    const blob = 'x'.repeat(350 * 1024);
    for (let i = 0; i < 20; i++) await kit.put('big', `b${String(i).padStart(2, '0')}`, { blob });
    await kit.mapping({
      FunctionName: 'big-fn',
      EventSourceArn: arn,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
    });
    await hub.until('big-fn', (c) => allIds(c).length >= 20);
    const sizes = hub.calls['big-fn'].map((e: Json) => Buffer.byteLength(JSON.stringify(e)));
    expect(hub.calls['big-fn'].length).toBeGreaterThan(1);
    for (const n of sizes) expect(n).toBeLessThanOrEqual(6 * 1024 * 1024);
    expect(hub.calls['big-fn'][0].Records.length).toBe(17);
    expect(allIds(hub.calls['big-fn'])).toEqual(Array.from({ length: 20 }, (_, i) => `b${String(i).padStart(2, '0')}`));
  });

  it('LATEST starts after the records written before the mapping; a new write arrives pushed, not polled', async () => {
    const arn = await kit.table('latest');
    await kit.fn('latest-fn');
    await kit.put('latest', 'before');
    await kit.mapping({ FunctionName: 'latest-fn', EventSourceArn: arn, StartingPosition: 'LATEST' });
    const t0 = kit.clock.now();
    await kit.put('latest', 'after');
    await hub.count('latest-fn', 1);
    expect(allIds(hub.calls['latest-fn'])).toEqual(['after']);
    expect(kit.clock.now()).toBe(t0); // no clock time needed: the append woke the mapping
  });

  it('MaximumBatchingWindowInSeconds holds a small batch until the window ends (on the clock)', async () => {
    const arn = await kit.table('window');
    await kit.fn('window-fn');
    await kit.mapping({
      FunctionName: 'window-fn',
      EventSourceArn: arn,
      StartingPosition: 'LATEST',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
    });
    for (const id of ['a', 'b', 'c']) await kit.put('window', id);
    await kit.clock.advance(4000);
    await new Promise((r) => setTimeout(r, 50));
    expect(hub.calls['window-fn'] ?? []).toHaveLength(0);
    await kit.clock.advance(1000);
    await hub.count('window-fn', 1);
    expect(ids(hub.calls['window-fn'][0])).toEqual(['a', 'b', 'c']);
  });

  it('retries a failing batch until it succeeds, and only then moves on (the shard is blocked meanwhile)', async () => {
    const arn = await kit.table('retry');
    await kit.fn('retry-fn');
    hub.behaviours['retry-fn'] = (_e, n) => (n <= 3 ? { throw: `boom ${n}` } : undefined);
    await kit.mapping({ FunctionName: 'retry-fn', EventSourceArn: arn, StartingPosition: 'LATEST' });
    await kit.put('retry', 'r1');
    await hub.count('retry-fn', 1);
    await kit.put('retry', 'r2');
    await kit.advanceUntil(hub.count('retry-fn', 4));
    const calls = hub.calls['retry-fn'];
    expect(calls.slice(0, 4).map(ids)).toEqual([['r1'], ['r1'], ['r1'], ['r1']]);
    await kit.advanceUntil(hub.until('retry-fn', (c) => allIds(c).includes('r2')));
    expect(ids(calls[4])).toEqual(['r2']);
    const m = (await kit.lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'retry-fn' })))
      .EventSourceMappings![0];
    expect(m.LastProcessingResult).toBe('OK');
  });

  it('disabling a mapping stops its retries at once; enabling resumes from the checkpoint', async () => {
    const arn = await kit.table('toggle');
    await kit.fn('toggle-fn');
    let fail = true;
    hub.behaviours['toggle-fn'] = () => (fail ? { throw: 'down' } : undefined);
    const m = await kit.mapping({ FunctionName: 'toggle-fn', EventSourceArn: arn, StartingPosition: 'LATEST' });
    await kit.put('toggle', 't1');
    await kit.advanceUntil(hub.count('toggle-fn', 3));
    // Let the third failure reach the engine: the batch then waits out a back-off on the clock
    // (4 s, not advanced here). Disabling must not wait for it.
    await new Promise((r) => setTimeout(r, 200));
    await kit.lambda.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: false }));
    await kit.clock.advance(0);
    expect((await kit.lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }))).State).toBe('Disabled');
    fail = false;
    const n = hub.calls['toggle-fn'].length;
    await kit.lambda.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: true }));
    await kit.clock.advance(0);
    // No clock time passes: the re-enabled mapping starts again from its checkpoint (t1) right away.
    await hub.count('toggle-fn', n + 1);
    expect(ids(hub.calls['toggle-fn'][n])).toEqual(['t1']);
  });

  it('after MaximumRetryAttempts the batch goes to the on-failure SQS queue with AWS’s invocation record', async () => {
    const arn = await kit.table('exhaust');
    const dlq = await kit.queue('exhaust-dlq');
    await kit.fn('exhaust-fn');
    hub.behaviours['exhaust-fn'] = (e) => (ids(e).includes('poison') ? { throw: 'poison' } : undefined);
    await kit.mapping({
      FunctionName: 'exhaust-fn',
      EventSourceArn: arn,
      StartingPosition: 'LATEST',
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: dlq.arn } },
    });
    await kit.put('exhaust', 'poison');
    const got = kit.receive(dlq.url);
    await kit.advanceUntil(hub.count('exhaust-fn', 3));
    const [rec] = await got;
    expect(hub.calls['exhaust-fn']).toHaveLength(3);
    expect(rec).toMatchObject({
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:exhaust-fn',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      DDBStreamBatchInfo: { batchSize: 1, streamArn: arn },
    });
    const info = rec.DDBStreamBatchInfo;
    expect(info.shardId).toMatch(/^shardId-/);
    expect(info.startSequenceNumber).toBe(hub.calls['exhaust-fn'][0].Records[0].dynamodb.SequenceNumber);
    expect(info.endSequenceNumber).toBe(info.startSequenceNumber);
    expect(info.approximateArrivalOfFirstRecord).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // The shard moved on.
    await kit.put('exhaust', 'fine');
    await kit.advanceUntil(hub.until('exhaust-fn', (c) => allIds(c).includes('fine')));
  });

  it('an SNS topic as on-failure destination gets the invocation record (here fanned out to SQS); IteratorAge lands in CloudWatch', async () => {
    const { SNSClient, CreateTopicCommand, SubscribeCommand } = await import('@aws-sdk/client-sns');
    const { CloudWatchClient, GetMetricStatisticsCommand } = await import('@aws-sdk/client-cloudwatch');
    const cfg = {
      endpoint: kit.eddy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    const sns = new SNSClient(cfg);
    const cw = new CloudWatchClient(cfg);
    try {
      const arn = await kit.table('snsdest');
      const topic = await sns.send(new CreateTopicCommand({ Name: 'esm-failures' }));
      const q = await kit.queue('esm-failures-q');
      await sns.send(
        new SubscribeCommand({
          TopicArn: topic.TopicArn,
          Protocol: 'sqs',
          Endpoint: q.arn,
          Attributes: { RawMessageDelivery: 'true' },
        }),
      );
      await kit.fn('snsdest-fn');
      hub.behaviours['snsdest-fn'] = (e) => (ids(e).includes('bad') ? { throw: 'bad' } : undefined);
      await kit.mapping({
        FunctionName: 'snsdest-fn',
        EventSourceArn: arn,
        StartingPosition: 'LATEST',
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: topic.TopicArn } },
      });
      await kit.put('snsdest', 'bad');
      const [rec] = await kit.advanceUntil(kit.receive(q.url));
      expect(rec).toMatchObject({
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 },
        DDBStreamBatchInfo: { batchSize: 1, streamArn: arn },
      });
      const stats = await cw.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/Lambda',
          MetricName: 'IteratorAge',
          Dimensions: [{ Name: 'FunctionName', Value: 'snsdest-fn' }],
          StartTime: new Date(kit.clock.now() - 3600_000),
          EndTime: new Date(kit.clock.now() + 60_000),
          Period: 60,
          Statistics: ['SampleCount', 'Maximum'],
        }),
      );
      expect(stats.Datapoints?.reduce((n, d) => n + (d.SampleCount ?? 0), 0)).toBeGreaterThanOrEqual(1);
    } finally {
      sns.destroy();
      cw.destroy();
    }
  });

  it('an S3 bucket as on-failure destination gets the invocation record with the batch itself', async () => {
    const { S3Client, CreateBucketCommand, ListObjectsV2Command, GetObjectCommand } = await import(
      '@aws-sdk/client-s3'
    );
    const s3 = new S3Client({
      endpoint: kit.eddy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'esm-failures' }));
      const arn = await kit.table('s3dest');
      await kit.fn('s3dest-fn');
      hub.behaviours['s3dest-fn'] = () => ({ throw: 'always' });
      const m = await kit.mapping({
        FunctionName: 's3dest-fn',
        EventSourceArn: arn,
        StartingPosition: 'LATEST',
        MaximumRetryAttempts: 1,
        DestinationConfig: { OnFailure: { Destination: 'arn:aws:s3:::esm-failures' } },
      });
      await kit.put('s3dest', 'lost');
      const key = await kit.advanceUntil(
        (async () => {
          for (;;) {
            const l = await s3.send(new ListObjectsV2Command({ Bucket: 'esm-failures' }));
            if (l.Contents?.length) return l.Contents[0].Key!;
            await new Promise((r) => setTimeout(r, 5));
          }
        })(),
      );
      expect(key).toMatch(
        new RegExp(
          `^aws/lambda/${m.UUID}/shardId-[^/]+/\\d{4}/\\d\\d/\\d\\d/\\d{4}-\\d\\d-\\d\\dT\\d\\d\\.\\d\\d\\.\\d\\d-[0-9a-f-]{36}$`,
        ),
      );
      const obj = await s3.send(new GetObjectCommand({ Bucket: 'esm-failures', Key: key }));
      const rec = JSON.parse(await obj.Body!.transformToString());
      expect(rec).toMatchObject({
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 },
        DDBStreamBatchInfo: { batchSize: 1, streamArn: arn },
      });
      expect(rec.payload.Records[0].dynamodb.Keys.id.S).toBe('lost');
    } finally {
      s3.destroy();
    }
  });

  it('MaximumRecordAgeInSeconds discards records that grew too old while retrying', async () => {
    const arn = await kit.table('age');
    const dlq = await kit.queue('age-dlq');
    await kit.fn('age-fn');
    hub.behaviours['age-fn'] = (e) => (ids(e).includes('old') ? { throw: 'nope' } : undefined);
    const m = await kit.mapping({
      FunctionName: 'age-fn',
      EventSourceArn: arn,
      StartingPosition: 'LATEST',
      MaximumRecordAgeInSeconds: 60,
      DestinationConfig: { OnFailure: { Destination: dlq.arn } },
    });
    await kit.put('age', 'old');
    const got = kit.receive(dlq.url);
    const t0 = kit.clock.now();
    const [rec] = await kit.advanceUntil(got);
    expect(rec.requestContext.condition).toBe('RecordAgeExceeded');
    expect(rec.DDBStreamBatchInfo.batchSize).toBe(1);
    expect(kit.clock.now() - t0).toBeGreaterThan(60_000);
    // Retried (with back-off, never past the age limit) until discarded; then the shard moves on.
    expect(hub.calls['age-fn'].length).toBeGreaterThanOrEqual(1);
    await kit.put('age', 'young');
    await kit.advanceUntil(hub.until('age-fn', (c) => allIds(c).includes('young')));
    // A backlog already older than the limit is skipped without invoking the function.
    await kit.lambda.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: false }));
    await kit.clock.advance(0);
    await kit.put('age', 'stale');
    await kit.clock.advance(120_000);
    const before = hub.calls['age-fn'].length;
    // (The first record is back in the queue too: its visibility timeout has passed.)
    const got2 = (async () => {
      for (;;) {
        const found = (await kit.receive(dlq.url)).find((x: Json) => x.requestContext.approximateInvokeCount === 0);
        if (found) return found;
      }
    })();
    await kit.lambda.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: true }));
    await kit.clock.advance(0);
    const rec2 = await got2;
    expect(rec2.requestContext).toMatchObject({ condition: 'RecordAgeExceeded', approximateInvokeCount: 0 });
    expect(hub.calls['age-fn'].length).toBe(before);
  });

  it('BisectBatchOnFunctionError splits down to the poison record; the rest are delivered', async () => {
    const arn = await kit.table('bisect');
    const dlq = await kit.queue('bisect-dlq');
    await kit.fn('bisect-fn');
    const names = ['b0', 'b1', 'b2', 'b3', 'b4', 'POISON', 'b6', 'b7'];
    for (const n of names) await kit.put('bisect', n);
    hub.behaviours['bisect-fn'] = (e) => (ids(e).includes('POISON') ? { throw: 'poison' } : undefined);
    await kit.mapping({
      FunctionName: 'bisect-fn',
      EventSourceArn: arn,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 8,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnFailure: { Destination: dlq.arn } },
    });
    const [rec] = await kit.advanceUntil(kit.receive(dlq.url));
    expect(rec.DDBStreamBatchInfo.batchSize).toBe(1);
    await hub.count('bisect-fn', 7);
    const calls = hub.calls['bisect-fn'];
    // 8 → [4 ok] [4 ✗] → [2 ✗: b4,POISON] [2 ok] → [b4 ok] [POISON ✗ → on-failure]
    expect(calls.map(ids)).toEqual([
      names,
      names.slice(0, 4),
      names.slice(4),
      ['b4', 'POISON'],
      ['b4'],
      ['POISON'],
      ['b6', 'b7'],
    ]);
    const poisonSeq = calls[0].Records[5].dynamodb.SequenceNumber;
    expect(rec.DDBStreamBatchInfo.startSequenceNumber).toBe(poisonSeq);
  });

  it('ReportBatchItemFailures: the checkpoint goes to the lowest reported record; a malformed reply fails the batch', async () => {
    const arn = await kit.table('partial');
    await kit.fn('partial-fn');
    for (const n of ['p0', 'p1', 'p2', 'p3', 'p4']) await kit.put('partial', n);
    hub.behaviours['partial-fn'] = (e, n) => {
      const seq = (i: number) => e.Records[i].dynamodb.SequenceNumber;
      if (n === 1) return { result: { batchItemFailures: [{ itemIdentifier: seq(3) }, { itemIdentifier: seq(2) }] } };
      if (n === 2) return { result: { batchItemFailures: [{ itemIdentifier: '' }] } };
      if (n === 3) return { result: { batchItemFailures: [] } };
      return undefined;
    };
    await kit.mapping({
      FunctionName: 'partial-fn',
      EventSourceArn: arn,
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    await kit.advanceUntil(hub.count('partial-fn', 3));
    const calls = hub.calls['partial-fn'];
    expect(calls.map(ids)).toEqual([
      ['p0', 'p1', 'p2', 'p3', 'p4'],
      ['p2', 'p3', 'p4'],
      ['p2', 'p3', 'p4'],
    ]);
    await kit.put('partial', 'p5');
    await hub.until('partial-fn', (c) => allIds(c).includes('p5'));
    expect(ids(calls[3])).toEqual(['p5']);
  });

  it('ParallelizationFactor: concurrent batches per shard, order kept per item key; a failing key blocks only its lane', async () => {
    const arn = await kit.table('par');
    await kit.fn('par-fn');
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let holding = true;
    // The first batch holding item "slow" is kept open; other items' lanes keep flowing meanwhile.
    hub.behaviours['par-fn'] = (e) =>
      holding && e.Records.some((r: Json) => r.dynamodb.Keys.id.S === 'slow') ? { hold: held } : undefined;
    await kit.mapping({
      FunctionName: 'par-fn',
      EventSourceArn: arn,
      StartingPosition: 'LATEST',
      ParallelizationFactor: 10,
      BatchSize: 2,
    });
    const keys = ['slow', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'];
    for (let n = 0; n < 4; n++) for (const k of keys) await kit.put('par', k, { n });
    const versions = (calls: Json[], k: string) =>
      calls.flatMap((e: Json) => e.Records).filter((r: Json) => r.dynamodb.Keys.id.S === k);
    // Items in other lanes than "slow" complete all four versions while "slow" is held.
    await hub.until('par-fn', (c) => keys.slice(1).filter((k) => versions(c, k).length === 4).length >= 4);
    expect(versions(hub.calls['par-fn'], 'slow').length).toBeLessThanOrEqual(2);
    holding = false;
    release();
    await hub.until('par-fn', (c) => c.flatMap((e: Json) => e.Records).length >= 32);
    for (const k of keys)
      expect(versions(hub.calls['par-fn'], k).map((r: Json) => Number(r.dynamodb.NewImage.n.N))).toEqual([0, 1, 2, 3]);
    expect(Math.max(...hub.calls['par-fn'].map((e: Json) => e.Records.length))).toBeLessThanOrEqual(2);
  });

  it('FilterCriteria: only matching records reach the function; filtered ones still advance the checkpoint', async () => {
    const arn = await kit.table('filter');
    await kit.fn('filter-fn');
    const m = await kit.mapping({
      FunctionName: 'filter-fn',
      EventSourceArn: arn,
      StartingPosition: 'LATEST',
      FilterCriteria: {
        Filters: [
          { Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { kind: { S: ['keep'] } } } }) },
        ],
      },
    });
    expect(m.FilterCriteria?.Filters?.[0].Pattern).toContain('keep');
    await kit.put('filter', 'f1', { kind: 'drop' });
    await kit.put('filter', 'f2', { kind: 'keep' });
    await kit.put('filter', 'f2', { kind: 'keep', again: 'yes' }); // MODIFY: filtered out
    await kit.put('filter', 'f3', { kind: 'drop' });
    await kit.put('filter', 'f4', { kind: 'keep' });
    await hub.until('filter-fn', (c) => allIds(c).includes('f4'));
    expect(allIds(hub.calls['filter-fn'])).toEqual(['f2', 'f4']);
    // The checkpoint sits after f4: disabling and re-enabling replays nothing.
    await kit.lambda.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: false }));
    await kit.clock.advance(0);
    await kit.lambda.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: true }));
    await kit.clock.advance(0);
    await kit.put('filter', 'f5', { kind: 'keep' });
    await hub.until('filter-fn', (c) => allIds(c).includes('f5'));
    expect(allIds(hub.calls['filter-fn'])).toEqual(['f2', 'f4', 'f5']);
  });

  it('TumblingWindowInSeconds: state carried between invocations, then a final invoke for the window', async () => {
    const arn = await kit.table('tumble');
    await kit.fn('tumble-fn');
    hub.behaviours['tumble-fn'] = (e) => ({
      result: { state: { count: (e.state?.count ?? 0) + e.Records.length } },
    });
    // Start on a window boundary so the writes below share one 60 s window.
    await kit.clock.set(Math.ceil(kit.clock.now() / 60_000) * 60_000);
    await kit.mapping({
      FunctionName: 'tumble-fn',
      EventSourceArn: arn,
      StartingPosition: 'LATEST',
      TumblingWindowInSeconds: 60,
    });
    const start = kit.clock.now();
    await kit.put('tumble', 't1');
    await hub.count('tumble-fn', 1);
    await kit.put('tumble', 't2');
    await kit.put('tumble', 't3');
    await hub.until('tumble-fn', (c) => allIds(c).length >= 3);
    await kit.advanceUntil(hub.until('tumble-fn', (c) => c.some((e: Json) => e.isFinalInvokeForWindow)));
    const calls = hub.calls['tumble-fn'];
    const final = calls[calls.length - 1];
    expect(final).toMatchObject({
      Records: [],
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: false,
      eventSourceARN: arn,
      state: { count: 3 },
      window: {
        start: new Date(start).toISOString().replace('.000', ''),
        end: new Date(start + 60_000).toISOString().replace('.000', ''),
      },
    });
    expect(final.shardId).toMatch(/^shardId-/);
    expect(calls[0]).toMatchObject({ state: {}, isFinalInvokeForWindow: false });
    // A record in the next window starts from empty state.
    await kit.put('tumble', 't4');
    await hub.until('tumble-fn', (c) => allIds(c).includes('t4'));
    expect(calls[calls.length - 1].state).toEqual({});
  });
});
