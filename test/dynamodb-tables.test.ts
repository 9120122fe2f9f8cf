import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ListTablesCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
  paginateListTables,
  QueryCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Eddy } from '../src/index.ts';
import { dynamoClient, startTestEddy } from './helpers/eddy.ts';

let eddy: Eddy;
let ddb: ReturnType<typeof dynamoClient>;
beforeAll(async () => {
  eddy = await startTestEddy();
  ddb = dynamoClient(eddy);
});
afterAll(async () => {
  ddb.destroy();
  await eddy.stop();
});
beforeEach(() => eddy.reset());

const simple = (name: string) =>
  new CreateTableCommand({
    TableName: name,
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });

async function error(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e: any) {
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected an error');
}

describe('CreateTable / DescribeTable', () => {
  it('creates an on-demand table that reports CREATING then ACTIVE (waiters work)', async () => {
    const out = await ddb.send(simple('users'));
    expect(out.TableDescription?.TableStatus).toBe('CREATING');
    expect(out.TableDescription?.TableArn).toBe('arn:aws:dynamodb:us-east-1:000000000000:table/users');
    expect(out.TableDescription?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(out.TableDescription?.ProvisionedThroughput).toEqual({
      NumberOfDecreasesToday: 0,
      ReadCapacityUnits: 0,
      WriteCapacityUnits: 0,
    });
    await waitUntilTableExists({ client: ddb, maxWaitTime: 5, minDelay: 1 }, { TableName: 'users' });
    const d = await ddb.send(new DescribeTableCommand({ TableName: 'users' }));
    expect(d.Table?.TableStatus).toBe('ACTIVE');
    expect(d.Table?.ItemCount).toBe(0);
    expect(d.Table?.CreationDateTime).toBeInstanceOf(Date);
    expect(d.Table?.DeletionProtectionEnabled).toBe(false);
  });

  it('creates a provisioned table with GSIs, LSIs, streams, SSE and tags', async () => {
    const out = await ddb.send(
      new CreateTableCommand({
        TableName: 'messages',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'N' },
          { AttributeName: 'author', AttributeType: 'S' },
          { AttributeName: 'ts', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
        GlobalSecondaryIndexes: [
          {
            IndexName: 'author-index',
            KeySchema: [{ AttributeName: 'author', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
            ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
          },
        ],
        LocalSecondaryIndexes: [
          {
            IndexName: 'ts-index',
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'ts', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
        SSESpecification: { Enabled: true },
        Tags: [{ Key: 'env', Value: 'test' }],
        DeletionProtectionEnabled: true,
      }),
    );
    const t = out.TableDescription!;
    expect(t.ProvisionedThroughput?.ReadCapacityUnits).toBe(5);
    expect(t.BillingModeSummary).toBeUndefined();
    expect(t.GlobalSecondaryIndexes?.[0].IndexStatus).toBe('CREATING');
    expect(t.LocalSecondaryIndexes?.[0].IndexArn).toBe(`${t.TableArn}/index/ts-index`);
    expect(t.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(t.SSEDescription?.Status).toBe('ENABLED');
    expect(t.SSEDescription?.SSEType).toBe('KMS');
    const d = await ddb.send(new DescribeTableCommand({ TableName: t.TableArn! }));
    expect(d.Table?.GlobalSecondaryIndexes?.[0].IndexStatus).toBe('ACTIVE');
    const tags = await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: t.TableArn! }));
    expect(tags.Tags).toEqual([{ Key: 'env', Value: 'test' }]);
    const e = await error(ddb.send(new DeleteTableCommand({ TableName: 'messages' })));
    expect(e.name).toBe('ValidationException');
    expect(e.message).toMatch(/protected against deletion/);
  });

  it.each([
    [
      { KeySchema: [{ AttributeName: 'id', KeyType: 'RANGE' as const }] },
      'Invalid KeySchema: The first KeySchemaElement is not a HASH key type',
    ],
    [
      { KeySchema: [{ AttributeName: 'nope', KeyType: 'HASH' as const }] },
      'One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [nope], AttributeDefinitions: [id]',
    ],
    [{ BillingMode: 'PROVISIONED' as const }, 'No provisioned throughput specified for the table'],
    [
      { ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } },
      'One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST',
    ],
    [
      { TableName: 'ab' },
      "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
    ],
    [
      {
        AttributeDefinitions: [
          { AttributeName: 'id', AttributeType: 'S' as const },
          { AttributeName: 'x', AttributeType: 'S' as const },
        ],
      },
      'One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions',
    ],
  ])('refuses a bad definition %#', async (patch, message) => {
    const base = simple('bad-table').input;
    const e = await error(ddb.send(new CreateTableCommand({ ...base, ...patch } as any)));
    expect(e.name).toBe('ValidationException');
    expect(e.message).toBe(message);
    expect(e.status).toBe(400);
    const list = await ddb.send(new ListTablesCommand({}));
    expect(list.TableNames).toEqual([]);
  });

  it('refuses a duplicate table and unknown tables with AWS errors', async () => {
    await ddb.send(simple('dup'));
    const e = await error(ddb.send(simple('dup')));
    expect(e).toMatchObject({ name: 'ResourceInUseException', message: 'Table already exists: dup' });
    const nf = await error(ddb.send(new DescribeTableCommand({ TableName: 'missing' })));
    expect(nf).toMatchObject({ name: 'ResourceNotFoundException', status: 400 });
    expect(nf.message).toBe('Requested resource not found: Table: missing not found');
  });
});

describe('ListTables', () => {
  it('paginates in name order per account and region', async () => {
    for (const n of ['t-c', 't-a', 't-b', 't-d', 't-e']) await ddb.send(simple(n));
    const page = await ddb.send(new ListTablesCommand({ Limit: 2 }));
    expect(page.TableNames).toEqual(['t-a', 't-b']);
    expect(page.LastEvaluatedTableName).toBe('t-b');
    const all: string[] = [];
    for await (const p of paginateListTables({ client: ddb, pageSize: 2 }, {})) all.push(...(p.TableNames ?? []));
    expect(all).toEqual(['t-a', 't-b', 't-c', 't-d', 't-e']);
    const other = dynamoClient(eddy, 'eu-west-1');
    expect((await other.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    other.destroy();
  });
});

describe('UpdateTable', () => {
  it('switches billing mode, adds and removes a GSI with backfill, and toggles streams', async () => {
    await ddb.send(
      new CreateTableCommand({
        TableName: 'evolve',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
      }),
    );
    await ddb.send(new PutItemCommand({ TableName: 'evolve', Item: { id: { S: '1' }, color: { S: 'red' } } }));
    await ddb.send(new PutItemCommand({ TableName: 'evolve', Item: { id: { S: '2' }, color: { S: 'blue' } } }));
    const same = await error(
      ddb.send(
        new UpdateTableCommand({
          TableName: 'evolve',
          ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
        }),
      ),
    );
    expect(same.message).toMatch(/^The provisioned throughput for the table will not change/);
    const u = await ddb.send(
      new UpdateTableCommand({
        TableName: 'evolve',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'color', AttributeType: 'S' }],
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: 'by-color',
              KeySchema: [{ AttributeName: 'color', KeyType: 'HASH' }],
              Projection: { ProjectionType: 'ALL' },
            },
          },
        ],
      }),
    );
    expect(u.TableDescription?.TableStatus).toBe('UPDATING');
    expect(u.TableDescription?.GlobalSecondaryIndexes?.[0].IndexStatus).toBe('CREATING');
    const q = await ddb.send(
      new QueryCommand({
        TableName: 'evolve',
        IndexName: 'by-color',
        KeyConditionExpression: 'color = :c',
        ExpressionAttributeValues: { ':c': { S: 'blue' } },
      }),
    );
    expect(q.Items?.map((i) => i.id.S)).toEqual(['2']);
    await ddb.send(
      new UpdateTableCommand({
        TableName: 'evolve',
        GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'by-color' } }],
      }),
    );
    const d = await ddb.send(new DescribeTableCommand({ TableName: 'evolve' }));
    expect(d.Table?.GlobalSecondaryIndexes).toBeUndefined();
    expect(d.Table?.AttributeDefinitions).toEqual([{ AttributeName: 'id', AttributeType: 'S' }]);
    expect(d.Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const none = await error(ddb.send(new UpdateTableCommand({ TableName: 'evolve' })));
    expect(none.message).toMatch(/^At least one of ProvisionedThroughput, BillingMode/);
  });
});

describe('TTL and tags', () => {
  it('enables and describes TTL, refusing a repeat', async () => {
    await ddb.send(simple('ttl'));
    expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName: 'ttl' }))).TimeToLiveDescription).toEqual({
      TimeToLiveStatus: 'DISABLED',
    });
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: 'ttl',
        TimeToLiveSpecification: { Enabled: true, AttributeName: 'expires' },
      }),
    );
    expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName: 'ttl' }))).TimeToLiveDescription).toEqual({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: 'expires',
    });
    const again = await error(
      ddb.send(
        new UpdateTimeToLiveCommand({
          TableName: 'ttl',
          TimeToLiveSpecification: { Enabled: true, AttributeName: 'expires' },
        }),
      ),
    );
    expect(again).toMatchObject({ name: 'ValidationException', message: 'TimeToLive is already enabled' });
  });

  it('tags and untags by ARN', async () => {
    const arn = (await ddb.send(simple('tagged'))).TableDescription!.TableArn!;
    await ddb.send(
      new TagResourceCommand({
        ResourceArn: arn,
        Tags: [
          { Key: 'a', Value: '1' },
          { Key: 'b', Value: '2' },
        ],
      }),
    );
    await ddb.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ['a'] }));
    expect((await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags).toEqual([
      { Key: 'b', Value: '2' },
    ]);
  });

  it('deletes a table and its items', async () => {
    await ddb.send(simple('gone'));
    await ddb.send(new PutItemCommand({ TableName: 'gone', Item: { id: { S: 'x' } } }));
    const del = await ddb.send(new DeleteTableCommand({ TableName: 'gone' }));
    expect(del.TableDescription?.TableStatus).toBe('DELETING');
    await ddb.send(simple('gone'));
    expect((await ddb.send(new DescribeTableCommand({ TableName: 'gone' }))).Table?.ItemCount).toBe(0);
  });
});
