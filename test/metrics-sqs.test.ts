// AWS/SQS metrics Eddy emits (counters per request, queue-depth gauges sampled once a minute on the
// clock), read back with the CloudWatch SDK; an alarm on a dead-letter queue's depth.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
  PutMetricAlarmCommand,
  type Statistic,
} from '@aws-sdk/client-cloudwatch';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Eddy, startEddy, VirtualClock } from '../src/index.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 10);
const MINUTE = 60_000;
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

/** One statistic of an AWS/SQS metric of one queue over the one-minute period starting at `minute`. */
async function stat(MetricName: string, queue: string, minute: number, statistic: Statistic = 'Sum') {
  const r = await cw.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/SQS',
      MetricName,
      Dimensions: [{ Name: 'QueueName', Value: queue }],
      StartTime: new Date(minute),
      EndTime: new Date(minute + MINUTE),
      Period: 60,
      Statistics: [statistic],
    }),
  );
  const d = r.Datapoints?.[0];
  return d ? { value: d[statistic], unit: d.Unit } : undefined;
}

const minuteOf = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

describe('AWS/SQS metrics', () => {
  it('counts sends, sizes, receives, empty receives and deletes; samples depths and age each minute', async () => {
    const m0 = minuteOf(clock.now());
    const { QueueUrl: work } = await sqs.send(new CreateQueueCommand({ QueueName: 'work' }));
    const { QueueUrl: empty } = await sqs.send(new CreateQueueCommand({ QueueName: 'empty' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: work, MessageBody: 'hello' })); // 5 bytes
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: work,
        MessageBody: 'later',
        DelaySeconds: 120,
      }),
    );
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: work,
        MessageBody: 'attrs',
        // name (4) + type (6) + value (3) bytes count with the body, as towards the size limit
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'abc' } },
      }),
    );
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: work,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'two' },
        ],
      }),
    );
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: work, MaxNumberOfMessages: 2, VisibilityTimeout: 300 }),
    );
    expect(got.Messages).toHaveLength(2);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: work, ReceiptHandle: got.Messages![0].ReceiptHandle! }));
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: empty }))).Messages).toBeUndefined();

    // Counters are summed per minute (readable at once); gauges appear once the minute is sampled.
    expect(await stat('NumberOfMessagesSent', 'work', m0)).toEqual({ value: 5, unit: 'Count' });
    expect(await stat('SentMessageSize', 'work', m0)).toEqual({ value: 5 + 5 + 5 + 13 + 3 + 3, unit: 'Bytes' });
    expect(await stat('SentMessageSize', 'work', m0, 'Maximum')).toEqual({ value: 18, unit: 'Bytes' });
    expect(await stat('NumberOfMessagesReceived', 'work', m0)).toEqual({ value: 2, unit: 'Count' });
    expect(await stat('NumberOfMessagesDeleted', 'work', m0)).toEqual({ value: 1, unit: 'Count' });
    expect(await stat('NumberOfEmptyReceives', 'empty', m0)).toEqual({ value: 1, unit: 'Count' });
    expect(await stat('NumberOfEmptyReceives', 'work', m0)).toBeUndefined();
    expect(await stat('ApproximateNumberOfMessagesVisible', 'work', m0, 'Maximum')).toBeUndefined();

    await clock.advance(m0 + MINUTE - clock.now());
    // Sampled at 12:00:59.999: 5 sent, 1 delayed, 2 received (1 deleted) → 2 visible, 1 in flight.
    expect(await stat('ApproximateNumberOfMessagesVisible', 'work', m0, 'Maximum')).toEqual({
      value: 2,
      unit: 'Count',
    });
    expect(await stat('ApproximateNumberOfMessagesNotVisible', 'work', m0, 'Maximum')).toEqual({
      value: 1,
      unit: 'Count',
    });
    expect(await stat('ApproximateNumberOfMessagesDelayed', 'work', m0, 'Maximum')).toEqual({
      value: 1,
      unit: 'Count',
    });
    expect(await stat('ApproximateAgeOfOldestMessage', 'work', m0, 'Maximum')).toEqual({
      value: 49,
      unit: 'Seconds',
    });
    expect(await stat('ApproximateNumberOfMessagesVisible', 'empty', m0, 'Maximum')).toEqual({
      value: 0,
      unit: 'Count',
    });
    expect(await stat('ApproximateAgeOfOldestMessage', 'empty', m0, 'Maximum')).toEqual({ value: 0, unit: 'Seconds' });

    // Two minutes on, the delayed message has become visible; the in-flight one is still hidden.
    await clock.advance(2 * MINUTE);
    const m2 = m0 + 2 * MINUTE;
    expect(await stat('ApproximateNumberOfMessagesVisible', 'work', m2, 'Maximum')).toEqual({
      value: 3,
      unit: 'Count',
    });
    expect(await stat('ApproximateNumberOfMessagesDelayed', 'work', m2, 'Maximum')).toEqual({
      value: 0,
      unit: 'Count',
    });
    expect(await stat('ApproximateNumberOfMessagesNotVisible', 'work', m2, 'Maximum')).toEqual({
      value: 1,
      unit: 'Count',
    });
    expect(await stat('ApproximateAgeOfOldestMessage', 'work', m2, 'Maximum')).toEqual({
      value: 169,
      unit: 'Seconds',
    });
    // The queue's own attributes agree with the gauges.
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: work, AttributeNames: ['All'] }));
    expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe('3');
    expect(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('1');

    const listed = await cw.send(
      new ListMetricsCommand({ Namespace: 'AWS/SQS', Dimensions: [{ Name: 'QueueName', Value: 'work' }] }),
    );
    expect(listed.Metrics?.map((m) => m.MetricName).sort()).toEqual([
      'ApproximateAgeOfOldestMessage',
      'ApproximateNumberOfMessagesDelayed',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesVisible',
      'NumberOfMessagesDeleted',
      'NumberOfMessagesReceived',
      'NumberOfMessagesSent',
      'SentMessageSize',
    ]);
  });

  it('an alarm on a dead-letter queue depth goes to ALARM when a message lands there, and notifies', async () => {
    const { QueueUrl: dlqUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'orders-dlq' }));
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] })))
      .Attributes!.QueueArn!;
    const { QueueUrl: src } = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'orders',
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }) },
      }),
    );
    const { QueueUrl: inbox } = await sqs.send(new CreateQueueCommand({ QueueName: 'ops-inbox' }));
    const inboxArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: inbox, AttributeNames: ['QueueArn'] })))
      .Attributes!.QueueArn!;
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'ops' }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: inboxArn }));
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'orders-dlq-depth',
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: 'orders-dlq' }],
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [TopicArn!],
      }),
    );
    const state = async () =>
      (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['orders-dlq-depth'] }))).MetricAlarms?.[0]?.StateValue;
    // An empty DLQ is sampled as 0: OK after the next minute.
    await clock.advance(minuteOf(clock.now()) + MINUTE - clock.now() + 1);
    expect(await state()).toBe('OK');

    await sqs.send(new SendMessageCommand({ QueueUrl: src, MessageBody: 'poison' }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: src, VisibilityTimeout: 0 }));
    expect(first.Messages).toHaveLength(1);
    // Received once already (maxReceiveCount 1): the next receive moves it to the DLQ.
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: src }))).Messages).toBeUndefined();
    expect(await state()).toBe('OK');

    await clock.advance(minuteOf(clock.now()) + MINUTE - clock.now() + 1);
    expect(await state()).toBe('ALARM');
    const note = await sqs.send(new ReceiveMessageCommand({ QueueUrl: inbox, WaitTimeSeconds: 0 }));
    expect(note.Messages).toHaveLength(1);
    const alarm = JSON.parse(JSON.parse(note.Messages![0].Body!).Message);
    expect(alarm).toMatchObject({ AlarmName: 'orders-dlq-depth', NewStateValue: 'ALARM', OldStateValue: 'OK' });
  });

  it('after a restart, delayed messages already in a queue are told from in-flight ones', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'eddy-metrics-'));
    const start = Date.UTC(2026, 0, 2, 8, 0, 5);
    const cfg = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    try {
      let e = await startEddy({ port: 0, dataDir, clock: new VirtualClock(start), logLevel: 'silent' });
      let q = new SQSClient({ ...cfg, endpoint: e.endpoint });
      const { QueueUrl } = await q.send(new CreateQueueCommand({ QueueName: 'durable' }));
      await q.send(new SendMessageCommand({ QueueUrl, MessageBody: 'later', DelaySeconds: 600 }));
      await q.send(new SendMessageCommand({ QueueUrl, MessageBody: 'now' }));
      expect((await q.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 600 }))).Messages).toHaveLength(1);
      q.destroy();
      await e.stop();

      const c2 = new VirtualClock(start + 1000);
      e = await startEddy({ port: 0, dataDir, clock: c2, logLevel: 'silent' });
      q = new SQSClient({ ...cfg, endpoint: e.endpoint });
      const c = new CloudWatchClient({ ...cfg, endpoint: e.endpoint });
      await c2.advance(60_000);
      const max = async (MetricName: string) =>
        (
          await c.send(
            new GetMetricStatisticsCommand({
              Namespace: 'AWS/SQS',
              MetricName,
              Dimensions: [{ Name: 'QueueName', Value: 'durable' }],
              StartTime: new Date(minuteOf(start)),
              EndTime: new Date(minuteOf(start) + MINUTE),
              Period: 60,
              Statistics: ['Maximum'],
            }),
          )
        ).Datapoints?.[0]?.Maximum;
      expect(await max('ApproximateNumberOfMessagesDelayed')).toBe(1);
      expect(await max('ApproximateNumberOfMessagesNotVisible')).toBe(1);
      expect(await max('ApproximateNumberOfMessagesVisible')).toBe(0);
      q.destroy();
      c.destroy();
      await e.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
