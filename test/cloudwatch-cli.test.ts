// The `aws cloudwatch` commands of the seeds (CLI v1: the query protocol, signed for `monitoring`),
// against an in-process Eddy (skipped visibly without `aws`).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Eddy, startEddy, VirtualClock } from '../src/index.ts';

const run = promisify(execFile);
const hasAws = await run('aws', ['--version']).then(
  () => true,
  () => false,
);
if (!hasAws) console.warn('SKIPPED: the `aws` CLI is not installed; CLI tests for CloudWatch do not run');

let eddy: Eddy;
beforeAll(async () => {
  // A virtual clock: no real minute boundary (alarm evaluation) can fall between two CLI calls.
  eddy = await startEddy({ port: 0, memory: true, logLevel: 'silent', clock: new VirtualClock() });
});
afterAll(() => eddy.stop());

const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_PAGER: '' };
const aws = async (...args: string[]) => {
  const { stdout } = await run(
    'aws',
    ['--endpoint-url', eddy.endpoint, '--region', 'us-east-1', '--output', 'json', ...args],
    { env },
  );
  return stdout.trim() ? JSON.parse(stdout) : {};
};
const awsFails = (...args: string[]) =>
  run('aws', ['--endpoint-url', eddy.endpoint, '--region', 'us-east-1', ...args], { env }).then(
    () => '',
    (e: { stderr: string }) => e.stderr.trim(),
  );
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe.skipIf(!hasAws)('aws cloudwatch CLI', { timeout: 90_000 }, () => {
  it('put-metric-data, then get-metric-statistics as the seeds call it', async () => {
    const now = Date.now();
    const ns = ['--namespace', 'RetailEventProcessing'];
    // Independent CLI calls run side by side (each is a Python start-up).
    await Promise.all([
      aws(
        'cloudwatch',
        'put-metric-data',
        ...ns,
        '--metric-name',
        'ProcessedEvents',
        '--value',
        '3',
        '--unit',
        'Count',
      ),
      aws(
        'cloudwatch',
        'put-metric-data',
        ...ns,
        '--metric-data',
        JSON.stringify([
          { MetricName: 'ProcessedEvents', Value: 4, Unit: 'Count' },
          { MetricName: 'FailedEvents', Values: [1, 2], Counts: [2, 1], Unit: 'Count' },
        ]),
      ),
    ]);
    const range = ['--start-time', iso(now - 3_600_000), '--end-time', iso(now + 60_000)];
    const [r, lambda, p, refused] = await Promise.all([
      // seed 001, verbatim apart from the dates.
      aws(
        'cloudwatch',
        'get-metric-statistics',
        ...ns,
        '--metric-name',
        'ProcessedEvents',
        '--statistics',
        'Sum',
        ...range,
        '--period',
        '300',
      ),
      // seed 000: AWS/Lambda Invocations for a function (no data here: an empty list).
      aws(
        'cloudwatch',
        'get-metric-statistics',
        '--namespace',
        'AWS/Lambda',
        '--metric-name',
        'Invocations',
        '--dimensions',
        'Name=FunctionName,Value=your-function-name',
        '--start-time',
        new Date(now - 3_600_000).toISOString(),
        '--end-time',
        new Date(now).toISOString(),
        '--period',
        '300',
        '--statistics',
        'Sum',
      ),
      aws(
        'cloudwatch',
        'get-metric-statistics',
        ...ns,
        '--metric-name',
        'FailedEvents',
        '--extended-statistics',
        'p50',
        'p100',
        ...range,
        '--period',
        '3600',
      ),
      awsFails('cloudwatch', 'put-metric-data', '--namespace', 'AWS/Lambda', '--metric-name', 'x', '--value', '1'),
    ]);
    expect(r.Label).toBe('ProcessedEvents');
    expect(r.Datapoints.reduce((s: number, d: { Sum: number }) => s + d.Sum, 0)).toBe(7);
    expect(r.Datapoints[0].Unit).toBe('Count');
    expect(lambda).toEqual({ Label: 'Invocations', Datapoints: [] });
    expect(p.Datapoints.map((d: { ExtendedStatistics: unknown }) => d.ExtendedStatistics)).toEqual([
      { p50: 1, p100: 2 },
    ]);
    expect(refused).toContain(
      '(InvalidParameterValue) when calling the PutMetricData operation: The value AWS/ for parameter Namespace is invalid.',
    );
  });

  it('put-metric-alarm, describe-alarms --alarm-name-prefix, set-alarm-state, history, delete', async () => {
    const topic = aws('sns', 'create-topic', '--name', 'event-sourcing-alarms');
    await aws(
      'cloudwatch',
      'put-metric-alarm',
      '--alarm-name',
      'event-sourcing-errors',
      '--alarm-description',
      'Lambda errors',
      '--metric-name',
      'Errors',
      '--namespace',
      'AWS/Lambda',
      '--statistic',
      'Sum',
      '--period',
      '300',
      '--threshold',
      '1',
      '--comparison-operator',
      'GreaterThanOrEqualToThreshold',
      '--dimensions',
      'Name=FunctionName,Value=event-sourcing-handler',
      '--evaluation-periods',
      '1',
      '--treat-missing-data',
      'notBreaching',
      '--alarm-actions',
      'arn:aws:sns:us-east-1:000000000000:event-sourcing-alarms',
    );
    // seed 004, verbatim (the topic is created alongside).
    const [d] = await Promise.all([
      aws('cloudwatch', 'describe-alarms', '--alarm-name-prefix', 'event-sourcing'),
      topic,
    ]);
    expect(d.MetricAlarms).toHaveLength(1);
    expect(d.MetricAlarms[0]).toMatchObject({
      AlarmName: 'event-sourcing-errors',
      AlarmArn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:event-sourcing-errors',
      AlarmDescription: 'Lambda errors',
      StateValue: 'INSUFFICIENT_DATA',
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'FunctionName', Value: 'event-sourcing-handler' }],
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: ['arn:aws:sns:us-east-1:000000000000:event-sourcing-alarms'],
    });
    // CLI v1 sends awsJson1_0 (x-amzn-query-mode); with cli_timestamp_format none it prints epoch seconds as received.
    expect(typeof d.MetricAlarms[0].StateUpdatedTimestamp).toBe('number');
    await aws(
      'cloudwatch',
      'set-alarm-state',
      '--alarm-name',
      'event-sourcing-errors',
      '--state-value',
      'ALARM',
      '--state-reason',
      'testing the action',
    );
    const [s, h] = await Promise.all([
      aws('cloudwatch', 'describe-alarms', '--state-value', 'ALARM'),
      aws('cloudwatch', 'describe-alarm-history', '--alarm-name', 'event-sourcing-errors'),
    ]);
    expect(s.MetricAlarms.map((a: { AlarmName: string }) => a.AlarmName)).toEqual(['event-sourcing-errors']);
    expect(h.AlarmHistoryItems.map((i: { HistoryItemType: string }) => i.HistoryItemType)).toEqual([
      'Action',
      'StateUpdate',
      'ConfigurationUpdate',
    ]);
    await aws('cloudwatch', 'delete-alarms', '--alarm-names', 'event-sourcing-errors');
  });
});
