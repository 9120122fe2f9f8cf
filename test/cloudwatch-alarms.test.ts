// Alarm evaluation on the virtual clock: data crosses a threshold → ALARM at the next period boundary →
// the SNS action goes through the outbox to the topic, which fans out to a subscribed SQS queue.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Eddy, startEddy, VirtualClock } from '../src/index.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 10);
let eddy: Eddy;
let clock: VirtualClock;
let cw: CloudWatchClient;
let sns: SNSClient;
let sqs: SQSClient;

beforeAll(async () => {
  clock = new VirtualClock(T0);
  eddy = await startEddy({ port: 0, memory: true, clock, logLevel: 'silent' });
  const cfg = {
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  cw = new CloudWatchClient(cfg);
  sns = new SNSClient(cfg);
  sqs = new SQSClient(cfg);
});
afterAll(async () => {
  cw.destroy();
  sns.destroy();
  sqs.destroy();
  await eddy.stop();
});
beforeEach(() => eddy.reset());

const tick = () => new Promise((r) => setImmediate(r));
const dims = [{ Name: 'FunctionName', Value: 'orders' }];
const state = async (name: string) =>
  (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms?.[0];
const put = (Value: number) =>
  cw.send(
    new PutMetricDataCommand({
      Namespace: 'Orders',
      MetricData: [{ MetricName: 'FailedEvents', Dimensions: dims, Value, Unit: 'Count' }],
    }),
  );

async function subscribedQueue() {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'ops-alarms' }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'ops-inbox' }));
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: 'arn:aws:sqs:us-east-1:000000000000:ops-inbox',
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return { TopicArn: TopicArn!, QueueUrl: QueueUrl! };
}

describe('alarm evaluation on the clock', () => {
  it('PutMetricData over the threshold → ALARM → SNS action lands the alarm JSON in SQS; back to OK', async () => {
    const { TopicArn, QueueUrl } = await subscribedQueue();
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'failed-events',
        AlarmDescription: 'Failed events in orders',
        Namespace: 'Orders',
        MetricName: 'FailedEvents',
        Dimensions: dims,
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 2,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [TopicArn],
        OKActions: [TopicArn],
      }),
    );
    await put(2);
    await put(3);
    // 12:01:00: the alarm evaluates [12:00, 12:01): Sum 5 > 2.
    await clock.advance(50_000);
    await tick();
    const a = await state('failed-events');
    expect(a?.StateValue).toBe('ALARM');
    expect(a?.StateReason).toBe(
      'Threshold Crossed: 1 datapoint [5.0 (01/01/26 12:00:00)] was greater than the threshold (2.0).',
    );
    expect(JSON.parse(a!.StateReasonData!)).toMatchObject({
      version: '1.0',
      queryDate: '2026-01-01T12:01:00.000+0000',
      startDate: '2026-01-01T12:00:00.000+0000',
      statistic: 'Sum',
      period: 60,
      recentDatapoints: [5],
      threshold: 2,
      evaluatedDatapoints: [{ timestamp: '2026-01-01T12:00:00.000+0000', sampleCount: 2, value: 5 }],
    });
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(got.Messages).toHaveLength(1);
    const msg = JSON.parse(got.Messages![0].Body!);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: got.Messages![0].ReceiptHandle }));
    expect(msg).toEqual({
      AlarmName: 'failed-events',
      AlarmDescription: 'Failed events in orders',
      AWSAccountId: '000000000000',
      AlarmConfigurationUpdatedTimestamp: '2026-01-01T12:00:10.000+0000',
      NewStateValue: 'ALARM',
      NewStateReason: a?.StateReason,
      StateChangeTime: '2026-01-01T12:01:00.000+0000',
      Region: 'US East (N. Virginia)',
      AlarmArn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:failed-events',
      OldStateValue: 'INSUFFICIENT_DATA',
      OKActions: [TopicArn],
      AlarmActions: [TopicArn],
      InsufficientDataActions: [],
      Trigger: {
        MetricName: 'FailedEvents',
        Namespace: 'Orders',
        StatisticType: 'Statistic',
        Statistic: 'SUM',
        Unit: null,
        Dimensions: [{ value: 'orders', name: 'FunctionName' }],
        Period: 60,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 2,
        TreatMissingData: 'notBreaching',
        EvaluateLowSampleCountPercentile: '',
      },
    });
    // No data in the next minute: treated as not breaching → OK, and the OK action fires.
    await clock.advance(60_000);
    await tick();
    const ok = await state('failed-events');
    expect(ok?.StateValue).toBe('OK');
    expect(ok?.StateReason).toBe(
      'Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].',
    );
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(again.Messages?.map((m) => JSON.parse(m.Body!).NewStateValue)).toEqual(['OK']);
    const h = await cw.send(
      new DescribeAlarmHistoryCommand({ AlarmName: 'failed-events', ScanBy: 'TimestampAscending' }),
    );
    expect(h.AlarmHistoryItems?.map((i) => [i.HistoryItemType, i.HistorySummary])).toEqual([
      ['ConfigurationUpdate', 'Alarm "failed-events" created'],
      ['StateUpdate', 'Alarm updated from INSUFFICIENT_DATA to ALARM'],
      ['Action', `Successfully executed action ${TopicArn}`],
      ['StateUpdate', 'Alarm updated from ALARM to OK'],
      ['Action', `Successfully executed action ${TopicArn}`],
    ]);
  });

  it('M of N with TreatMissingData missing / breaching / ignore, and percentiles', async () => {
    const base = {
      Namespace: 'Orders',
      MetricName: 'FailedEvents',
      Dimensions: dims,
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold' as const,
    };
    // Start 10 s into a fresh minute (the clock is shared between tests).
    const m0 = Math.ceil(clock.now() / 60_000) * 60_000;
    await clock.set(m0 + 10_000);
    const fmt = (ms: number) => {
      const d = new Date(ms).toISOString();
      return `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(2, 4)} ${d.slice(11, 19)}`;
    };
    await cw.send(new PutMetricAlarmCommand({ ...base, AlarmName: 'missing', Statistic: 'Maximum' }));
    await cw.send(
      new PutMetricAlarmCommand({
        ...base,
        AlarmName: 'breaching',
        Statistic: 'Maximum',
        TreatMissingData: 'breaching',
      }),
    );
    await cw.send(
      new PutMetricAlarmCommand({ ...base, AlarmName: 'ignore', Statistic: 'Maximum', TreatMissingData: 'ignore' }),
    );
    await cw.send(new PutMetricAlarmCommand({ ...base, AlarmName: 'p90', ExtendedStatistic: 'p90' }));
    // No data at all in the first evaluation.
    await clock.advance(50_000);
    await tick();
    expect((await state('missing'))?.StateValue).toBe('INSUFFICIENT_DATA');
    expect((await state('breaching'))?.StateValue).toBe('ALARM');
    expect((await state('ignore'))?.StateValue).toBe('INSUFFICIENT_DATA');
    // 12:01 one breaching minute; 12:02 one below; 12:03 breaching again → 2 of 3.
    await put(9);
    await clock.advance(60_000);
    await tick();
    expect((await state('missing'))?.StateValue).toBe('OK'); // 1 of 1 present datapoints breaching < 2
    await put(1);
    await clock.advance(60_000);
    await tick();
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'Orders',
        MetricData: [{ MetricName: 'FailedEvents', Dimensions: dims, Values: [1, 6], Counts: [5, 5] }],
      }),
    );
    await clock.advance(60_000);
    await tick();
    const m = await state('missing');
    expect(m?.StateValue).toBe('ALARM');
    expect(m?.StateReason).toBe(
      `Threshold Crossed: 2 out of the last 3 datapoints [6.0 (${fmt(m0 + 180_000)}), 9.0 (${fmt(m0 + 60_000)})] were greater than or equal to the threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition).`,
    );
    expect((await state('ignore'))?.StateValue).toBe('ALARM');
    expect((await state('p90'))?.StateValue).toBe('ALARM'); // p90 of {9}, {1}, {1×5, 6×5} → 9, 1, 6
  });

  it('metric-math alarms evaluate their ReturnData expression', async () => {
    const m0 = Math.ceil(clock.now() / 60_000) * 60_000;
    await clock.set(m0 + 10_000);
    const stat = (MetricName: string) => ({
      Metric: { Namespace: 'Orders', MetricName, Dimensions: dims },
      Period: 60,
      Stat: 'Sum',
    });
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'error-rate',
        Metrics: [
          { Id: 'failed', MetricStat: stat('FailedEvents'), ReturnData: false },
          { Id: 'total', MetricStat: stat('ProcessedEvents'), ReturnData: false },
          { Id: 'rate', Expression: '100 * failed / total', Label: 'Error rate', ReturnData: true },
        ],
        EvaluationPeriods: 1,
        Threshold: 10,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'Orders',
        MetricData: [
          { MetricName: 'FailedEvents', Dimensions: dims, Value: 3 },
          { MetricName: 'ProcessedEvents', Dimensions: dims, Value: 20 },
        ],
      }),
    );
    await clock.advance(50_000);
    await tick();
    const a = await state('error-rate');
    expect(a?.StateValue).toBe('ALARM');
    expect(a?.StateReason).toMatch(
      /^Threshold Crossed: 1 datapoint \[15\.0 \(.*\)\] was greater than the threshold \(10\.0\)\.$/,
    );
    expect(a?.Metrics?.map((m) => m.Id)).toEqual(['failed', 'total', 'rate']);
  });
});

describe('alarms survive a restart', () => {
  it('a durable alarm is re-armed on start and evaluates on the new clock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eddy-cw-'));
    const t = Date.UTC(2026, 0, 2, 8, 0, 10);
    const cfg = (endpoint: string) => ({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const first = await startEddy({ port: 0, dataDir: dir, clock: new VirtualClock(t), logLevel: 'silent' });
      const c1 = new CloudWatchClient(cfg(first.endpoint));
      await c1.send(
        new PutMetricAlarmCommand({
          AlarmName: 'durable',
          Namespace: 'Orders',
          MetricName: 'FailedEvents',
          Statistic: 'Maximum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
      );
      await c1.send(
        new PutMetricDataCommand({ Namespace: 'Orders', MetricData: [{ MetricName: 'FailedEvents', Value: 4 }] }),
      );
      c1.destroy();
      await first.stop();
      const clock2 = new VirtualClock(t);
      const second = await startEddy({ port: 0, dataDir: dir, clock: clock2, logLevel: 'silent' });
      const c2 = new CloudWatchClient(cfg(second.endpoint));
      await clock2.advance(50_000);
      await tick();
      const d = await c2.send(new DescribeAlarmsCommand({ AlarmNames: ['durable'] }));
      expect(d.MetricAlarms?.[0].StateValue).toBe('ALARM');
      c2.destroy();
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
