import { describe, expect, it } from 'vitest';
import { extractEmf } from './emf.ts';
import { evaluate, MathError, parseExpression, type Series } from './math.ts';
import { addSample, emptyAgg, percentile, statistic } from './stats.ts';

describe('statistics', () => {
  it('computes Sum/Average/Min/Max/SampleCount exactly, percentiles from raw values with counts', () => {
    const a = emptyAgg();
    addSample(a, { t: 0, u: 'None', v: [1, 2, 3, 4], c: [1, 1, 1, 97] });
    expect([
      statistic(a, 'SampleCount'),
      statistic(a, 'Sum'),
      statistic(a, 'Minimum'),
      statistic(a, 'Maximum'),
    ]).toEqual([100, 394, 1, 4]);
    expect(statistic(a, 'Average')).toBeCloseTo(3.94);
    expect(statistic(a, 'p0')).toBe(1);
    expect(statistic(a, 'p1')).toBe(1);
    expect(statistic(a, 'p2.5')).toBe(3);
    expect(statistic(a, 'p50')).toBe(4);
    expect(statistic(a, 'p100')).toBe(4);
    expect(statistic(a, 'tm99')).toBeUndefined();
    addSample(a, { t: 0, u: 'None', s: { n: 2, sum: 10, min: 0, max: 9 } });
    expect([statistic(a, 'SampleCount'), statistic(a, 'Minimum'), statistic(a, 'Maximum')]).toEqual([102, 0, 9]);
    expect(statistic(a, 'p50')).toBeUndefined(); // a statistic set carries no distribution
    expect(statistic(emptyAgg(), 'Sum')).toBeUndefined();
  });
  it('nearest-rank percentile', () => {
    const vs: [number, number][] = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((x) => [x, 1]);
    expect([percentile(vs, 90), percentile(vs, 99), percentile(vs, 10), percentile(vs, 10.5)]).toEqual([
      90, 100, 10, 20,
    ]);
  });
});

describe('metric math', () => {
  const s = (o: Record<number, number>): Series => new Map(Object.entries(o).map(([k, v]) => [Number(k), v]));
  const env = (vals: Record<string, Series>) => ({
    get: (id: string) => vals[id],
    metrics: () => Object.values(vals),
    grid: [0, 60, 120, 180],
  });
  const run = (e: string, vals: Record<string, Series>) => evaluate(parseExpression(e), env(vals));

  it('arithmetic between series and scalars, aligned by timestamp', () => {
    const m1 = s({ 0: 1, 60: 2, 120: 3 });
    const m2 = s({ 0: 10, 120: 30 });
    expect(run('m1 + m2', { m1, m2 })).toEqual(s({ 0: 11, 120: 33 }));
    expect(run('-m1 * 2 + 1', { m1 })).toEqual(s({ 0: -1, 60: -3, 120: -5 }));
    expect(run('(m1 - 1) / m1', { m1 })).toEqual(s({ 0: 0, 60: 0.5, 120: 2 / 3 }));
    expect(run('m1 / 0', { m1 })).toEqual(new Map()); // no datapoint where the value is not finite
    expect(run('2 * (3 + 4)', {})).toBe(14);
  });
  it('SUM/AVG/MIN/MAX of a series (scalar) and of an array (series); FILL; ABS; METRICS()', () => {
    const m1 = s({ 0: 1, 60: 2, 120: 3 });
    const m2 = s({ 0: 10, 120: 30 });
    expect(run('SUM(m1)', { m1 })).toBe(6);
    expect(run('AVG(m1)', { m1 })).toBe(2);
    expect(run('MAX([m1, m2])', { m1, m2 })).toEqual(s({ 0: 10, 60: 2, 120: 30 }));
    expect(run('MIN([m1, m2])', { m1, m2 })).toEqual(s({ 0: 1, 60: 2, 120: 3 }));
    expect(run('SUM(METRICS())', { m1, m2 })).toEqual(s({ 0: 11, 60: 2, 120: 33 }));
    expect(run('FILL(m2, 0)', { m2 })).toEqual(s({ 0: 10, 60: 0, 120: 30, 180: 0 }));
    expect(run('FILL(m2, REPEAT)', { m2 })).toEqual(s({ 0: 10, 60: 10, 120: 30, 180: 30 }));
    expect(run('FILL(m2, LINEAR)', { m2 })).toEqual(s({ 0: 10, 60: 20, 120: 30 }));
    expect(run('ABS(-m1)', { m1 })).toEqual(m1);
  });
  it('refuses what it does not implement, by name', () => {
    expect(() => parseExpression('RATE(m1)')).toThrow(/Unsupported function: RATE/);
    expect(() => parseExpression('m1 +')).toThrow(MathError);
    expect(() => parseExpression('m1 $ 2')).toThrow(/Syntax error/);
    expect(() => run('nope + 1', {})).toThrow(/Unrecognized identifier: nope/);
  });
});

describe('Embedded Metric Format', () => {
  const line = JSON.stringify({
    _aws: {
      Timestamp: 1767268800000,
      CloudWatchMetrics: [
        {
          Namespace: 'RetailEventProcessing',
          Dimensions: [['service'], ['service', 'stage'], []],
          Metrics: [
            { Name: 'ProcessedEvents', Unit: 'Count' },
            { Name: 'Latency', Unit: 'Milliseconds', StorageResolution: 1 },
          ],
        },
      ],
    },
    service: 'orders',
    stage: 'prod',
    ProcessedEvents: 3,
    Latency: [12, 15],
    requestId: 'r-1',
  });
  it('one datum per metric and dimension set (Powertools / aws-embedded-metrics shape)', () => {
    const out = extractEmf(line);
    expect(out).toHaveLength(1);
    expect(out[0].namespace).toBe('RetailEventProcessing');
    expect(out[0].metricData).toEqual([
      {
        MetricName: 'ProcessedEvents',
        Dimensions: [{ Name: 'service', Value: 'orders' }],
        Unit: 'Count',
        StorageResolution: 60,
        Timestamp: 1767268800000,
        Value: 3,
      },
      {
        MetricName: 'Latency',
        Dimensions: [{ Name: 'service', Value: 'orders' }],
        Unit: 'Milliseconds',
        StorageResolution: 1,
        Timestamp: 1767268800000,
        Values: [12, 15],
      },
      {
        MetricName: 'ProcessedEvents',
        Dimensions: [
          { Name: 'service', Value: 'orders' },
          { Name: 'stage', Value: 'prod' },
        ],
        Unit: 'Count',
        StorageResolution: 60,
        Timestamp: 1767268800000,
        Value: 3,
      },
      {
        MetricName: 'Latency',
        Dimensions: [
          { Name: 'service', Value: 'orders' },
          { Name: 'stage', Value: 'prod' },
        ],
        Unit: 'Milliseconds',
        StorageResolution: 1,
        Timestamp: 1767268800000,
        Values: [12, 15],
      },
      {
        MetricName: 'ProcessedEvents',
        Dimensions: [],
        Unit: 'Count',
        StorageResolution: 60,
        Timestamp: 1767268800000,
        Value: 3,
      },
      {
        MetricName: 'Latency',
        Dimensions: [],
        Unit: 'Milliseconds',
        StorageResolution: 1,
        Timestamp: 1767268800000,
        Values: [12, 15],
      },
    ]);
  });
  it('accepts a Lambda runtime prefix; ignores non-EMF and broken lines', () => {
    expect(extractEmf(`2026-01-01T12:00:00.000Z\tr-1\tINFO\t${line}`)).toHaveLength(1);
    expect(extractEmf('START RequestId: r-1 Version: $LATEST')).toEqual([]);
    expect(extractEmf('{"_aws": {"CloudWatchMetrics": "nope"}}')).toEqual([]);
    expect(
      extractEmf(
        '{"_aws": {"CloudWatchMetrics": [{"Namespace": "x", "Dimensions": [["missing"]], "Metrics": [{"Name": "m"}]}]}, "m": 1}',
      ),
    ).toEqual([]);
    expect(extractEmf('{"_aws": ')).toEqual([]);
  });
});

describe('MetricsPort', () => {
  const T0 = Date.UTC(2026, 0, 1, 12, 0, 10);
  async function setup() {
    const { openSqliteStorage } = await import('../../storage/sqlite/sqlite-storage.ts');
    const { VirtualClock } = await import('../../core/clock.ts');
    const { createLogger } = await import('../../core/logger.ts');
    const { createCloudWatchService } = await import('./index.ts');
    const storage = openSqliteStorage({});
    const clock = new VirtualClock(T0);
    const cw = createCloudWatchService({ storage, clock, logger: createLogger('silent'), endpoint: () => '' });
    const ctx = { accountId: '000000000000', region: 'us-east-1', clock } as never;
    const stats = (MetricName: string, Dimensions: { Name: string; Value: string }[], Namespace = 'AWS/SQS') =>
      cw.service.operations.GetMetricStatistics(
        {
          Namespace,
          MetricName,
          Dimensions,
          StartTime: new Date(T0 - 600_000),
          EndTime: new Date(T0 + 600_000),
          Period: 60,
          Statistics: ['Sum', 'SampleCount', 'Maximum'],
          ExtendedStatistics: ['p50'],
        },
        ctx,
      ) as { Datapoints: Record<string, unknown>[] };
    return { storage, clock, cw, stats };
  }

  it('aggregates service data per minute (exact percentiles) and flushes before reads', async () => {
    const { storage, cw, stats } = await setup();
    const dims = [{ Name: 'FunctionName', Value: 'f' }];
    for (const v of [5, 1, 5, 9])
      cw.port.put('000000000000', 'us-east-1', 'AWS/Lambda', [
        { MetricName: 'Duration', Dimensions: dims, Value: v, Unit: 'Milliseconds' },
      ]);
    expect(stats('Duration', dims, 'AWS/Lambda').Datapoints).toEqual([
      {
        Timestamp: new Date(Date.UTC(2026, 0, 1, 12)),
        Sum: 20,
        SampleCount: 4,
        Maximum: 9,
        ExtendedStatistics: { p50: 5 },
        Unit: 'Milliseconds',
      },
    ]);
    // Bad data from a service is dropped with a warning, never thrown.
    expect(() =>
      cw.port.put('000000000000', 'us-east-1', 'AWS/Lambda', [{ MetricName: 'x', Value: Number.NaN }]),
    ).not.toThrow();
    cw.stop();
    storage.close();
  });

  it('putEmf turns an EMF log line into metrics (the event time when the line has none)', async () => {
    const { storage, cw, stats } = await setup();
    const line = JSON.stringify({
      _aws: {
        CloudWatchMetrics: [
          { Namespace: 'Shop', Dimensions: [['service']], Metrics: [{ Name: 'Orders', Unit: 'Count' }] },
        ],
      },
      service: 'cart',
      Orders: 2,
    });
    expect(cw.port.putEmf!('000000000000', 'us-east-1', line, T0)).toBe(1);
    expect(cw.port.putEmf!('000000000000', 'us-east-1', 'plain text', T0)).toBe(0);
    expect(stats('Orders', [{ Name: 'service', Value: 'cart' }], 'Shop').Datapoints.map((d) => d.Sum)).toEqual([2]);
    cw.stop();
    storage.close();
  });

  it('samples gauges once a minute on the clock', async () => {
    const { storage, clock, cw, stats } = await setup();
    let depth = 3;
    const remove = cw.port.addGauge!((now) => [
      {
        accountId: '000000000000',
        region: 'us-east-1',
        namespace: 'AWS/SQS',
        metricData: [
          {
            MetricName: 'ApproximateNumberOfMessagesVisible',
            Dimensions: [{ Name: 'QueueName', Value: 'dlq' }],
            Value: depth,
            Unit: 'Count',
            Timestamp: now,
          },
        ],
      },
    ]);
    await clock.advance(60_000);
    depth = 7;
    await clock.advance(60_000);
    remove();
    depth = 100;
    await clock.advance(60_000);
    const dps = stats('ApproximateNumberOfMessagesVisible', [{ Name: 'QueueName', Value: 'dlq' }]).Datapoints;
    expect(dps.map((d) => [(d.Timestamp as Date).toISOString(), d.Maximum])).toEqual([
      ['2026-01-01T12:00:00.000Z', 3],
      ['2026-01-01T12:01:00.000Z', 7],
    ]);
    cw.stop();
    storage.close();
  });
});
