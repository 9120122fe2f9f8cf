import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.ts';
import type { RequestContext } from '../../core/context.ts';
import { silentLogger } from '../../core/logger.ts';
import type { StreamTableInfo } from '../../core/ports.ts';
import { openSqliteStorage } from '../../storage/sqlite/sqlite-storage.ts';
import type { Storage } from '../../storage/types.ts';
import { createDynamoDbStreamsService, type DynamoDbStreams } from './index.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0, 250);
const H = 3_600_000;
let storage: Storage;
let svc: DynamoDbStreams;
let clock: VirtualClock;

const table: StreamTableInfo = {
  accountId: '000000000000',
  region: 'us-east-1',
  tableName: 'Music',
  keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  viewType: 'NEW_AND_OLD_IMAGES',
};
const change = (pk: string, oldV?: string, newV?: string) => ({
  accountId: table.accountId,
  region: table.region,
  tableName: table.tableName,
  keys: { pk: { S: pk } },
  oldImage: oldV === undefined ? undefined : { pk: { S: pk }, v: { S: oldV } },
  newImage: newV === undefined ? undefined : { pk: { S: pk }, v: { S: newV } },
});

function setup() {
  clock = new VirtualClock(T0);
  storage = openSqliteStorage();
  svc = createDynamoDbStreamsService({ storage, clock, logger: silentLogger(), endpoint: () => '' });
}
const ctx = (): RequestContext => ({
  requestId: 'r',
  accountId: '000000000000',
  region: 'us-east-1',
  service: 'dynamodbstreams',
  operation: 'x',
  clock,
  endpoint: '',
});
const op = (name: string, input: unknown): any => (svc.service.operations[name] as any)(input, ctx());

afterEach(() => {
  svc?.stop();
  storage?.close();
});

describe('StreamsPort', () => {
  it('enables a stream with an AWS-shaped ARN and label, and records changes with the view type applied', () => {
    setup();
    const { streamArn, streamLabel } = storage.tx(() => svc.port.enableStream(table, T0));
    expect(streamLabel).toBe('2026-01-01T12:00:00.250');
    expect(streamArn).toBe(`arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/${streamLabel}`);
    storage.tx(() => svc.port.recordChange(streamArn, change('a', undefined, 'x'), T0 + 1999));
    storage.tx(() => svc.port.recordChange(streamArn, change('a', 'x', 'y'), T0 + 2000));
    storage.tx(() =>
      svc.port.recordChange(
        streamArn,
        { ...change('a', 'y'), userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } },
        T0 + 3000,
      ),
    );
    const shardId = op('DescribeStream', { StreamArn: streamArn }).StreamDescription.Shards[0].ShardId;
    const it0 = op('GetShardIterator', {
      StreamArn: streamArn,
      ShardId: shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }).ShardIterator;
    expect(it0.startsWith(`${streamArn}|1|`)).toBe(true);
    const { Records } = op('GetRecords', { ShardIterator: it0 });
    expect(Records.map((r: any) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    const [ins, mod, rem] = Records;
    expect(ins).toMatchObject({ eventVersion: '1.1', eventSource: 'aws:dynamodb', awsRegion: 'us-east-1' });
    expect(ins.eventID).toMatch(/^[0-9a-f]{32}$/);
    expect(ins.dynamodb.ApproximateCreationDateTime).toEqual(new Date(Math.floor((T0 + 1999) / 1000) * 1000));
    expect(ins.dynamodb.OldImage).toBeUndefined();
    expect(ins.dynamodb.NewImage).toEqual({ pk: { S: 'a' }, v: { S: 'x' } });
    expect(ins.dynamodb.SizeBytes).toBe(3 + 3 + 2);
    expect(mod.dynamodb.SizeBytes).toBe(3 + 5 + 5);
    expect(rem.userIdentity).toEqual({ PrincipalId: 'dynamodb.amazonaws.com', Type: 'Service' });
    expect(rem.dynamodb.NewImage).toBeUndefined();
    expect(ins.dynamodb.SequenceNumber < mod.dynamodb.SequenceNumber).toBe(true);
    expect(Object.keys(ins.dynamodb)).toEqual([
      'ApproximateCreationDateTime',
      'Keys',
      'NewImage',
      'SequenceNumber',
      'SizeBytes',
      'StreamViewType',
    ]);
  });

  it('applies KEYS_ONLY, NEW_IMAGE and OLD_IMAGE', () => {
    setup();
    for (const viewType of ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE'] as const) {
      const { streamArn } = svc.port.enableStream({ ...table, tableName: `T_${viewType}`, viewType }, T0);
      svc.port.recordChange(streamArn, change('k', 'o', 'n'), T0);
      const shardId = op('DescribeStream', { StreamArn: streamArn }).StreamDescription.Shards[0].ShardId;
      const it = op('GetShardIterator', {
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }).ShardIterator;
      const d = op('GetRecords', { ShardIterator: it }).Records[0].dynamodb;
      expect(d.StreamViewType).toBe(viewType);
      expect('NewImage' in d).toBe(viewType === 'NEW_IMAGE');
      expect('OldImage' in d).toBe(viewType === 'OLD_IMAGE');
    }
  });

  it('re-enabling in the same millisecond still makes a new stream', () => {
    setup();
    const a = svc.port.enableStream(table, T0);
    svc.port.disableStream(a.streamArn, T0);
    const b = svc.port.enableStream(table, T0);
    expect(b.streamArn).not.toBe(a.streamArn);
    expect(op('ListStreams', { TableName: 'Music' }).Streams).toHaveLength(2);
  });

  it('drops records for a disabled stream rather than failing the write', () => {
    setup();
    const a = svc.port.enableStream(table, T0);
    svc.port.disableStream(a.streamArn, T0);
    expect(() => svc.port.recordChange(a.streamArn, change('a', undefined, 'x'), T0)).not.toThrow();
  });

  it('expires iterators after 15 minutes', async () => {
    setup();
    const { streamArn } = svc.port.enableStream(table, T0);
    const shardId = op('DescribeStream', { StreamArn: streamArn }).StreamDescription.Shards[0].ShardId;
    const it = op('GetShardIterator', {
      StreamArn: streamArn,
      ShardId: shardId,
      ShardIteratorType: 'LATEST',
    }).ShardIterator;
    await clock.advance(15 * 60_000);
    expect(op('GetRecords', { ShardIterator: it }).NextShardIterator).toBeDefined();
    await clock.advance(1);
    expect(() => op('GetRecords', { ShardIterator: it })).toThrow(
      expect.objectContaining({ code: 'ExpiredIteratorException' }),
    );
    void H;
  });

  it('an iterator taken on an empty shard ends once that shard closes', () => {
    setup();
    const { streamArn } = svc.port.enableStream(table, T0);
    const shardId = op('DescribeStream', { StreamArn: streamArn }).StreamDescription.Shards[0].ShardId;
    const it = op('GetShardIterator', {
      StreamArn: streamArn,
      ShardId: shardId,
      ShardIteratorType: 'LATEST',
    }).ShardIterator;
    svc.port.disableStream(streamArn, T0 + 1);
    const r = op('GetRecords', { ShardIterator: it });
    expect(r.Records).toEqual([]);
    expect(r.NextShardIterator).toBeUndefined();
  });

  it('GetRecords stops at 1 MB and at Limit, handing on the position', () => {
    setup();
    const { streamArn } = svc.port.enableStream(table, T0);
    const big = 'x'.repeat(300 * 1024);
    storage.tx(() => {
      for (let i = 0; i < 5; i++) svc.port.recordChange(streamArn, change(`k${i}`, undefined, big), T0);
    });
    const shardId = op('DescribeStream', { StreamArn: streamArn }).StreamDescription.Shards[0].ShardId;
    let it = op('GetShardIterator', {
      StreamArn: streamArn,
      ShardId: shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }).ShardIterator;
    const r1 = op('GetRecords', { ShardIterator: it });
    expect(r1.Records).toHaveLength(3);
    const r2 = op('GetRecords', { ShardIterator: r1.NextShardIterator, Limit: 1 });
    expect(r2.Records.map((r: any) => r.dynamodb.Keys.pk.S)).toEqual(['k3']);
    it = r2.NextShardIterator;
    expect(op('GetRecords', { ShardIterator: it }).Records.map((r: any) => r.dynamodb.Keys.pk.S)).toEqual(['k4']);
  });

  it('recordChange stays cheap (hot path of every item write)', () => {
    setup();
    const { streamArn } = svc.port.enableStream(table, T0);
    const c = change('a', 'x', 'y');
    const n = 5000;
    const t = performance.now();
    for (let i = 0; i < n; i++) storage.tx(() => svc.port.recordChange(streamArn, c, T0));
    const usPer = ((performance.now() - t) * 1000) / n;
    console.log(`recordChange: ${usPer.toFixed(1)} µs per record (own tx, in-memory SQLite)`);
    expect(usPer).toBeLessThan(500);
  });

  it('wakes a waiting consumer right after the writing transaction (write → record visible)', async () => {
    setup();
    const { streamArn } = svc.port.enableStream(table, T0);
    const shardId = svc.logs.get(streamArn)!.shards[0].shardId;
    let next = 0n;
    const lat: number[] = [];
    let sentAt = 0;
    let seen!: () => void;
    const off = svc.logs.subscribe(streamArn, shardId, () => {
      const r = svc.readRecords(streamArn, shardId, next, 1000);
      if (!r.records.length) return;
      next = r.nextSeq;
      lat.push(performance.now() - sentAt);
      seen();
    });
    for (let i = 0; i < 300; i++) {
      const got = new Promise<void>((res) => (seen = res));
      sentAt = performance.now();
      storage.tx(() => svc.port.recordChange(streamArn, change(`k${i}`, undefined, 'v'), T0));
      await got;
    }
    off();
    lat.sort((a, b) => a - b);
    const p = (q: number) => lat[Math.floor(q * (lat.length - 1))].toFixed(3);
    console.log(`write → wake-up → record read: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms (in-process, in-memory)`);
    expect(lat).toHaveLength(300);
    expect(Number(p(0.5))).toBeLessThan(5);
  });
});
