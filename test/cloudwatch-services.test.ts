// Metrics Eddy's services emit through CloudWatch's MetricsPort (AWS/DynamoDB today), read back with the SDK.
import { CloudWatchClient, GetMetricStatisticsCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Eddy, startEddy, VirtualClock } from '../src/index.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 10);
let eddy: Eddy;
let cw: CloudWatchClient;
let ddb: DynamoDBClient;

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, clock: new VirtualClock(T0), logLevel: 'silent' });
  const cfg = {
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  cw = new CloudWatchClient(cfg);
  ddb = new DynamoDBClient(cfg);
});
afterAll(async () => {
  cw.destroy();
  ddb.destroy();
  await eddy.stop();
});

const sum = async (MetricName: string, Dimensions?: { Name: string; Value: string }[]) => {
  const r = await cw.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/DynamoDB',
      MetricName,
      Dimensions,
      StartTime: new Date(T0 - 600_000),
      EndTime: new Date(T0 + 600_000),
      Period: 60,
      Statistics: ['Sum', 'SampleCount'],
    }),
  );
  return r.Datapoints?.map((d) => [d.Sum, d.SampleCount, d.Unit]);
};

describe('AWS/DynamoDB metrics', () => {
  it('capacity, returned items, conditional failures and user errors', async () => {
    await ddb.send(
      new CreateTableCommand({
        TableName: 'orders',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await ddb.send(new PutItemCommand({ TableName: 'orders', Item: { pk: { S: 'a' }, big: { S: 'x'.repeat(1500) } } }));
    await ddb.send(new PutItemCommand({ TableName: 'orders', Item: { pk: { S: 'b' } } }));
    const got = await ddb.send(new GetItemCommand({ TableName: 'orders', Key: { pk: { S: 'a' } } }));
    // Capacity is measured internally, but the answer carries ConsumedCapacity only when asked.
    expect(got.ConsumedCapacity).toBeUndefined();
    await ddb.send(
      new QueryCommand({
        TableName: 'orders',
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'b' } },
        ConsistentRead: true,
      }),
    );
    await expect(
      ddb.send(
        new PutItemCommand({
          TableName: 'orders',
          Item: { pk: { S: 'a' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toThrow();
    await expect(ddb.send(new GetItemCommand({ TableName: 'missing', Key: { pk: { S: 'a' } } }))).rejects.toThrow();

    const table = [{ Name: 'TableName', Value: 'orders' }];
    expect(await sum('ConsumedWriteCapacityUnits', table)).toEqual([[3, 2, 'Count']]);
    expect(await sum('ConsumedReadCapacityUnits', table)).toEqual([[1.5, 2, 'Count']]);
    expect(await sum('ReturnedItemCount', [...table, { Name: 'Operation', Value: 'Query' }])).toEqual([
      [1, 1, 'Count'],
    ]);
    expect(await sum('ConditionalCheckFailedRequests', table)).toEqual([[1, 1, 'Count']]);
    expect(await sum('UserErrors')).toEqual([[1, 1, 'Count']]);
    const listed = await cw.send(new ListMetricsCommand({ Namespace: 'AWS/DynamoDB' }));
    expect(listed.Metrics?.map((m) => m.MetricName).sort()).toEqual([
      'ConditionalCheckFailedRequests',
      'ConsumedReadCapacityUnits',
      'ConsumedWriteCapacityUnits',
      'ReturnedItemCount',
      'UserErrors',
    ]);
  });
});
