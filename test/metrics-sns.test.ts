// AWS/SNS metrics Eddy emits: publishes (count and size) from SNS, notification outcomes from the
// delivery path (one per subscription delivery, attributed to the topic), read back with the SDK.
import { CloudWatchClient, GetMetricStatisticsCommand, type Statistic } from '@aws-sdk/client-cloudwatch';
import {
  CreateTopicCommand,
  PublishBatchCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Eddy, startEddy, VirtualClock } from '../src/index.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 10);
const clock = new VirtualClock(T0);
let eddy: Eddy;
let cw: CloudWatchClient;
let sqs: SQSClient;
let sns: SNSClient;

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, clock, logLevel: 'silent' });
  const cfg = {
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  cw = new CloudWatchClient(cfg);
  sqs = new SQSClient(cfg);
  sns = new SNSClient(cfg);
});
afterAll(async () => {
  cw.destroy();
  sqs.destroy();
  sns.destroy();
  await eddy.stop();
});

async function stat(MetricName: string, topic: string, statistic: Statistic = 'Sum') {
  const r = await cw.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/SNS',
      MetricName,
      Dimensions: [{ Name: 'TopicName', Value: topic }],
      StartTime: new Date(T0 - 600_000),
      EndTime: new Date(T0 + 600_000),
      Period: 600,
      Statistics: [statistic],
    }),
  );
  const d = r.Datapoints?.[0];
  return d ? { value: d[statistic], unit: d.Unit } : undefined;
}

const queueArn = async (name: string) => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  return (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!
    .QueueArn!;
};

describe('AWS/SNS metrics', () => {
  it('counts publishes and their size, and delivered / failed / dead-lettered notifications per topic', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'events' }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: await queueArn('events-q') }));
    // A subscription whose filter policy takes none of the messages below.
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: await queueArn('picky-q'),
        Attributes: { FilterPolicy: JSON.stringify({ kind: ['wanted'] }) },
      }),
    );
    const dlq = await queueArn('events-dlq');
    // A subscription whose queue does not exist: every delivery fails (after SNS's retries) and is dead-lettered.
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: 'arn:aws:sqs:us-east-1:000000000000:gone',
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq }) },
      }),
    );
    await sns.send(new PublishCommand({ TopicArn, Message: 'hello' }));
    await sns.send(
      new PublishCommand({
        TopicArn,
        Message: 'with attrs',
        MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } },
      }),
    );
    const batch = await sns.send(
      new PublishBatchCommand({
        TopicArn,
        PublishBatchRequestEntries: [
          { Id: 'a', Message: 'batched' },
          { Id: 'b', Message: '' },
        ],
      }),
    );
    expect(batch.Failed).toHaveLength(1);

    expect(await stat('NumberOfMessagesPublished', 'events')).toEqual({ value: 3, unit: 'Count' });
    // Body bytes plus attribute name, type and value bytes, per message.
    expect(await stat('PublishSize', 'events')).toEqual({ value: 5 + 10 + 1 + 6 + 1 + 7, unit: 'Bytes' });
    expect(await stat('PublishSize', 'events', 'Maximum')).toEqual({ value: 18, unit: 'Bytes' });
    // Rejected by the filter: two messages without attributes, one with other attributes.
    expect(await stat('NumberOfNotificationsFilteredOut', 'events')).toEqual({ value: 3, unit: 'Count' });
    expect(await stat('NumberOfNotificationsFilteredOut-NoMessageAttributes', 'events')).toEqual({
      value: 2,
      unit: 'Count',
    });
    expect(await stat('NumberOfNotificationsFilteredOut-MessageAttributes', 'events')).toEqual({
      value: 1,
      unit: 'Count',
    });
    // Deliveries to SQS run right after the publish commits.
    for (let i = 0; i < 100 && !(await stat('NumberOfNotificationsDelivered', 'events')); i++)
      await new Promise((r) => setImmediate(r));
    expect(await stat('NumberOfNotificationsDelivered', 'events')).toEqual({ value: 3, unit: 'Count' });
    // The failing subscription is retried on the clock (1, 5 and 20 s) before SNS gives up.
    expect(await stat('NumberOfNotificationsFailed', 'events')).toBeUndefined();
    await clock.advance(30_000);
    expect(await stat('NumberOfNotificationsFailed', 'events')).toEqual({ value: 3, unit: 'Count' });
    expect(await stat('NumberOfNotificationsRedrivenToDlq', 'events')).toEqual({ value: 3, unit: 'Count' });
    // Dead-lettered copies are not counted as deliveries of the topic.
    expect(await stat('NumberOfNotificationsDelivered', 'events')).toEqual({ value: 3, unit: 'Count' });
  });
});
