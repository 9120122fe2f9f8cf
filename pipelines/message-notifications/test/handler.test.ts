/**
 * The message stream processor invoked directly with AWS-shaped stream events, its SDK clients pointed
 * at an in-process Eddy: the `messages` table (for reply lookups), the topic and its SQS subscription.
 */
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Eddy, startEddy } from '../../../src/index.ts';
import { Logger, Metrics } from '../../shared/powertools.ts';
import { createHandler, type HandlerConfig } from '../src/handler.ts';
import { batch, context, messageItem, streamRecord } from './events.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let eddy: Eddy;
let ddb: DynamoDBClient;
let sns: SNSClient;
let sqs: SQSClient;
let topicArn = '';
let queueUrl = '';
let n = 0;

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, logLevel: 'silent' });
  const cfg = { endpoint: eddy.endpoint, region: 'us-east-1', credentials };
  ddb = new DynamoDBClient(cfg);
  sns = new SNSClient(cfg);
  sqs = new SQSClient(cfg);
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: 'messages',
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
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
});

afterAll(async () => {
  for (const c of [ddb, sns, sqs]) c?.destroy();
  await eddy?.stop();
});

beforeEach(async () => {
  n++;
  topicArn = (await sns.send(new CreateTopicCommand({ Name: `message-notifications-${n}` }))).TopicArn!;
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `message-notifications-queue-${n}` }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
});

function harness(overrides: Partial<HandlerConfig> = {}) {
  const lines: string[] = [];
  const sink = (l: string) => lines.push(l);
  const config: HandlerConfig = {
    topicArn,
    tableName: 'messages',
    serviceName: 'message-notifications',
    metricsNamespace: 'MessageNotifications',
    ...overrides,
  };
  const handler = createHandler({
    ddb,
    sns,
    config,
    logger: new Logger({ serviceName: config.serviceName, level: 'INFO', sink }),
    metrics: new Metrics({ namespace: config.metricsNamespace, serviceName: config.serviceName, sink }),
  });
  return { handler, lines, logs: () => lines.map((l) => JSON.parse(l)) };
}

async function notifications(count: number, timeoutMs = 10_000): Promise<any[]> {
  const got: any[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
      }),
    );
    for (const m of r.Messages ?? []) got.push(JSON.parse(m.Body!));
  }
  return got;
}

async function put(item: ReturnType<typeof messageItem>) {
  await ddb.send(new PutItemCommand({ TableName: 'messages', Item: item }));
  return item;
}

describe('message stream processor against Eddy', () => {
  it('scenario 1, basic flow: one notification for a new message', async () => {
    const { handler, logs } = harness();
    const hello = await put(messageItem(`m-${n}-1`, 'alice', 'Hello world!'));
    expect(await handler(batch(streamRecord('INSERT', { new: hello })), context())).toEqual({ batchItemFailures: [] });
    const [envelope] = await notifications(1);
    expect(envelope).toMatchObject({ Type: 'Notification', TopicArn: topicArn, Subject: 'New message from alice' });
    expect(envelope.MessageAttributes.type.Value).toBe('NEW_MESSAGE');
    expect(JSON.parse(envelope.Message)).toMatchObject({
      type: 'NEW_MESSAGE',
      message: { message_id: `m-${n}-1`, author: 'alice', content: 'Hello world!' },
    });
    expect(logs().find((l) => l.message === 'Processing new message')).toMatchObject({ author: 'alice' });
  });

  it('scenario 2, reply chain: the reply notification carries the original message read from the table', async () => {
    const { handler } = harness();
    const original = await put(messageItem(`m-${n}-1`, 'bob', "What's for lunch?"));
    const reply = await put(messageItem(`m-${n}-2`, 'charlie', 'Pizza!', `m-${n}-1`));
    const orphan = await put(messageItem(`m-${n}-3`, 'dave', 'Me too', `m-${n}-gone`));
    const result = await handler(
      batch(
        streamRecord('INSERT', { new: original }),
        streamRecord('INSERT', { new: reply }),
        streamRecord('INSERT', { new: orphan }),
      ),
      context(),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    const got = await notifications(3);
    const bySubject = Object.fromEntries(got.map((e) => [e.Subject, JSON.parse(e.Message)]));
    expect(Object.keys(bySubject).sort()).toEqual([
      'New message from bob',
      'Reply from charlie to bob',
      'Reply from dave',
    ]);
    expect(bySubject['Reply from charlie to bob']).toMatchObject({
      type: 'REPLY',
      message: { author: 'charlie', content: 'Pizza!', reply_to_message_id: `m-${n}-1` },
      original: { message_id: `m-${n}-1`, author: 'bob', content: "What's for lunch?" },
    });
    expect(bySubject['Reply from dave'].original).toBeNull();
  });

  it('scenario 3, high volume: a full batch of 10 gives 10 notifications', async () => {
    const { handler, lines } = harness();
    const records = [];
    for (let i = 0; i < 10; i++)
      records.push(streamRecord('INSERT', { new: await put(messageItem(`v-${n}-${i}`, `user_${i}`, `Message ${i}`)) }));
    expect(await handler(batch(...records), context())).toEqual({ batchItemFailures: [] });
    const got = await notifications(10);
    expect(got.map((e) => JSON.parse(e.Message).message.content).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `Message ${i}`).sort(),
    );
    expect(JSON.parse(lines.find((l) => l.includes('"_aws"'))!)).toMatchObject({
      ProcessedEvents: 10,
      FailedEvents: 0,
      NotificationsPublished: 10,
    });
  });

  it('edits and deletions do not notify', async () => {
    const { handler } = harness();
    const item = messageItem(`m-${n}-1`, 'erin', 'typo');
    const fixed = messageItem(`m-${n}-1`, 'erin', 'fixed');
    const result = await handler(
      batch(streamRecord('MODIFY', { old: item, new: fixed }), streamRecord('REMOVE', { old: fixed })),
      context(),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await notifications(1, 1500)).toEqual([]);
  });

  it('a poison record is reported as a batch item failure; records before it are notified once', async () => {
    const { handler, logs } = harness();
    const ok = streamRecord('INSERT', { new: messageItem(`m-${n}-1`, 'frank', 'fine') });
    const poison = streamRecord('INSERT', { new: { message_id: { S: `m-${n}-2` }, author: { S: 'frank' } } });
    const later = streamRecord('INSERT', { new: messageItem(`m-${n}-3`, 'frank', 'later') });
    const result = await handler(batch(ok, poison, later), context());
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: poison.dynamodb!.SequenceNumber }] });
    const got = await notifications(1);
    expect(got.map((e) => JSON.parse(e.Message).message.content)).toEqual(['fine']);
    expect(logs().find((l) => l.level === 'ERROR')).toMatchObject({
      message: 'Poison record',
      error: { name: 'PoisonRecordError', message: 'message has no content' },
    });
  });

  it('a failed lookup of the original (table gone) fails the reply for a retry', async () => {
    const { handler } = harness({ tableName: 'no-such-table' });
    const reply = streamRecord('INSERT', { new: messageItem(`m-${n}-2`, 'gina', 'Sure', `m-${n}-1`) });
    const result = await handler(batch(reply), context());
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: reply.dynamodb!.SequenceNumber }] });
    await ddb.send(new DeleteItemCommand({ TableName: 'messages', Key: { message_id: { S: `m-${n}-1` } } }));
  });
});
