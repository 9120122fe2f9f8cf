/**
 * End to end on Eddy: the bundled handler runs as a Lambda function behind a real event source mapping
 * on the `messages` stream, and the seed's end-to-end script (scripts/end-to-end-test.ts) drives it:
 * table -> stream -> message-stream-processor -> SNS -> SQS. Plus a poison record retried into the DLQ
 * and the function's logs in CloudWatch Logs.
 *
 * The resources are created with the SDK, with the stack's settings (infra/lib/config.ts), until
 * `eddy deploy` deploys the CDK app itself.
 */
import { fileURLToPath } from 'node:url';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  GetEventSourceMappingCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Eddy, startEddy } from '../../../src/index.ts';
import { resolveConfig } from '../infra/lib/config.ts';
import { runEndToEnd } from '../scripts/end-to-end-test.ts';
import type { Target } from '../scripts/target.ts';
import { bundleHandler, zip } from './local-deploy.ts';

const config = resolveConfig({});
const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let eddy: Eddy;
let target: Target;
let env: NodeJS.ProcessEnv;
let dlqUrl = '';
const clients: { destroy(): void }[] = [];

async function queue(sqs: SQSClient, name: string, attributes: Record<string, string> = {}) {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  return { url, arn };
}

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, logLevel: 'silent' });
  target = { kind: 'eddy', region, endpoint: eddy.endpoint, credentials };
  const cfg = { region, endpoint: eddy.endpoint, credentials };
  const ddb = new DynamoDBClient(cfg);
  const sns = new SNSClient(cfg);
  const sqs = new SQSClient(cfg);
  const lambda = new LambdaClient(cfg);
  clients.push(ddb, sns, sqs, lambda);

  await ddb.send(
    new CreateTableCommand({
      TableName: config.tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'message_id', AttributeType: 'S' },
        { AttributeName: 'timestamp', AttributeType: 'S' },
        { AttributeName: 'author', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'message_id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'timestamp-index',
          KeySchema: [{ AttributeName: 'timestamp', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'author-index',
          KeySchema: [
            { AttributeName: 'author', KeyType: 'HASH' },
            { AttributeName: 'timestamp', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const streamArn = (await ddb.send(new DescribeTableCommand({ TableName: config.tableName }))).Table!.LatestStreamArn!;
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: config.topicName }))).TopicArn!;
  const notifications = await queue(sqs, config.queueName);
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: notifications.arn }));
  const dlq = await queue(sqs, `${config.functionName}-dlq`, {
    MessageRetentionPeriod: String(config.dlqRetentionDays * 86400),
  });
  dlqUrl = dlq.url;

  const code = await bundleHandler(fileURLToPath(new URL('../src/handler.ts', import.meta.url)));
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: config.functionName,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: 'arn:aws:iam::000000000000:role/message-stream-processor',
      MemorySize: config.lambdaMemory,
      Timeout: config.lambdaTimeout,
      Environment: { Variables: { SNS_TOPIC_ARN: topicArn, MESSAGES_TABLE: config.tableName, LOG_LEVEL: 'INFO' } },
      Code: { ZipFile: zip({ 'index.js': code }) },
    }),
  );
  const mapping = await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: config.functionName,
      EventSourceArn: streamArn,
      StartingPosition: config.startingPosition,
      BatchSize: config.batchSize,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: config.retryAttempts,
      MaximumRecordAgeInSeconds: config.maxRecordAgeSeconds,
      ParallelizationFactor: config.parallelizationFactor,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: dlq.arn } },
    }),
  );
  for (let i = 0; i < 200; i++) {
    const m = await lambda.send(new GetEventSourceMappingCommand({ UUID: mapping.UUID }));
    if (m.State === 'Enabled') break;
    await new Promise((r) => setTimeout(r, 25));
  }
  env = {
    STACK_NAME: 'message-notifications-not-deployed',
    TABLE_NAME: config.tableName,
    SNS_TOPIC_ARN: topicArn,
    SQS_QUEUE_URL: notifications.url,
  };
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await eddy?.stop();
});

describe('message-notifications end to end on Eddy', () => {
  it("the seed's end-to-end test passes: basic flow, reply chain, 1,000 messages", async () => {
    const results = await runEndToEnd({ target, env, volume: 1000, timeoutMs: 90_000 });
    expect(results.map((r) => [r.name, r.ok, r.ok ? '' : r.detail])).toEqual([
      ['basic message flow', true, ''],
      ['reply chain', true, ''],
      ['high volume (1000)', true, ''],
    ]);
  }, 120_000);

  it('a poison message is retried with bisect and lands in the DLQ; the logs are in CloudWatch Logs', async () => {
    const cfg = { region, endpoint: eddy.endpoint, credentials };
    const ddb = new DynamoDBClient(cfg);
    const sqs = new SQSClient(cfg);
    const logs = new CloudWatchLogsClient(cfg);
    clients.push(ddb, sqs, logs);
    await ddb.send(
      new PutItemCommand({
        TableName: config.tableName,
        Item: { message_id: { S: 'poison-1' }, author: { S: 'mallory' } },
      }),
    );
    let record: any;
    for (let i = 0; i < 60 && !record; i++) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1 }));
      if (r.Messages?.length) record = JSON.parse(r.Messages[0].Body!);
    }
    expect(record).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: config.retryAttempts + 1 },
      DDBStreamBatchInfo: { batchSize: 1, streamArn: expect.stringContaining(`table/${config.tableName}/stream/`) },
    });

    const logGroupName = `/aws/lambda/${config.functionName}`;
    const processing = await logs.send(new FilterLogEventsCommand({ logGroupName, filterPattern: 'Processing' }));
    expect(processing.events?.length).toBeGreaterThanOrEqual(1003);
    const errors = await logs.send(new FilterLogEventsCommand({ logGroupName, filterPattern: '"Poison record"' }));
    expect(errors.events?.length).toBe(config.retryAttempts + 1);
    expect(JSON.parse(errors.events![0].message!)).toMatchObject({
      level: 'ERROR',
      service: 'message-notifications',
      error: { name: 'PoisonRecordError', message: 'message has no content' },
    });
  }, 60_000);
});
