import {
  BatchWriteItemCommand,
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  paginateScan,
  QueryCommand,
  ScanCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Eddy, VirtualClock } from '../src/index.ts';
import { dynamoClient, startTestEddy } from './helpers/eddy.ts';

let eddy: Eddy;
let clock: VirtualClock;
let ddb: ReturnType<typeof dynamoClient>;
beforeAll(async () => {
  clock = new VirtualClock(Date.UTC(2026, 0, 1));
  eddy = await startTestEddy({ clock });
  ddb = dynamoClient(eddy);
});
afterAll(async () => {
  ddb.destroy();
  await eddy.stop();
});

async function error(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e: any) {
    return e;
  }
  throw new Error('expected an error');
}

async function seed() {
  eddy.reset();
  await ddb.send(
    new CreateTableCommand({
      TableName: 'qtab',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
        { AttributeName: 'name', AttributeType: 'S' },
        { AttributeName: 'grp', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      LocalSecondaryIndexes: [
        {
          IndexName: 'by-name',
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'name', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by-grp',
          KeySchema: [
            { AttributeName: 'grp', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['name'] },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  // Sort keys that sort differently as numbers and as strings, negatives and decimals included.
  const sks = ['-10', '-2.5', '0', '1', '2', '10', '100', '1e3', '0.001'];
  const reqs = sks.map((sk, i) => ({
    PutRequest: {
      Item: {
        pk: { S: 'p' },
        sk: { N: sk },
        name: { S: `n${String.fromCharCode(106 - i)}` },
        grp: { S: i % 2 ? 'odd' : 'even' },
        v: { N: String(i) },
      },
    },
  }));
  await ddb.send(new BatchWriteItemCommand({ RequestItems: { qtab: reqs } }));
  for (let i = 0; i < 20; i++)
    await ddb.send(new PutItemCommand({ TableName: 'qtab', Item: { pk: { S: `other-${i}` }, sk: { N: '1' } } }));
}

describe('Query', () => {
  beforeEach(seed);
  const q = (extra: Record<string, unknown>) =>
    ddb.send(
      new QueryCommand({
        TableName: 'qtab',
        ExpressionAttributeValues: { ':p': { S: 'p' } },
        KeyConditionExpression: 'pk = :p',
        ...extra,
      } as any),
    );

  it('returns a partition in numeric sort-key order, forward and backward', async () => {
    const fwd = await q({});
    expect(fwd.Items?.map((i) => i.sk.N)).toEqual(['-10', '-2.5', '0', '0.001', '1', '2', '10', '100', '1000']);
    expect(fwd.Count).toBe(9);
    const back = await q({ ScanIndexForward: false, Limit: 2 });
    expect(back.Items?.map((i) => i.sk.N)).toEqual(['1000', '100']);
    expect(back.LastEvaluatedKey).toEqual({ pk: { S: 'p' }, sk: { N: '100' } });
  });

  it.each([
    ['sk < :a', { ':a': { N: '0' } }, ['-10', '-2.5']],
    ['sk <= :a', { ':a': { N: '0' } }, ['-10', '-2.5', '0']],
    ['sk > :a', { ':a': { N: '10' } }, ['100', '1000']],
    ['sk >= :a', { ':a': { N: '10' } }, ['10', '100', '1000']],
    ['sk = :a', { ':a': { N: '1.0' } }, ['1']],
    ['sk BETWEEN :a AND :b', { ':a': { N: '-2.5' }, ':b': { N: '1' } }, ['-2.5', '0', '0.001', '1']],
  ])('key condition pk = :p AND %s', async (cond, values, expected) => {
    const out = await q({
      KeyConditionExpression: `pk = :p AND ${cond}`,
      ExpressionAttributeValues: { ':p': { S: 'p' }, ...values },
    });
    expect(out.Items?.map((i) => i.sk.N)).toEqual(expected);
  });

  it('filters after Limit counts evaluated items, and projects', async () => {
    const out = await q({
      Limit: 4,
      FilterExpression: 'v > :z',
      ProjectionExpression: 'sk, #n',
      ExpressionAttributeNames: { '#n': 'name' },
      ExpressionAttributeValues: { ':p': { S: 'p' }, ':z': { N: '1' } },
    });
    expect(out.ScannedCount).toBe(4);
    expect(out.Count).toBe(2);
    expect(Object.keys(out.Items![0]).sort()).toEqual(['name', 'sk']);
    const count = await q({ Select: 'COUNT' });
    expect(count.Items).toBeUndefined();
    expect(count.Count).toBe(9);
  });

  it('pages with ExclusiveStartKey until done', async () => {
    const seen: string[] = [];
    for await (const page of paginateQuery(
      { client: ddb, pageSize: 4 },
      { TableName: 'qtab', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'p' } } },
    )) {
      seen.push(...(page.Items ?? []).map((i) => i.sk.N!));
    }
    expect(seen).toHaveLength(9);
  });

  it('queries an LSI (keys only) and a GSI (include), refusing what AWS refuses', async () => {
    const lsi = await q({
      IndexName: 'by-name',
      KeyConditionExpression: 'pk = :p AND begins_with(#n, :b)',
      ExpressionAttributeNames: { '#n': 'name' },
      ExpressionAttributeValues: { ':p': { S: 'p' }, ':b': { S: 'nj' } },
    });
    expect(lsi.Items).toEqual([{ pk: { S: 'p' }, sk: { N: '-10' }, name: { S: 'nj' } }]);
    const lsiAll = await q({ IndexName: 'by-name', Select: 'ALL_ATTRIBUTES', Limit: 1 });
    expect(lsiAll.Items?.[0].v).toBeDefined();
    const gsi = await ddb.send(
      new QueryCommand({
        TableName: 'qtab',
        IndexName: 'by-grp',
        KeyConditionExpression: 'grp = :g',
        ExpressionAttributeValues: { ':g': { S: 'odd' } },
      }),
    );
    expect(gsi.Items?.map((i) => i.sk.N)).toEqual(['-2.5', '1', '10', '1000']);
    expect(Object.keys(gsi.Items![0]).sort()).toEqual(['grp', 'name', 'pk', 'sk']);
    const gsiPage = await ddb.send(
      new QueryCommand({
        TableName: 'qtab',
        IndexName: 'by-grp',
        KeyConditionExpression: 'grp = :g',
        ExpressionAttributeValues: { ':g': { S: 'odd' } },
        Limit: 1,
      }),
    );
    expect(gsiPage.LastEvaluatedKey).toEqual({ pk: { S: 'p' }, sk: { N: '-2.5' }, grp: { S: 'odd' } });
    const next = await ddb.send(
      new QueryCommand({
        TableName: 'qtab',
        IndexName: 'by-grp',
        KeyConditionExpression: 'grp = :g',
        ExpressionAttributeValues: { ':g': { S: 'odd' } },
        ExclusiveStartKey: gsiPage.LastEvaluatedKey,
      }),
    );
    expect(next.Items?.map((i) => i.sk.N)).toEqual(['1', '10', '1000']);
    expect(
      (
        await error(
          ddb.send(
            new QueryCommand({
              TableName: 'qtab',
              IndexName: 'by-grp',
              ConsistentRead: true,
              KeyConditionExpression: 'grp = :g',
              ExpressionAttributeValues: { ':g': { S: 'odd' } },
            }),
          ),
        )
      ).message,
    ).toBe('Consistent reads are not supported on global secondary indexes');
    expect((await error(q({ IndexName: 'nope' }))).message).toBe('The table does not have the specified index: nope');
    expect((await error(ddb.send(new QueryCommand({ TableName: 'qtab' })))).message).toBe(
      'Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.',
    );
  });

  it('supports the legacy KeyConditions and QueryFilter', async () => {
    const out = await ddb.send(
      new QueryCommand({
        TableName: 'qtab',
        KeyConditions: {
          pk: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'p' }] },
          sk: { ComparisonOperator: 'GT', AttributeValueList: [{ N: '10' }] },
        },
        QueryFilter: { v: { ComparisonOperator: 'LT', AttributeValueList: [{ N: '7' }] } },
      }),
    );
    expect(out.Items?.map((i) => i.sk.N)).toEqual(['100']);
  });

  it('stops pages at 1 MB', async () => {
    const big = 'x'.repeat(300 * 1024);
    for (let i = 0; i < 5; i++)
      await ddb.send(
        new PutItemCommand({ TableName: 'qtab', Item: { pk: { S: 'big' }, sk: { N: String(i) }, blob: { S: big } } }),
      );
    const out = await ddb.send(
      new QueryCommand({
        TableName: 'qtab',
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'big' } },
      }),
    );
    expect(out.Count).toBe(4);
    expect(out.LastEvaluatedKey).toEqual({ pk: { S: 'big' }, sk: { N: '3' } });
  });
});

describe('Scan', () => {
  beforeEach(seed);
  it('scans everything once across pages and across parallel segments', async () => {
    const all: string[] = [];
    for await (const page of paginateScan({ client: ddb, pageSize: 7 }, { TableName: 'qtab' }))
      all.push(...(page.Items ?? []).map((i) => `${i.pk.S}/${i.sk.N}`));
    expect(all).toHaveLength(29);
    expect(new Set(all).size).toBe(29);
    const segs: string[] = [];
    for (let s = 0; s < 4; s++) {
      const out = await ddb.send(new ScanCommand({ TableName: 'qtab', Segment: s, TotalSegments: 4 }));
      segs.push(...(out.Items ?? []).map((i) => `${i.pk.S}/${i.sk.N}`));
    }
    expect(segs.sort()).toEqual([...all].sort());
    const e = await error(ddb.send(new ScanCommand({ TableName: 'qtab', Segment: 4, TotalSegments: 4 })));
    expect(e.message).toBe(
      'The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4',
    );
  });

  it('filters with FilterExpression and the legacy ScanFilter', async () => {
    const f = await ddb.send(
      new ScanCommand({
        TableName: 'qtab',
        FilterExpression: 'grp = :g',
        ExpressionAttributeValues: { ':g': { S: 'even' } },
      }),
    );
    expect(f.Count).toBe(5);
    expect(f.ScannedCount).toBe(29);
    const l = await ddb.send(
      new ScanCommand({
        TableName: 'qtab',
        ScanFilter: { grp: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'even' }] } },
      }),
    );
    expect(l.Count).toBe(5);
  });
});

describe('TTL', () => {
  it('deletes expired items when the clock passes their expiry, and no sooner', async () => {
    eddy.reset();
    await ddb.send(
      new CreateTableCommand({
        TableName: 'sessions',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: 'sessions',
        TimeToLiveSpecification: { Enabled: true, AttributeName: 'exp' },
      }),
    );
    const nowSec = Math.floor(clock.now() / 1000);
    await ddb.send(
      new PutItemCommand({ TableName: 'sessions', Item: { id: { S: 'soon' }, exp: { N: String(nowSec + 60) } } }),
    );
    await ddb.send(
      new PutItemCommand({ TableName: 'sessions', Item: { id: { S: 'later' }, exp: { N: String(nowSec + 3600) } } }),
    );
    await ddb.send(new PutItemCommand({ TableName: 'sessions', Item: { id: { S: 'text' }, exp: { S: 'never' } } }));
    await ddb.send(
      new PutItemCommand({
        TableName: 'sessions',
        Item: { id: { S: 'ancient' }, exp: { N: String(nowSec - 6 * 365 * 86400) } },
      }),
    );
    const ids = async () =>
      ((await ddb.send(new ScanCommand({ TableName: 'sessions' }))).Items ?? []).map((i) => i.id.S).sort();
    await clock.advance(59_000);
    expect(await ids()).toEqual(['ancient', 'later', 'soon', 'text']);
    await clock.advance(2_000);
    expect(await ids()).toEqual(['ancient', 'later', 'text']);
    await clock.advance(3600_000);
    expect(await ids()).toEqual(['ancient', 'text']);
    expect(
      (await ddb.send(new GetItemCommand({ TableName: 'sessions', Key: { id: { S: 'later' } } }))).Item,
    ).toBeUndefined();
  });
});
