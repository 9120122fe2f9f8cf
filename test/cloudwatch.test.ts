// CloudWatch metrics, alarms and dashboards with the real SDK v3 client over the three protocols it
// can speak: awsJson1_0 (its default today), Smithy RPC v2 CBOR and the query protocol.
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DeleteDashboardsCommand,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  DescribeAlarmsForMetricCommand,
  DisableAlarmActionsCommand,
  GetDashboardCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListDashboardsCommand,
  ListMetricsCommand,
  PutAnomalyDetectorCommand,
  PutDashboardCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { AwsQueryProtocol, AwsSmithyRpcV2CborProtocol } from '@aws-sdk/core/protocols';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Eddy, startEddy, VirtualClock } from '../src/index.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
let eddy: Eddy;
let clock: VirtualClock;

beforeAll(async () => {
  clock = new VirtualClock(T0);
  eddy = await startEddy({ port: 0, memory: true, clock, logLevel: 'silent' });
});
afterAll(() => eddy.stop());
beforeEach(() => eddy.reset());

const PROTOCOLS = [
  ['json', undefined],
  ['rpc-v2-cbor', AwsSmithyRpcV2CborProtocol],
  ['query', AwsQueryProtocol],
] as const;

const at = (min: number, sec = 0) => new Date(T0 + min * 60_000 + sec * 1000);
const dims = [{ Name: 'FunctionName', Value: 'orders' }];

describe.each(PROTOCOLS)('CloudWatch over %s', (_name, protocol) => {
  let cw: CloudWatchClient;
  beforeAll(() => {
    cw = new CloudWatchClient({
      endpoint: eddy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      ...(protocol ? { protocol } : {}),
    } as NonNullable<ConstructorParameters<typeof CloudWatchClient>[0]>);
  });
  afterAll(() => cw.destroy());

  async function seed() {
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'App',
        MetricData: [
          { MetricName: 'Latency', Dimensions: dims, Timestamp: at(-10, 5), Value: 10, Unit: 'Milliseconds' },
          {
            MetricName: 'Latency',
            Dimensions: dims,
            Timestamp: at(-10, 30),
            Values: [20, 30, 40],
            Counts: [1, 2, 1],
            Unit: 'Milliseconds',
          },
          {
            MetricName: 'Latency',
            Dimensions: dims,
            Timestamp: at(-5),
            StatisticValues: { SampleCount: 4, Sum: 100, Minimum: 5, Maximum: 50 },
            Unit: 'Milliseconds',
          },
          { MetricName: 'Errors', Dimensions: dims, Timestamp: at(-9), Value: 1, Unit: 'Count' },
          { MetricName: 'Errors', Dimensions: dims, Timestamp: at(-4), Value: 3, Unit: 'Count' },
          { MetricName: 'Errors', Timestamp: at(-4), Value: 7, Unit: 'Count' },
        ],
      }),
    );
  }

  it('PutMetricData + GetMetricStatistics: statistics, percentiles, aligned periods, Unit filter', async () => {
    await seed();
    const r = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'App',
        MetricName: 'Latency',
        Dimensions: dims,
        StartTime: at(-15),
        EndTime: at(0),
        Period: 300,
        Statistics: ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'],
        ExtendedStatistics: ['p50', 'p100'],
      }),
    );
    const dps = [...(r.Datapoints ?? [])].sort((a, b) => a.Timestamp!.getTime() - b.Timestamp!.getTime());
    expect(r.Label).toBe('Latency');
    expect(dps).toEqual([
      {
        Timestamp: at(-10),
        Sum: 130,
        SampleCount: 5,
        Average: 26,
        Minimum: 10,
        Maximum: 40,
        Unit: 'Milliseconds',
        ExtendedStatistics: { p50: 30, p100: 40 },
      },
      // A statistic set has no distribution: no percentiles.
      {
        Timestamp: at(-5),
        Sum: 100,
        SampleCount: 4,
        Average: 25,
        Minimum: 5,
        Maximum: 50,
        Unit: 'Milliseconds',
        ExtendedStatistics: {},
      },
    ]);
    const none = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'App',
        MetricName: 'Latency',
        Dimensions: dims,
        StartTime: at(-15),
        EndTime: at(0),
        Period: 60,
        Statistics: ['Sum'],
        Unit: 'Seconds',
      }),
    );
    expect(none.Datapoints ?? []).toEqual([]);
    // The metric without dimensions is another metric.
    const bare = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'App',
        MetricName: 'Errors',
        StartTime: at(-15),
        EndTime: at(0),
        Period: 900,
        Statistics: ['Sum'],
      }),
    );
    expect(bare.Datapoints?.map((d) => d.Sum)).toEqual([7]);
  });

  it('refuses what AWS refuses', async () => {
    const err = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: Error & { $metadata: { httpStatusCode?: number } }) => ({
          name: e.name,
          message: e.message,
          status: e.$metadata.httpStatusCode,
        }),
      );
    expect(
      await err(
        cw.send(new PutMetricDataCommand({ Namespace: 'AWS/Lambda', MetricData: [{ MetricName: 'x', Value: 1 }] })),
      ),
    ).toMatchObject({ name: 'InvalidParameterValueException', status: 400 });
    expect(
      await err(
        cw.send(
          new PutMetricDataCommand({
            Namespace: 'App',
            MetricData: [
              { MetricName: 'x', Value: 1, StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1 } },
            ],
          }),
        ),
      ),
    ).toMatchObject({
      name: 'InvalidParameterCombinationException',
      message:
        'The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually exclusive and you have specified both.',
    });
    expect(
      await err(
        cw.send(
          new PutMetricDataCommand({
            Namespace: 'App',
            MetricData: [{ MetricName: 'x', Values: [1, 2], Counts: [1] }],
          }),
        ),
      ),
    ).toMatchObject({
      message: 'The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of the same size.',
    });
    expect(
      await err(
        cw.send(
          new PutMetricDataCommand({
            Namespace: 'App',
            MetricData: [{ MetricName: 'x', Value: 1, StorageResolution: 30 }],
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidParameterValueException' });
    expect(
      await err(
        cw.send(
          new GetMetricStatisticsCommand({
            Namespace: 'App',
            MetricName: 'x',
            StartTime: at(-60 * 24 * 2),
            EndTime: at(0),
            Period: 60,
            Statistics: ['Sum'],
          }),
        ),
      ),
    ).toMatchObject({
      name: 'InvalidParameterCombinationException',
      message:
        'You have requested up to 2,880 datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.',
    });
    expect(await err(cw.send(new DescribeAlarmsCommand({ MaxRecords: 0 })))).toMatchObject({ status: 400 });
    expect(
      await err(
        cw.send(
          new PutMetricAlarmCommand({
            AlarmName: 'band',
            MetricName: 'x',
            Namespace: 'App',
            Statistic: 'Sum',
            Period: 60,
            EvaluationPeriods: 1,
            ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold',
            ThresholdMetricId: 'ad1',
          }),
        ),
      ),
    ).toMatchObject({
      name: 'InvalidParameterValueException',
      message: expect.stringContaining('not supported by Eddy'),
    });
    expect(
      await err(
        cw.send(
          new PutAnomalyDetectorCommand({
            SingleMetricAnomalyDetector: { Namespace: 'App', MetricName: 'x', Stat: 'Sum' },
          }),
        ),
      ),
    ).toMatchObject({ message: expect.stringContaining('PutAnomalyDetector is not supported by Eddy') });
  });

  it('GetMetricData: metric stats, metric math, pagination', async () => {
    await seed();
    const q = {
      StartTime: at(-15),
      EndTime: at(0),
      MetricDataQueries: [
        {
          Id: 'errs',
          MetricStat: { Metric: { Namespace: 'App', MetricName: 'Errors', Dimensions: dims }, Period: 60, Stat: 'Sum' },
          ReturnData: false,
        },
        {
          Id: 'lat',
          MetricStat: {
            Metric: { Namespace: 'App', MetricName: 'Latency', Dimensions: dims },
            Period: 60,
            Stat: 'Maximum',
          },
          Label: 'max latency',
        },
        { Id: 'e1', Expression: '(errs * 2 + 1) / 1' },
        { Id: 'total', Expression: 'SUM(errs)' },
        { Id: 'filled', Expression: 'FILL(errs, 0)' },
        { Id: 'both', Expression: 'MAX([errs, lat])' },
      ],
    };
    const r = await cw.send(new GetMetricDataCommand({ ...q, ScanBy: 'TimestampAscending' }));
    const byId = Object.fromEntries((r.MetricDataResults ?? []).map((x) => [x.Id, x]));
    expect(Object.keys(byId).sort()).toEqual(['both', 'e1', 'filled', 'lat', 'total']);
    expect(byId.lat).toMatchObject({ Label: 'max latency', Values: [40, 50], StatusCode: 'Complete' });
    expect(byId.lat.Timestamps).toEqual([at(-10), at(-5)]);
    expect(byId.e1).toMatchObject({ Values: [3, 7], Timestamps: [at(-9), at(-4)] });
    expect(byId.total.Values).toEqual([4, 4]);
    expect(byId.filled.Values).toHaveLength(15);
    expect(byId.filled.Values?.filter((v: number) => v !== 0)).toEqual([1, 3]);
    expect(byId.both.Values).toEqual([40, 1, 50, 3]);
    // Pagination by MaxDatapoints, newest first by default.
    const pages: number[][] = [];
    let NextToken: string | undefined;
    do {
      const p = await cw.send(
        new GetMetricDataCommand({
          ...q,
          MetricDataQueries: q.MetricDataQueries.slice(0, 3),
          MaxDatapoints: 3,
          NextToken,
        }),
      );
      pages.push((p.MetricDataResults ?? []).flatMap((x) => x.Values ?? []));
      NextToken = p.NextToken;
    } while (NextToken);
    expect(pages).toEqual([[50, 40, 7], [3]]);
  });

  it('ListMetrics filters by namespace, name, dimensions and RecentlyActive', async () => {
    await seed();
    const all = await cw.send(new ListMetricsCommand({ Namespace: 'App' }));
    expect(all.Metrics).toHaveLength(3);
    const byDim = await cw.send(new ListMetricsCommand({ Dimensions: [{ Name: 'FunctionName' }] }));
    expect(byDim.Metrics?.map((m) => m.MetricName).sort()).toEqual(['Errors', 'Latency']);
    const named = await cw.send(
      new ListMetricsCommand({ MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 'orders' }] }),
    );
    expect(named.Metrics).toEqual([{ Namespace: 'App', MetricName: 'Errors', Dimensions: dims }]);
    await clock.advance(4 * 3_600_000);
    expect((await cw.send(new ListMetricsCommand({ RecentlyActive: 'PT3H' }))).Metrics ?? []).toEqual([]);
    expect((await cw.send(new ListMetricsCommand({}))).Metrics).toHaveLength(3);
  });

  it('alarms: put, describe (filters), for metric, set state, history, disable, delete', async () => {
    const base = {
      MetricName: 'Errors',
      Namespace: 'App',
      Statistic: 'Sum' as const,
      Dimensions: dims,
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold' as const,
    };
    const topic = 'arn:aws:sns:us-east-1:000000000000:alarms';
    await cw.send(new PutMetricAlarmCommand({ ...base, AlarmName: 'errors-high', AlarmActions: [topic] }));
    await cw.send(
      new PutMetricAlarmCommand({ ...base, AlarmName: 'errors-p99', Statistic: undefined, ExtendedStatistic: 'p99' }),
    );
    const d = await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'errors-' }));
    expect(d.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['errors-high', 'errors-p99']);
    expect(d.MetricAlarms?.[0]).toMatchObject({
      AlarmArn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors-high',
      StateValue: 'INSUFFICIENT_DATA',
      StateReason: 'Unchecked: Initial alarm creation',
      ActionsEnabled: true,
      AlarmActions: [topic],
      Dimensions: dims,
    });
    expect((await cw.send(new DescribeAlarmsCommand({ ActionPrefix: 'arn:aws:sns' }))).MetricAlarms).toHaveLength(1);
    expect((await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['errors-p99'] }))).MetricAlarms).toHaveLength(1);
    const forMetric = await cw.send(
      new DescribeAlarmsForMetricCommand({
        MetricName: 'Errors',
        Namespace: 'App',
        Dimensions: dims,
        Statistic: 'Sum',
      }),
    );
    expect(forMetric.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['errors-high']);
    await cw.send(new DisableAlarmActionsCommand({ AlarmNames: ['errors-high'] }));
    await cw.send(
      new SetAlarmStateCommand({
        AlarmName: 'errors-high',
        StateValue: 'ALARM',
        StateReason: 'testing',
        StateReasonData: '{}',
      }),
    );
    const s = await cw.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }));
    expect(s.MetricAlarms?.map((a) => [a.AlarmName, a.StateReason, a.ActionsEnabled])).toEqual([
      ['errors-high', 'testing', false],
    ]);
    const h = await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: 'errors-high' }));
    expect(h.AlarmHistoryItems?.map((i) => [i.HistoryItemType, i.HistorySummary])).toEqual([
      ['StateUpdate', 'Alarm updated from INSUFFICIENT_DATA to ALARM'],
      ['ConfigurationUpdate', 'Alarm "errors-high" created'],
    ]);
    expect(JSON.parse(h.AlarmHistoryItems![0].HistoryData!)).toMatchObject({
      oldState: { stateValue: 'INSUFFICIENT_DATA' },
      newState: { stateValue: 'ALARM', stateReason: 'testing' },
    });
    await expect(
      cw.send(new SetAlarmStateCommand({ AlarmName: 'nope', StateValue: 'OK', StateReason: 'x' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFound' });
    await cw.send(new DeleteAlarmsCommand({ AlarmNames: ['errors-high', 'errors-p99'] }));
    expect((await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms).toEqual([]);
  });

  it('dashboards: put (JSON validated), get, list, delete', async () => {
    const body = JSON.stringify({
      widgets: [{ type: 'text', x: 0, y: 0, width: 6, height: 3, properties: { markdown: 'hi' } }],
    });
    const put = await cw.send(new PutDashboardCommand({ DashboardName: 'ops', DashboardBody: body }));
    expect(put.DashboardValidationMessages ?? []).toEqual([]);
    const g = await cw.send(new GetDashboardCommand({ DashboardName: 'ops' }));
    expect(g).toMatchObject({
      DashboardName: 'ops',
      DashboardBody: body,
      DashboardArn: 'arn:aws:cloudwatch::000000000000:dashboard/ops',
    });
    const l = await cw.send(new ListDashboardsCommand({ DashboardNamePrefix: 'o' }));
    expect(l.DashboardEntries?.map((e) => [e.DashboardName, e.Size])).toEqual([['ops', Buffer.byteLength(body)]]);
    await expect(
      cw.send(new PutDashboardCommand({ DashboardName: 'bad', DashboardBody: '{nope' })),
    ).rejects.toMatchObject({
      name: 'DashboardInvalidInputError',
    });
    await cw.send(new DeleteDashboardsCommand({ DashboardNames: ['ops'] }));
    // DashboardNotFoundError's query code is ResourceNotFound; the awsQueryCompatible SDK names it by that code.
    await expect(cw.send(new GetDashboardCommand({ DashboardName: 'ops' }))).rejects.toMatchObject({
      name: 'ResourceNotFound',
      $metadata: { httpStatusCode: 404 },
    });
  });
});
