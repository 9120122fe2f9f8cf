import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Eddy, startEddy, VirtualClock } from '../src/index.ts';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0, 500);
const MIN = 60_000;
const H = 60 * MIN;
const CREDS = { accessKeyId: 'test', secretAccessKey: 'test' };

let eddy: Eddy;
let clock: VirtualClock;
let ddb: DynamoDBClient;
let streams: DynamoDBStreamsClient;

beforeAll(async () => {
  clock = new VirtualClock(T0);
  eddy = await startEddy({ port: 0, memory: true, clock, logLevel: 'error' });
  ddb = new DynamoDBClient({ endpoint: eddy.endpoint, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
  streams = new DynamoDBStreamsClient({
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: CREDS,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  ddb.destroy();
  streams.destroy();
  await eddy.stop();
});
beforeEach(() => eddy.reset());

async function error(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e: any) {
    return e;
  }
  throw new Error('expected an error');
}

type ViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

async function createTable(name: string, viewType: ViewType = 'NEW_AND_OLD_IMAGES'): Promise<string> {
  const out = await ddb.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: viewType },
    }),
  );
  return out.TableDescription!.LatestStreamArn!;
}

async function shards(streamArn: string) {
  const out = [];
  let start: string | undefined;
  do {
    const d = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
    out.push(...d.StreamDescription!.Shards!);
    start = d.StreamDescription!.LastEvaluatedShardId;
  } while (start);
  return out;
}

/** Every record of a stream, following lineage (parents before children), as a consumer would. */
async function readAll(streamArn: string): Promise<StreamRecord[]> {
  const all: StreamRecord[] = [];
  for (const shard of await shards(streamArn)) {
    let it = (
      await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (it) {
      const r = await streams.send(new GetRecordsCommand({ ShardIterator: it }));
      all.push(...r.Records!);
      if (!r.Records!.length && shard.SequenceNumberRange?.EndingSequenceNumber === undefined) break;
      it = r.NextShardIterator;
    }
  }
  return all;
}

const put = (table: string, pk: string, attrs: Record<string, any> = {}) =>
  ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, ...attrs } }));

describe('stream lifecycle', () => {
  it('DescribeTable, ListStreams and DescribeStream show the stream as AWS does', async () => {
    const start = clock.now();
    const arn = await createTable('Music');
    const t = (await ddb.send(new DescribeTableCommand({ TableName: 'Music' }))).Table!;
    expect(t.LatestStreamArn).toBe(arn);
    expect(arn).toMatch(
      /^arn:aws:dynamodb:us-east-1:000000000000:table\/Music\/stream\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/,
    );
    expect(arn.endsWith(`/stream/${t.LatestStreamLabel}`)).toBe(true);
    expect(t.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });

    const list = await streams.send(new ListStreamsCommand({ TableName: 'Music' }));
    expect(list.Streams).toEqual([{ StreamArn: arn, TableName: 'Music', StreamLabel: t.LatestStreamLabel }]);
    expect(list.LastEvaluatedStreamArn).toBeUndefined();

    const d = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription!;
    expect(d).toMatchObject({
      StreamArn: arn,
      StreamLabel: t.LatestStreamLabel,
      StreamStatus: 'ENABLED',
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      TableName: 'Music',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    });
    expect(d.CreationRequestDateTime).toBeInstanceOf(Date);
    expect(d.CreationRequestDateTime!.getTime()).toBe(start);
    expect(d.Shards).toHaveLength(1);
    expect(d.Shards![0].ShardId).toMatch(/^shardId-\d{20}-[0-9a-f]{8}$/);
    expect(d.Shards![0].SequenceNumberRange!.StartingSequenceNumber).toMatch(/^\d{21}$/);
    expect(d.Shards![0].SequenceNumberRange!.EndingSequenceNumber).toBeUndefined();
    expect(d.Shards![0].ParentShardId).toBeUndefined();
  });

  it('ListStreams lists every table’s streams and pages with Limit / ExclusiveStartStreamArn', async () => {
    const arns = [await createTable('tab1'), await createTable('tab2'), await createTable('tab3')];
    const p1 = await streams.send(new ListStreamsCommand({ Limit: 2 }));
    expect(p1.Streams!.map((s) => s.StreamArn)).toEqual(arns.slice(0, 2));
    expect(p1.LastEvaluatedStreamArn).toBe(arns[1]);
    const p2 = await streams.send(
      new ListStreamsCommand({ Limit: 2, ExclusiveStartStreamArn: p1.LastEvaluatedStreamArn }),
    );
    expect(p2.Streams!.map((s) => s.StreamArn)).toEqual([arns[2]]);
    expect(p2.LastEvaluatedStreamArn).toBeUndefined();
    expect((await streams.send(new ListStreamsCommand({ TableName: 'nope' }))).Streams).toEqual([]);
    // Another region sees nothing.
    const west = new DynamoDBStreamsClient({
      endpoint: eddy.endpoint,
      region: 'us-west-2',
      credentials: CREDS,
      maxAttempts: 1,
    });
    expect((await west.send(new ListStreamsCommand({}))).Streams).toEqual([]);
    expect((await error(west.send(new DescribeStreamCommand({ StreamArn: arns[0] })))).name).toBe(
      'ResourceNotFoundException',
    );
    west.destroy();
  });

  it('disabling closes the stream (still readable, closed shards end with no NextShardIterator); re-enabling makes a new stream and label', async () => {
    const arn = await createTable('Music');
    await put('Music', 'a');
    const before = (await ddb.send(new DescribeTableCommand({ TableName: 'Music' }))).Table!;
    await clock.advance(5);
    await ddb.send(new UpdateTableCommand({ TableName: 'Music', StreamSpecification: { StreamEnabled: false } }));
    const d = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription!;
    expect(d.StreamStatus).toBe('DISABLED');
    const range = d.Shards![0].SequenceNumberRange!;
    expect(range.EndingSequenceNumber).toBeDefined();

    const it0 = (
      await streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: d.Shards![0].ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    const r = await streams.send(new GetRecordsCommand({ ShardIterator: it0 }));
    expect(r.Records!.map((x) => x.eventName)).toEqual(['INSERT']);
    expect(r.NextShardIterator).toBeUndefined();
    expect(range.EndingSequenceNumber).toBe(r.Records![0].dynamodb!.SequenceNumber);

    // Writes while disabled make no records anywhere.
    await put('Music', 'b');
    await clock.advance(10);
    await ddb.send(
      new UpdateTableCommand({
        TableName: 'Music',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
      }),
    );
    const after = (await ddb.send(new DescribeTableCommand({ TableName: 'Music' }))).Table!;
    expect(after.LatestStreamArn).not.toBe(arn);
    expect(after.LatestStreamLabel).not.toBe(before.LatestStreamLabel);
    await put('Music', 'c');
    const list = await streams.send(new ListStreamsCommand({ TableName: 'Music' }));
    expect(list.Streams!.map((s) => s.StreamArn)).toEqual([arn, after.LatestStreamArn]);
    expect((await readAll(after.LatestStreamArn!)).map((x) => x.dynamodb!.Keys)).toEqual([{ pk: { S: 'c' } }]);
    expect((await readAll(arn)).map((x) => x.dynamodb!.Keys)).toEqual([{ pk: { S: 'a' } }]);
  });

  it('DeleteTable leaves the stream readable for 24 hours, then it is gone', async () => {
    const arn = await createTable('Gone');
    await put('Gone', 'a');
    await ddb.send(new DeleteTableCommand({ TableName: 'Gone' }));
    await clock.advance(MIN);
    const d = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription!;
    expect(d.StreamStatus).toBe('DISABLED');
    expect((await readAll(arn)).length).toBe(1);
    await clock.advance(24 * H);
    expect((await streams.send(new ListStreamsCommand({}))).Streams).toEqual([]);
    const e = await error(streams.send(new DescribeStreamCommand({ StreamArn: arn })));
    expect(e.name).toBe('ResourceNotFoundException');
    expect(e.message).toBe(`Requested resource not found: Stream: ${arn} not found`);
  });
});

describe('records', () => {
  it('Put / Update / Delete give INSERT / MODIFY / REMOVE with AWS fields; no-op writes give none', async () => {
    const start = clock.now();
    const arn = await createTable('Music');
    await put('Music', 'a', { v: { N: '1' } });
    await clock.advance(1500);
    await ddb.send(
      new UpdateItemCommand({
        TableName: 'Music',
        Key: { pk: { S: 'a' } },
        UpdateExpression: 'SET v = :v',
        ExpressionAttributeValues: { ':v': { N: '2' } },
      }),
    );
    // No-ops: same item again, update to the same value, delete of a missing item, failed condition.
    await put('Music', 'a', { v: { N: '2' } });
    await ddb.send(
      new UpdateItemCommand({
        TableName: 'Music',
        Key: { pk: { S: 'a' } },
        UpdateExpression: 'SET v = :v',
        ExpressionAttributeValues: { ':v': { N: '2' } },
      }),
    );
    await ddb.send(new DeleteItemCommand({ TableName: 'Music', Key: { pk: { S: 'missing' } } }));
    await put('Music', 'a', { v: { N: '3' } });
    const failed = await error(
      ddb.send(
        new PutItemCommand({
          TableName: 'Music',
          Item: { pk: { S: 'a' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    expect(failed.name).toBe('ConditionalCheckFailedException');
    await ddb.send(new DeleteItemCommand({ TableName: 'Music', Key: { pk: { S: 'a' } } }));

    const recs = await readAll(arn);
    expect(recs.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'MODIFY', 'REMOVE']);
    const [ins, mod] = recs;
    expect(ins).toMatchObject({ eventVersion: '1.1', eventSource: 'aws:dynamodb', awsRegion: 'us-east-1' });
    expect(ins.eventID).toMatch(/^[0-9a-f]{32}$/);
    expect(ins.userIdentity).toBeUndefined();
    expect(ins.dynamodb).toEqual({
      ApproximateCreationDateTime: new Date(Math.floor(start / 1000) * 1000),
      Keys: { pk: { S: 'a' } },
      NewImage: { pk: { S: 'a' }, v: { N: '1' } },
      SequenceNumber: expect.stringMatching(/^\d{21}$/),
      SizeBytes: 2 + 1 + 1 + 2 + 1 + 2,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
    expect(mod.dynamodb!.ApproximateCreationDateTime!.getTime()).toBe(Math.floor((start + 1500) / 1000) * 1000);
    expect(mod.dynamodb!.OldImage).toEqual({ pk: { S: 'a' }, v: { N: '1' } });
    expect(mod.dynamodb!.NewImage).toEqual({ pk: { S: 'a' }, v: { N: '2' } });
    expect(recs[3].dynamodb!.NewImage).toBeUndefined();
    expect(recs[3].dynamodb!.OldImage).toEqual({ pk: { S: 'a' }, v: { N: '3' } });
    const seqs = recs.map((r) => BigInt(r.dynamodb!.SequenceNumber!));
    expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);
    expect(new Set(recs.map((r) => r.eventID)).size).toBe(recs.length);
  });

  it.each(['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'] as const)('view type %s', async (viewType) => {
    const arn = await createTable('Views', viewType);
    await put('Views', 'k', { v: { S: 'old' } });
    await put('Views', 'k', { v: { S: 'new' } });
    const [, mod] = await readAll(arn);
    expect(mod.eventName).toBe('MODIFY');
    expect(mod.dynamodb!.StreamViewType).toBe(viewType);
    expect(mod.dynamodb!.Keys).toEqual({ pk: { S: 'k' } });
    expect(mod.dynamodb!.NewImage).toEqual(
      viewType === 'NEW_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES' ? { pk: { S: 'k' }, v: { S: 'new' } } : undefined,
    );
    expect(mod.dynamodb!.OldImage).toEqual(
      viewType === 'OLD_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES' ? { pk: { S: 'k' }, v: { S: 'old' } } : undefined,
    );
    const keys = 2 + 1;
    const img = 2 + 1 + 1 + 3;
    const expected = {
      KEYS_ONLY: keys,
      NEW_IMAGE: keys + img,
      OLD_IMAGE: keys + img,
      NEW_AND_OLD_IMAGES: keys + 2 * img,
    }[viewType];
    expect(mod.dynamodb!.SizeBytes).toBe(expected);
  });

  it('BatchWriteItem gives one record per real change, in order', async () => {
    const arn = await createTable('Batch');
    await put('Batch', 'x');
    await ddb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          Batch: [
            { PutRequest: { Item: { pk: { S: 'a' } } } },
            { PutRequest: { Item: { pk: { S: 'b' } } } },
            { DeleteRequest: { Key: { pk: { S: 'x' } } } },
            { DeleteRequest: { Key: { pk: { S: 'never' } } } },
          ],
        },
      }),
    );
    const recs = await readAll(arn);
    expect(recs.map((r) => `${r.eventName}:${r.dynamodb!.Keys!.pk.S}`)).toEqual([
      'INSERT:x',
      'INSERT:a',
      'INSERT:b',
      'REMOVE:x',
    ]);
  });

  it('TransactWriteItems records each changed item; a cancelled transaction records nothing', async () => {
    const arn = await createTable('Tx1');
    await put('Tx1', 'c', { n: { N: '1' } });
    await put('Tx1', 'd');
    await ddb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: 'Tx1', Item: { pk: { S: 'a' } } } },
          {
            Update: {
              TableName: 'Tx1',
              Key: { pk: { S: 'c' } },
              UpdateExpression: 'SET n = :n',
              ExpressionAttributeValues: { ':n': { N: '2' } },
            },
          },
          {
            ConditionCheck: { TableName: 'Tx1', Key: { pk: { S: 'd' } }, ConditionExpression: 'attribute_exists(pk)' },
          },
        ],
      }),
    );
    const e = await error(
      ddb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'Tx1', Item: { pk: { S: 'z' } } } },
            {
              ConditionCheck: {
                TableName: 'Tx1',
                Key: { pk: { S: 'c' } },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      ),
    );
    expect(e.name).toBe('TransactionCanceledException');
    const recs = await readAll(arn);
    expect(recs.map((r) => `${r.eventName}:${r.dynamodb!.Keys!.pk.S}`)).toEqual([
      'INSERT:c',
      'INSERT:d',
      'INSERT:a',
      'MODIFY:c',
    ]);
  });

  it('TTL deletions are REMOVE records carrying the service identity', async () => {
    const arn = await createTable('Ttl');
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: 'Ttl',
        TimeToLiveSpecification: { Enabled: true, AttributeName: 'exp' },
      }),
    );
    const expSec = Math.floor(clock.now() / 1000) + 60;
    await put('Ttl', 'a', { exp: { N: String(expSec) } });
    await ddb.send(new DeleteItemCommand({ TableName: 'Ttl', Key: { pk: { S: 'missing' } } }));
    await clock.advance(2 * MIN);
    const recs = await readAll(arn);
    expect(recs.map((r) => r.eventName)).toEqual(['INSERT', 'REMOVE']);
    expect(recs[1].userIdentity).toEqual({ PrincipalId: 'dynamodb.amazonaws.com', Type: 'Service' });
    expect(recs[1].dynamodb!.OldImage).toEqual({ pk: { S: 'a' }, exp: { N: String(expSec) } });
    expect(recs[0].userIdentity).toBeUndefined();
  });
});

describe('shards, iterators and retention', () => {
  it('rolls the shard over every 4 hours: parent closed with EndingSequenceNumber, child with ParentShardId', async () => {
    const arn = await createTable('Roll');
    await put('Roll', 'a');
    await put('Roll', 'b');
    await clock.advance(4 * H);
    await put('Roll', 'c');
    const s = await shards(arn);
    expect(s).toHaveLength(2);
    expect(s[0].SequenceNumberRange!.EndingSequenceNumber).toBeDefined();
    expect(s[1].ParentShardId).toBe(s[0].ShardId);
    expect(s[1].SequenceNumberRange!.EndingSequenceNumber).toBeUndefined();
    expect(BigInt(s[1].SequenceNumberRange!.StartingSequenceNumber!)).toBeGreaterThan(
      BigInt(s[0].SequenceNumberRange!.EndingSequenceNumber!),
    );
    expect((await readAll(arn)).map((r) => r.dynamodb!.Keys!.pk.S)).toEqual(['a', 'b', 'c']);

    // Reading the closed parent ends with no NextShardIterator.
    const it = (
      await streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: s[0].ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      )
    ).ShardIterator;
    const r = await streams.send(new GetRecordsCommand({ ShardIterator: it }));
    expect(r.Records).toHaveLength(2);
    expect(r.NextShardIterator).toBeUndefined();
    expect(r.Records![1].dynamodb!.SequenceNumber).toBe(s[0].SequenceNumberRange!.EndingSequenceNumber);

    // An open shard keeps handing out iterators, even with nothing new.
    const latest = (
      await streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: s[1].ShardId, ShardIteratorType: 'LATEST' }),
      )
    ).ShardIterator;
    const empty = await streams.send(new GetRecordsCommand({ ShardIterator: latest }));
    expect(empty.Records).toEqual([]);
    expect(empty.NextShardIterator).toBeDefined();
    await put('Roll', 'd');
    const next = await streams.send(new GetRecordsCommand({ ShardIterator: empty.NextShardIterator }));
    expect(next.Records!.map((x) => x.dynamodb!.Keys!.pk.S)).toEqual(['d']);

    // Lineage pages and filters.
    await clock.advance(8 * H);
    const all = await shards(arn);
    expect(all).toHaveLength(4);
    const p = await streams.send(new DescribeStreamCommand({ StreamArn: arn, Limit: 1 }));
    expect(p.StreamDescription!.Shards).toHaveLength(1);
    expect(p.StreamDescription!.LastEvaluatedShardId).toBe(all[0].ShardId);
    const kids = await streams.send(
      new DescribeStreamCommand({ StreamArn: arn, ShardFilter: { Type: 'CHILD_SHARDS', ShardId: all[1].ShardId } }),
    );
    expect(kids.StreamDescription!.Shards!.map((x) => x.ShardId)).toEqual([all[2].ShardId]);
  });

  it('GetShardIterator: AT_SEQUENCE_NUMBER / AFTER_SEQUENCE_NUMBER / LATEST', async () => {
    const arn = await createTable('Pos');
    for (const k of ['a', 'b', 'c']) await put('Pos', k);
    const [shard] = await shards(arn);
    const recs = await readAll(arn);
    const seqB = recs[1].dynamodb!.SequenceNumber!;
    const read = async (type: 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER' | 'LATEST', SequenceNumber?: string) => {
      const it = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: shard.ShardId,
          ShardIteratorType: type,
          SequenceNumber,
        }),
      );
      expect(it.ShardIterator!.startsWith(`${arn}|1|`)).toBe(true);
      return (await streams.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }))).Records!.map(
        (r) => r.dynamodb!.Keys!.pk.S,
      );
    };
    expect(await read('AT_SEQUENCE_NUMBER', seqB)).toEqual(['b', 'c']);
    expect(await read('AFTER_SEQUENCE_NUMBER', seqB)).toEqual(['c']);
    expect(await read('LATEST')).toEqual([]);
    // Limit
    const it = await streams.send(
      new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const r1 = await streams.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 2 }));
    expect(r1.Records).toHaveLength(2);
    const r2 = await streams.send(new GetRecordsCommand({ ShardIterator: r1.NextShardIterator, Limit: 2 }));
    expect(r2.Records!.map((r) => r.dynamodb!.Keys!.pk.S)).toEqual(['c']);
  });

  it('iterators expire after 15 minutes', async () => {
    const arn = await createTable('Exp');
    const [shard] = await shards(arn);
    const it = (
      await streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      )
    ).ShardIterator;
    await clock.advance(15 * MIN);
    const ok = await streams.send(new GetRecordsCommand({ ShardIterator: it }));
    await clock.advance(1);
    const e = await error(streams.send(new GetRecordsCommand({ ShardIterator: it })));
    expect(e.name).toBe('ExpiredIteratorException');
    expect(e.$metadata.httpStatusCode).toBe(400);
    // The NextShardIterator handed out later is fresh.
    expect((await streams.send(new GetRecordsCommand({ ShardIterator: ok.NextShardIterator }))).Records).toEqual([]);
  });

  it('records older than 24 hours are trimmed (TrimmedDataAccessException)', async () => {
    const arn = await createTable('Trim');
    await put('Trim', 'old');
    const [shard] = await shards(arn);
    const seqOld = (await readAll(arn))[0].dynamodb!.SequenceNumber!;
    await clock.advance(23 * H + 50 * MIN);
    await put('Trim', 'new');
    const it = (
      await streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      )
    ).ShardIterator;
    await clock.advance(11 * MIN);
    const e = await error(streams.send(new GetRecordsCommand({ ShardIterator: it })));
    expect(e.name).toBe('TrimmedDataAccessException');
    expect(e.message).toBe('The data you are trying to access has been trimmed.');
    const e2 = await error(
      streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: shard.ShardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          SequenceNumber: seqOld,
        }),
      ),
    );
    expect(e2.name).toBe('TrimmedDataAccessException');
    expect((await readAll(arn)).map((r) => r.dynamodb!.Keys!.pk.S)).toEqual(['new']);
    // Closed shards past retention disappear from DescribeStream.
    await clock.advance(25 * H);
    const s = await shards(arn);
    expect(s.every((x) => x.ShardId !== shard.ShardId)).toBe(true);
    expect(s.length).toBeGreaterThan(0);
  });
});

describe('errors', () => {
  it('answers bad requests as AWS does', async () => {
    const arn = await createTable('Err');
    const [shard] = await shards(arn);
    const missing = arn.replace('/stream/', '/stream/x');

    let e = await error(streams.send(new DescribeStreamCommand({ StreamArn: missing })));
    expect(e.name).toBe('ResourceNotFoundException');
    expect(e.message).toBe(`Requested resource not found: Stream: ${missing} not found`);

    e = await error(
      streams.send(
        new GetShardIteratorCommand({ StreamArn: missing, ShardId: shard.ShardId, ShardIteratorType: 'LATEST' }),
      ),
    );
    expect(e.name).toBe('ResourceNotFoundException');

    e = await error(
      streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: 'shardId-00000000000000000000-00000000',
          ShardIteratorType: 'LATEST',
        }),
      ),
    );
    expect(e.name).toBe('ResourceNotFoundException');

    e = await error(
      streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: shard.ShardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        }),
      ),
    );
    expect(e.name).toBe('ValidationException');

    e = await error(
      streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: shard.ShardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          SequenceNumber: '999999999999999999999',
        }),
      ),
    );
    expect(e.name).toBe('ValidationException');

    e = await error(
      streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: 'BOGUS' as any }),
      ),
    );
    expect(e.name).toBe('ValidationException');
    expect(e.message).toContain(
      "at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set",
    );

    e = await error(streams.send(new GetRecordsCommand({ ShardIterator: `${arn}|1|AAAAbogus` })));
    expect(e.name).toBe('ValidationException');

    const it = (
      await streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: 'LATEST' }),
      )
    ).ShardIterator;
    e = await error(streams.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1001 })));
    expect(e.name).toBe('LimitExceededException');
    e = await error(streams.send(new GetRecordsCommand({ ShardIterator: it, Limit: 0 })));
    expect(e.name).toBe('ValidationException');

    e = await error(streams.send(new DescribeStreamCommand({ StreamArn: arn, Limit: 101 })));
    expect(e.name).toBe('ValidationException');
    e = await error(streams.send(new ListStreamsCommand({ Limit: 101 })));
    expect(e.name).toBe('ValidationException');
    e = await error(streams.send(new DescribeStreamCommand({ StreamArn: 'too-short' })));
    expect(e.name).toBe('ValidationException');
  });
});
