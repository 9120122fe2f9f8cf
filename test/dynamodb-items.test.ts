import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Eddy } from '../src/index.ts';
import { dynamoClient, startTestEddy } from './helpers/eddy.ts';

let eddy: Eddy;
let ddb: ReturnType<typeof dynamoClient>;
let doc: DynamoDBDocumentClient;
beforeAll(async () => {
  eddy = await startTestEddy();
  ddb = dynamoClient(eddy);
  doc = DynamoDBDocumentClient.from(ddb);
});
afterAll(async () => {
  ddb.destroy();
  await eddy.stop();
});
beforeEach(async () => {
  eddy.reset();
  await ddb.send(
    new CreateTableCommand({
      TableName: 'items',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

async function error(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e: any) {
    return e;
  }
  throw new Error('expected an error');
}

const key = (pk: string, sk: number) => ({ pk: { S: pk }, sk: { N: String(sk) } });

describe('PutItem / GetItem', () => {
  it('round-trips every attribute type and normalizes numbers', async () => {
    const item = {
      ...key('a', 1),
      s: { S: 'héllo' },
      n: { N: '0001.500' },
      big: { N: '12345678901234567890123456789012345678' },
      b: { B: new Uint8Array([0, 1, 2, 255]) },
      ss: { SS: ['x', 'y'] },
      ns: { NS: ['1', '2.50'] },
      bs: { BS: [new Uint8Array([1]), new Uint8Array([2])] },
      m: { M: { nested: { L: [{ S: 'deep' }, { NULL: true }, { BOOL: false }] } } },
      empty: { S: '' },
    };
    await ddb.send(new PutItemCommand({ TableName: 'items', Item: item }));
    const got = await ddb.send(new GetItemCommand({ TableName: 'items', Key: key('a', 1), ConsistentRead: true }));
    expect(got.Item?.n).toEqual({ N: '1.5' });
    expect(got.Item?.big).toEqual({ N: '12345678901234567890123456789012345678' });
    expect(got.Item?.b.B).toEqual(new Uint8Array([0, 1, 2, 255]));
    expect(got.Item?.m).toEqual(item.m);
    expect(got.Item?.empty).toEqual({ S: '' });
  });

  it('returns ALL_OLD and honest consumed capacity', async () => {
    await ddb.send(new PutItemCommand({ TableName: 'items', Item: { ...key('a', 1), v: { S: 'x'.repeat(3000) } } }));
    const out = await ddb.send(
      new PutItemCommand({
        TableName: 'items',
        Item: { ...key('a', 1), v: { S: 'y' } },
        ReturnValues: 'ALL_OLD',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    expect(out.Attributes?.v.S).toHaveLength(3000);
    expect(out.ConsumedCapacity).toMatchObject({ TableName: 'items', CapacityUnits: 3 });
    const get = await ddb.send(
      new GetItemCommand({ TableName: 'items', Key: key('a', 1), ReturnConsumedCapacity: 'TOTAL' }),
    );
    expect(get.ConsumedCapacity?.CapacityUnits).toBe(0.5);
  });

  it('applies ConditionExpression and returns the old item on failure when asked', async () => {
    await ddb.send(new PutItemCommand({ TableName: 'items', Item: { ...key('a', 1), v: { N: '1' } } }));
    const e = await error(
      ddb.send(
        new PutItemCommand({
          TableName: 'items',
          Item: { ...key('a', 1), v: { N: '2' } },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    expect(e.name).toBe('ConditionalCheckFailedException');
    expect(e.message).toBe('The conditional request failed');
    expect(e.Item).toEqual({ ...key('a', 1), v: { N: '1' } });
    const got = await ddb.send(new GetItemCommand({ TableName: 'items', Key: key('a', 1) }));
    expect(got.Item?.v).toEqual({ N: '1' });
  });

  it.each([
    [
      { TableName: 'items', Item: { pk: { S: 'a' } } },
      'One or more parameter values were invalid: Missing the key sk in the item',
    ],
    [
      { TableName: 'items', Item: { pk: { S: 'a' }, sk: { S: '1' } } },
      'One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S',
    ],
    [
      { TableName: 'items', Item: { ...key('a', 1), big: { S: 'x'.repeat(410 * 1024) } } },
      'Item size has exceeded the maximum allowed size',
    ],
    [
      { TableName: 'items', Item: { pk: { S: '' }, sk: { N: '1' } } },
      'One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk',
    ],
    [{ TableName: 'items', Item: key('a', 1), ReturnValues: 'ALL_NEW' }, 'Return values set to invalid value'],
    [
      {
        TableName: 'items',
        Item: key('a', 1),
        ConditionExpression: 'a = :x',
        ExpressionAttributeValues: { ':x': { S: '1' }, ':y': { S: '2' } },
      },
      'Value provided in ExpressionAttributeValues unused in expressions: keys: {:y}',
    ],
    [
      {
        TableName: 'items',
        Item: key('a', 1),
        ConditionExpression: 'a = :x',
        Expected: { a: { Exists: false } },
        ExpressionAttributeValues: { ':x': { S: '1' } },
      },
      'Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}',
    ],
  ])('refuses bad input %#', async (input, message) => {
    const e = await error(ddb.send(new PutItemCommand(input as any)));
    expect(e.name).toBe('ValidationException');
    expect(e.message).toBe(message);
  });

  it('refuses keys that do not match the schema', async () => {
    const e = await error(ddb.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'a' } } })));
    expect(e.message).toBe('The provided key element does not match the schema');
  });
});

describe('UpdateItem', () => {
  it('SET arithmetic with exact decimals, if_not_exists, list_append, REMOVE, ADD, DELETE', async () => {
    await ddb.send(
      new PutItemCommand({
        TableName: 'items',
        Item: {
          ...key('u', 1),
          n: { N: '0.1' },
          l: { L: [{ S: 'a' }] },
          gone: { S: 'x' },
          tags: { SS: ['a', 'b', 'c'] },
          more: { NS: ['1'] },
        },
      }),
    );
    const out = await ddb.send(
      new UpdateItemCommand({
        TableName: 'items',
        Key: key('u', 1),
        UpdateExpression:
          'SET n = n + :p, l = list_append(l, :more), c = if_not_exists(c, :zero) REMOVE gone ADD cnt :one, more :n2 DELETE tags :t1',
        ExpressionAttributeValues: {
          ':p': { N: '0.2' },
          ':more': { L: [{ S: 'b' }] },
          ':zero': { N: '0' },
          ':one': { N: '1' },
          ':t1': { SS: ['a'] },
          ':n2': { NS: ['2'] },
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(out.Attributes?.n).toEqual({ N: '0.3' });
    expect(out.Attributes?.l).toEqual({ L: [{ S: 'a' }, { S: 'b' }] });
    expect(out.Attributes?.c).toEqual({ N: '0' });
    expect(out.Attributes?.cnt).toEqual({ N: '1' });
    expect(out.Attributes?.gone).toBeUndefined();
    expect(new Set(out.Attributes?.tags.SS)).toEqual(new Set(['b', 'c']));
    expect(new Set(out.Attributes?.more.NS)).toEqual(new Set(['1', '2']));
    const overlap = await error(
      ddb.send(
        new UpdateItemCommand({
          TableName: 'items',
          Key: key('u', 1),
          UpdateExpression: 'ADD tags :t DELETE tags :t',
          ExpressionAttributeValues: { ':t': { SS: ['z'] } },
        }),
      ),
    );
    expect(overlap.message).toBe(
      'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [tags], path two: [tags]',
    );
  });

  it('upserts a missing item and returns UPDATED_NEW / UPDATED_OLD', async () => {
    const created = await ddb.send(
      new UpdateItemCommand({
        TableName: 'items',
        Key: key('new', 1),
        UpdateExpression: 'SET a = :a, b = :b',
        ExpressionAttributeValues: { ':a': { S: 'x' }, ':b': { N: '5' } },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    expect(created.Attributes).toEqual({ a: { S: 'x' }, b: { N: '5' } });
    const old = await ddb.send(
      new UpdateItemCommand({
        TableName: 'items',
        Key: key('new', 1),
        UpdateExpression: 'SET b = :b',
        ExpressionAttributeValues: { ':b': { N: '6' } },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    expect(old.Attributes).toEqual({ b: { N: '5' } });
  });

  it('refuses updates to key attributes and wrong operand types', async () => {
    const e = await error(
      ddb.send(
        new UpdateItemCommand({
          TableName: 'items',
          Key: key('k', 1),
          UpdateExpression: 'SET pk = :v',
          ExpressionAttributeValues: { ':v': { S: 'z' } },
        }),
      ),
    );
    expect(e.message).toBe(
      'One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key',
    );
    await ddb.send(new PutItemCommand({ TableName: 'items', Item: { ...key('k', 1), s: { S: 'x' } } }));
    const t = await error(
      ddb.send(
        new UpdateItemCommand({
          TableName: 'items',
          Key: key('k', 1),
          UpdateExpression: 'SET s = s + :v',
          ExpressionAttributeValues: { ':v': { N: '1' } },
        }),
      ),
    );
    expect(t.name).toBe('ValidationException');
    expect(t.message).toBe('An operand in the update expression has an incorrect data type');
  });

  it('works through the DocumentClient', async () => {
    await doc.send(
      new PutCommand({
        TableName: 'items',
        Item: { pk: 'doc', sk: 1, count: 1, profile: { name: 'Ann', langs: ['en'] } },
      }),
    );
    await doc.send(
      new UpdateCommand({
        TableName: 'items',
        Key: { pk: 'doc', sk: 1 },
        UpdateExpression: 'ADD #c :inc',
        ExpressionAttributeNames: { '#c': 'count' },
        ExpressionAttributeValues: { ':inc': 2 },
      }),
    );
    const got = await doc.send(new GetCommand({ TableName: 'items', Key: { pk: 'doc', sk: 1 } }));
    expect(got.Item).toEqual({ pk: 'doc', sk: 1, count: 3, profile: { name: 'Ann', langs: ['en'] } });
  });
});

describe('DeleteItem', () => {
  it('deletes with a condition and returns ALL_OLD', async () => {
    await ddb.send(new PutItemCommand({ TableName: 'items', Item: { ...key('d', 1), v: { S: 'x' } } }));
    const fail = await error(
      ddb.send(
        new DeleteItemCommand({
          TableName: 'items',
          Key: key('d', 1),
          ConditionExpression: 'v = :y',
          ExpressionAttributeValues: { ':y': { S: 'y' } },
        }),
      ),
    );
    expect(fail.name).toBe('ConditionalCheckFailedException');
    const out = await ddb.send(
      new DeleteItemCommand({ TableName: 'items', Key: key('d', 1), ReturnValues: 'ALL_OLD' }),
    );
    expect(out.Attributes?.v).toEqual({ S: 'x' });
    expect((await ddb.send(new GetItemCommand({ TableName: 'items', Key: key('d', 1) }))).Item).toBeUndefined();
  });
});

describe('Batch operations', () => {
  it('writes up to 25 and reads up to 100 items', async () => {
    const puts = Array.from({ length: 25 }, (_, i) => ({
      PutRequest: { Item: { ...key('b', i), v: { N: String(i) } } },
    }));
    const w = await ddb.send(new BatchWriteItemCommand({ RequestItems: { items: puts } }));
    expect(w.UnprocessedItems).toEqual({});
    const r = await ddb.send(
      new BatchGetItemCommand({
        RequestItems: { items: { Keys: Array.from({ length: 30 }, (_, i) => key('b', i)), ProjectionExpression: 'v' } },
      }),
    );
    expect(r.Responses?.items).toHaveLength(25);
    expect(r.Responses?.items[0]).toEqual({ v: expect.any(Object) });
    const tooMany = await error(ddb.send(new BatchWriteItemCommand({ RequestItems: { items: [...puts, puts[0]] } })));
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.message).toMatch(/Member must have length less than or equal to 25/);
    const dups = await error(ddb.send(new BatchWriteItemCommand({ RequestItems: { items: [puts[0], puts[0]] } })));
    expect(dups.message).toBe('Provided list of item keys contains duplicates');
  });
});

describe('Transactions', () => {
  it('commits all or nothing and reports cancellation reasons', async () => {
    await ddb.send(new PutItemCommand({ TableName: 'items', Item: { ...key('t', 1), bal: { N: '10' } } }));
    const e = await error(
      ddb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'items', Item: { ...key('t', 2), bal: { N: '5' } } } },
            {
              Update: {
                TableName: 'items',
                Key: key('t', 1),
                UpdateExpression: 'SET bal = bal - :a',
                ConditionExpression: 'bal >= :a',
                ExpressionAttributeValues: { ':a': { N: '50' } },
              },
            },
          ],
        }),
      ),
    );
    expect(e.name).toBe('TransactionCanceledException');
    expect(e.message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]',
    );
    expect(e.CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
    ]);
    expect((await ddb.send(new GetItemCommand({ TableName: 'items', Key: key('t', 2) }))).Item).toBeUndefined();

    const tx = {
      ClientRequestToken: 'token-1',
      TransactItems: [
        { Put: { TableName: 'items', Item: { ...key('t', 2), bal: { N: '5' } } } },
        {
          Update: {
            TableName: 'items',
            Key: key('t', 1),
            UpdateExpression: 'SET bal = bal - :a',
            ExpressionAttributeValues: { ':a': { N: '5' } },
          },
        },
      ],
    };
    await ddb.send(new TransactWriteItemsCommand(tx));
    await ddb.send(new TransactWriteItemsCommand(tx)); // idempotent repeat: no second debit
    const got = await ddb.send(
      new TransactGetItemsCommand({
        TransactItems: [
          { Get: { TableName: 'items', Key: key('t', 1) } },
          { Get: { TableName: 'items', Key: key('t', 9) } },
        ],
      }),
    );
    expect(got.Responses?.[0].Item?.bal).toEqual({ N: '5' });
    expect(got.Responses?.[1]).toEqual({});
    const mismatch = await error(
      ddb.send(new TransactWriteItemsCommand({ ...tx, TransactItems: tx.TransactItems.slice(0, 1) })),
    );
    expect(mismatch.name).toBe('IdempotentParameterMismatchException');
    const same = await error(
      ddb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'items', Item: key('t', 3) } },
            { Delete: { TableName: 'items', Key: key('t', 3) } },
          ],
        }),
      ),
    );
    expect(same.message).toBe('Transaction request cannot include multiple operations on one item');
  });
});
