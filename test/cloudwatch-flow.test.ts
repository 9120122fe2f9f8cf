// The flow: a failing handler behind a DynamoDB stream mapping drives AWS/Lambda Errors over an
// alarm threshold; on the virtual clock the alarm goes to ALARM and its SNS action lands in a subscribed queue.
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hub, Kit } from './esm-helpers.ts';

const hub = new Hub();
const kit = new Kit(hub);
let cw: CloudWatchClient;
let sns: SNSClient;

beforeAll(async () => {
  await hub.start();
  await kit.start({}, Date.UTC(2026, 0, 1, 12, 0, 5));
  const cfg = {
    endpoint: kit.eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  cw = new CloudWatchClient(cfg);
  sns = new SNSClient(cfg);
});
afterAll(async () => {
  cw.destroy();
  sns.destroy();
  await kit.stop();
  await hub.stop();
});

describe('Lambda errors → alarm → SNS → SQS', () => {
  it('a failing stream handler puts its alarm in ALARM and the notification arrives in the queue', async () => {
    const streamArn = await kit.table('orders');
    await kit.fn('orders-handler');
    hub.behaviours['orders-handler'] = () => ({ throw: 'boom' });
    const inbox = await kit.queue('ops-inbox');
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'ops' }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: inbox.arn }));
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'orders-handler-errors',
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: 'orders-handler' }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [TopicArn!],
      }),
    );
    await kit.mapping({
      FunctionName: 'orders-handler',
      EventSourceArn: streamArn,
      StartingPosition: 'LATEST',
      MaximumRetryAttempts: 0,
    });
    await kit.put('orders', 'o-1');
    await kit.advanceUntil(hub.count('orders-handler', 1), 100);
    const [envelope] = await kit.advanceUntil(kit.receive(inbox.url), 1000);
    expect(envelope).toMatchObject({
      Type: 'Notification',
      TopicArn,
      Subject: expect.stringMatching(/^ALARM: "orders-handler-errors" in US East \(N\. Virginia\)$/),
    });
    const alarm = JSON.parse(envelope.Message);
    expect(alarm).toMatchObject({
      AlarmName: 'orders-handler-errors',
      NewStateValue: 'ALARM',
      OldStateValue: 'INSUFFICIENT_DATA',
      Trigger: {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Statistic: 'SUM',
        Dimensions: [{ value: 'orders-handler', name: 'FunctionName' }],
        Threshold: 0,
      },
    });
    expect(alarm.NewStateReason).toMatch(
      /^Threshold Crossed: 1 datapoint \[\d+\.\d+ \(01\/01\/26 12:0\d:00\)\] was greater than the threshold \(0\.0\)\.$/,
    );
    const d = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['orders-handler-errors'] }));
    expect(d.MetricAlarms?.[0].StateValue).toBe('ALARM');
  });
});
