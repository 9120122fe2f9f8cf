import type { Timer } from '../../core/clock.ts';
import type { RequestContext } from '../../core/context.ts';
import { isAwsError } from '../../core/errors.ts';
import type { GaugeSample, MetricDatum, MetricsPort, ServiceDeps } from '../../core/ports.ts';
import type { OperationHandler, ServiceImpl } from '../../gateway/service.ts';
import { loadModel } from '../../model/model.ts';
import { validateInput } from '../../model/validate.ts';
import { type AlarmDelivery, createAlarms } from './alarms.ts';
import { extractEmf } from './emf.ts';
import {
  dashboardInvalidInput,
  dashboardNotFound,
  invalidNextToken,
  invalidParameterCombination,
  invalidParameterValue,
  missingParameter,
  unsupported,
  validationError,
} from './errors.ts';
import { type Dimension, MetricStore, sortDims } from './metrics.ts';
import { alignStart, checkQueries, type DataQueryInput, runQueries, validPeriod } from './query.ts';
import { PERCENTILE, type Sample, STATISTICS, statistic } from './stats.ts';

export { extractEmf };

const DASHBOARDS = 'cloudwatch:dashboards';
const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface CloudWatchOptions {
  /** Where alarm actions go (the transactional outbox; SNS topic ARNs as targets). */
  delivery?: AlarmDelivery;
}

/** Timestamps arrive as Dates (query, CBOR), epoch seconds (JSON) or ISO strings. */
export function toMs(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v * 1000;
  if (typeof v === 'string') {
    const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

interface Pending {
  account: string;
  region: string;
  namespace: string;
  d: MetricDatum;
  t: number;
  u: string;
  counts: Map<number, number>;
}

const encodeToken = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');
function decodeToken<T>(t: string | undefined): T | undefined {
  if (t === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(t, 'base64').toString('utf8')) as T;
  } catch {
    throw invalidNextToken();
  }
}

export function createCloudWatchService(
  deps: ServiceDeps,
  opts: CloudWatchOptions = {},
): { service: ServiceImpl; port: MetricsPort; stop(): void } {
  const { storage, clock, logger } = deps;
  const store = new MetricStore(storage);
  const alarms = createAlarms({ storage, clock, logger, store, delivery: opts.delivery, flush: () => flush() });

  /** Check and store one datum (API callers: `at` names it in errors; the port passes trusted data). */
  function sample(d: MetricDatum, at: string, nowMs: number, api: boolean): Sample {
    const hasValue = d.Value !== undefined && d.Value !== null;
    const hasValues = !!d.Values?.length;
    const hasStats = !!d.StatisticValues;
    if (hasValue && hasStats)
      throw invalidParameterCombination(
        `The parameters ${at}.Value and ${at}.StatisticValues are mutually exclusive and you have specified both.`,
      );
    if (hasValue && hasValues)
      throw invalidParameterCombination(
        `The parameters ${at}.Value and ${at}.Values are mutually exclusive and you have specified both.`,
      );
    if (hasValues && hasStats)
      throw invalidParameterCombination(
        `The parameters ${at}.Values and ${at}.StatisticValues are mutually exclusive and you have specified both.`,
      );
    if (!hasValue && !hasValues && !hasStats)
      throw missingParameter(
        `At least one of the parameters ${at}.Value, ${at}.Values or ${at}.StatisticValues must be specified.`,
      );
    const checkNum = (x: number, name: string) => {
      if (
        typeof x !== 'number' ||
        !Number.isFinite(x) ||
        (x !== 0 && (Math.abs(x) > 2 ** 360 || Math.abs(x) < 2 ** -260))
      )
        throw invalidParameterValue(`The value ${x} for parameter ${at}.${name} is invalid.`);
    };
    let ts = d.Timestamp instanceof Date ? d.Timestamp.getTime() : (d.Timestamp ?? nowMs);
    if (api) {
      if (ts < nowMs - 14 * DAY)
        throw invalidParameterValue(
          `The parameter ${at}.Timestamp must specify a time no more than two weeks in the past.`,
        );
      if (ts > nowMs + 2 * HOUR)
        throw invalidParameterValue(
          `The parameter ${at}.Timestamp must specify a time no more than two hours in the future.`,
        );
    }
    const res = d.StorageResolution ?? 60;
    if (res !== 1 && res !== 60)
      throw invalidParameterValue(`The value ${res} for parameter ${at}.StorageResolution is invalid.`);
    // Standard resolution keeps one-minute granularity.
    if (res === 60) ts = Math.floor(ts / 60_000) * 60_000;
    const names = new Set<string>();
    for (const dim of d.Dimensions ?? []) {
      if (names.has(dim.Name))
        throw invalidParameterValue(`The dimension ${dim.Name} is specified more than once in ${at}.Dimensions.`);
      names.add(dim.Name);
    }
    const s: Sample = { t: ts, u: d.Unit ?? 'None' };
    if (hasValue) {
      checkNum(d.Value!, 'Value');
      s.v = [d.Value!];
    } else if (hasValues) {
      if (d.Values!.length > 150)
        throw invalidParameterValue(`The parameter ${at}.Values must hold at most 150 values.`);
      if (d.Counts?.length && d.Counts.length !== d.Values!.length)
        throw invalidParameterValue(`The parameters ${at}.Values and ${at}.Counts must be of the same size.`);
      for (const x of d.Values!) checkNum(x, 'Values');
      s.v = [...d.Values!];
      if (d.Counts?.length) {
        for (const x of d.Counts) checkNum(x, 'Counts');
        s.c = [...d.Counts];
      }
    } else {
      const sv = d.StatisticValues!;
      for (const k of ['SampleCount', 'Sum', 'Minimum', 'Maximum'] as const) {
        if (sv[k] === undefined || sv[k] === null)
          throw missingParameter(`The parameter ${at}.StatisticValues.${k} is required.`);
        checkNum(sv[k], `StatisticValues.${k}`);
      }
      if (sv.SampleCount <= 0)
        throw invalidParameterValue(
          `The value ${sv.SampleCount} for parameter ${at}.StatisticValues.SampleCount is invalid.`,
        );
      if (sv.Minimum > sv.Maximum)
        throw invalidParameterValue(
          `The parameters ${at}.StatisticValues.Minimum must not exceed ${at}.StatisticValues.Maximum.`,
        );
      s.s = { n: sv.SampleCount, sum: sv.Sum, min: sv.Minimum, max: sv.Maximum };
    }
    return s;
  }

  function putData(account: string, region: string, namespace: string, data: MetricDatum[], api: boolean): void {
    const now = clock.now();
    const checked = data.map((d, i) => ({ d, s: sample(d, `MetricData.member.${i + 1}`, now, api) }));
    storage.tx(() => {
      for (const { d, s } of checked)
        store.put(
          account,
          region,
          { Namespace: namespace, MetricName: d.MetricName, Dimensions: d.Dimensions ?? [] },
          s,
        );
    });
  }

  /**
   * Service metrics arrive per request; they are aggregated in memory per metric, unit and minute
   * (values with counts, so percentiles stay exact) and written at the minute boundary, or before
   * anything reads metrics. A crash loses at most the current minute of service metrics.
   */
  const pending = new Map<string, Pending>();
  let flushTimer: Timer | undefined;
  function flush(): void {
    flushTimer?.cancel();
    flushTimer = undefined;
    if (!pending.size) return;
    const rows = [...pending.values()];
    pending.clear();
    storage.tx(() => {
      for (const r of rows)
        store.put(
          r.account,
          r.region,
          { Namespace: r.namespace, MetricName: r.d.MetricName, Dimensions: r.d.Dimensions ?? [] },
          { t: r.t, u: r.u, v: [...r.counts.keys()], c: [...r.counts.values()] },
        );
    });
  }
  storage.onReset(() => {
    pending.clear();
    flushTimer?.cancel();
    flushTimer = undefined;
  });

  const port: MetricsPort = {
    put(accountId, region, namespace, metricData) {
      try {
        const now = clock.now();
        const direct: MetricDatum[] = [];
        for (let i = 0; i < metricData.length; i++) {
          const d = metricData[i];
          // Fast path (every request of every service lands here): one finite Value, no statistic set.
          const single =
            typeof d.Value === 'number' && Number.isFinite(d.Value) && !d.Values?.length && !d.StatisticValues;
          const s = single ? undefined : sample(d, `MetricData.member.${i + 1}`, now, false);
          if (s && !s.v) {
            direct.push(d);
            continue;
          }
          const raw =
            d.Timestamp === undefined ? now : d.Timestamp instanceof Date ? d.Timestamp.getTime() : d.Timestamp;
          const t = s
            ? s.t
            : d.StorageResolution === 1
              ? Math.floor(raw / 1000) * 1000
              : Math.floor(raw / 60_000) * 60_000;
          const u = s ? s.u : (d.Unit ?? 'None');
          let dims = '';
          const ds = d.Dimensions;
          if (ds?.length) for (const x of ds.length > 1 ? sortDims(ds) : ds) dims += `${x.Name}=${x.Value}\u0001`;
          const k = `${accountId}\u0000${region}\u0000${namespace}\u0000${d.MetricName}\u0000${dims}\u0000${u}\u0000${t}`;
          let p = pending.get(k);
          if (!p) pending.set(k, (p = { account: accountId, region, namespace, d, t, u, counts: new Map() }));
          if (!s) p.counts.set(d.Value!, (p.counts.get(d.Value!) ?? 0) + 1);
          else
            for (let j = 0; j < s.v!.length; j++) p.counts.set(s.v![j], (p.counts.get(s.v![j]) ?? 0) + (s.c?.[j] ?? 1));
        }
        if (direct.length) putData(accountId, region, namespace, direct, false);
        if (pending.size && !flushTimer) flushTimer = clock.at(Math.floor(now / 60_000) * 60_000 + 60_000, flush);
      } catch (e) {
        logger.warn('cloudwatch: metric data dropped', {
          namespace,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    },
  };

  /** Gauges, sampled 1 ms before each minute boundary (so the minute's alarms, due at the boundary, see them). */
  const gauges = new Set<(nowMs: number) => GaugeSample[]>();
  let gaugeTimer: Timer | undefined;
  function armGauges(): void {
    if (gaugeTimer || !gauges.size) return;
    const next = Math.floor((clock.now() + 1) / 60_000) * 60_000 + 60_000 - 1;
    gaugeTimer = clock.at(next, () => {
      gaugeTimer = undefined;
      const now = clock.now();
      for (const g of gauges) {
        try {
          for (const r of g(now)) port.put(r.accountId, r.region, r.namespace, r.metricData);
        } catch (e) {
          logger.warn('cloudwatch: gauge failed', { error: e instanceof Error ? e.message : String(e) });
        }
      }
      armGauges();
    });
  }
  port.putEmf = (accountId, region, logLine, timestampMs) => {
    let n = 0;
    for (const m of extractEmf(logLine, timestampMs)) {
      port.put(accountId, region, m.namespace, m.metricData);
      n += m.metricData.length;
    }
    return n;
  };
  port.addGauge = (sample) => {
    gauges.add(sample);
    armGauges();
    return () => {
      gauges.delete(sample);
      if (!gauges.size) {
        gaugeTimer?.cancel();
        gaugeTimer = undefined;
      }
    };
  };

  const dashKey = (account: string, name: string) => Buffer.from(`${account}\u0000${name}`);
  const dashArn = (account: string, name: string) => `arn:aws:cloudwatch::${account}:dashboard/${name}`;

  const operations: Record<string, OperationHandler> = {
    PutMetricData(
      input: { Namespace: string; MetricData?: Record<string, unknown>[]; EntityMetricData?: unknown[] },
      ctx: RequestContext,
    ) {
      if (input.EntityMetricData?.length) throw unsupported('EntityMetricData');
      if (/^AWS\//.test(input.Namespace))
        throw invalidParameterValue(`The value AWS/ for parameter Namespace is invalid.`);
      if (!input.MetricData?.length) throw missingParameter('The parameter MetricData is required.');
      const data = input.MetricData.map((m) => ({ ...m, Timestamp: toMs(m.Timestamp) })) as unknown as MetricDatum[];
      putData(ctx.accountId, ctx.region, input.Namespace, data, true);
      return {};
    },

    GetMetricStatistics(
      input: {
        Namespace: string;
        MetricName: string;
        Dimensions?: Dimension[];
        StartTime: unknown;
        EndTime: unknown;
        Period: number;
        Statistics?: string[];
        ExtendedStatistics?: string[];
        Unit?: string;
      },
      ctx: RequestContext,
    ) {
      flush();
      const stats = input.Statistics ?? [];
      const ext = input.ExtendedStatistics ?? [];
      if (!stats.length && !ext.length) throw missingParameter('Must specify either Statistics or ExtendedStatistics.');
      for (const e of ext)
        if (!PERCENTILE.test(e))
          throw invalidParameterValue(
            `The value ${e} for parameter ExtendedStatistics is not supported by Eddy (percentiles p0.0 to p100 are).`,
          );
      const start = toMs(input.StartTime)!;
      const end = toMs(input.EndTime)!;
      if (start >= end) throw invalidParameterValue('The parameter StartTime must be less than the parameter EndTime.');
      if (!validPeriod(input.Period))
        throw invalidParameterValue('The parameter Period must be 1, 5, 10, 30, or a multiple of 60.');
      const now = clock.now();
      const aligned = alignStart(start, input.Period, now);
      const periodMs = input.Period * 1000;
      const n = Math.ceil((end - aligned) / periodMs);
      if (n > 1440)
        throw invalidParameterCombination(
          `You have requested up to ${n.toLocaleString('en-US')} datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
        );
      const metric = { Namespace: input.Namespace, MetricName: input.MetricName, Dimensions: input.Dimensions ?? [] };
      const buckets = store.buckets(ctx.accountId, ctx.region, metric, aligned, end, periodMs, input.Unit);
      const Datapoints: Record<string, unknown>[] = [];
      for (const t of [...buckets.keys()].sort((a, b) => a - b)) {
        for (const [unit, agg] of buckets.get(t)!) {
          const dp: Record<string, unknown> = { Timestamp: new Date(t) };
          for (const s of STATISTICS) if (stats.includes(s)) dp[s] = statistic(agg, s);
          if (ext.length) {
            const ex: Record<string, number> = {};
            for (const e of ext) {
              const v = statistic(agg, e);
              if (v !== undefined) ex[e] = v;
            }
            dp.ExtendedStatistics = ex;
          }
          dp.Unit = unit;
          Datapoints.push(dp);
        }
      }
      return { Label: input.MetricName, Datapoints };
    },

    GetMetricData(
      input: {
        MetricDataQueries: DataQueryInput[];
        StartTime: unknown;
        EndTime: unknown;
        NextToken?: string;
        ScanBy?: string;
        MaxDatapoints?: number;
        LabelOptions?: { Timezone?: string };
      },
      ctx: RequestContext,
    ) {
      flush();
      const queries = input.MetricDataQueries ?? [];
      if (!queries.length) throw missingParameter('The parameter MetricDataQueries is required.');
      if (queries.length > 500)
        throw invalidParameterValue('The collection MetricDataQueries must not have a size greater than 500.');
      if (input.LabelOptions?.Timezone) throw unsupported('LabelOptions.Timezone');
      checkQueries(queries, ctx.accountId);
      const start = toMs(input.StartTime)!;
      const end = toMs(input.EndTime)!;
      if (start > end) throw validationError('The parameter EndTime must be greater than StartTime.');
      if (start === end) throw validationError('The parameter StartTime must not equal parameter EndTime.');
      const periods = queries.map((q) => q.MetricStat?.Period ?? q.Period).filter((p): p is number => !!p);
      const aligned = alignStart(start, periods.length ? Math.min(...periods) : 60, clock.now());
      const results = runQueries(store, ctx.accountId, ctx.region, queries, aligned, end).filter((r) => r.ReturnData);
      const desc = (input.ScanBy ?? 'TimestampDescending') === 'TimestampDescending';
      const max = input.MaxDatapoints ?? 100_800;
      const token = decodeToken<{ r: number; i: number }>(input.NextToken);
      let budget = max;
      let r = token?.r ?? 0;
      let i = token?.i ?? 0;
      const MetricDataResults: Record<string, unknown>[] = [];
      let next: { r: number; i: number } | undefined;
      // Results with no datapoints still appear (Complete) on the first page.
      if (!token)
        for (const res of results)
          if (!res.series.size)
            MetricDataResults.push({
              Id: res.Id,
              Label: res.Label,
              Timestamps: [],
              Values: [],
              StatusCode: 'Complete',
            });
      for (; r < results.length; r++, i = 0) {
        const res = results[r];
        const times = [...res.series.keys()].sort((a, b) => (desc ? b - a : a - b));
        if (!times.length) continue;
        if (budget <= 0) {
          next = { r, i };
          break;
        }
        const slice = times.slice(i, i + budget);
        budget -= slice.length;
        const more = i + slice.length < times.length;
        MetricDataResults.push({
          Id: res.Id,
          Label: res.Label,
          Timestamps: slice.map((t) => new Date(t)),
          Values: slice.map((t) => res.series.get(t)!),
          StatusCode: more ? 'PartialData' : 'Complete',
        });
        if (more) {
          next = { r, i: i + slice.length };
          break;
        }
      }
      return { MetricDataResults, NextToken: next ? encodeToken(next) : undefined, Messages: [] };
    },

    ListMetrics(
      input: {
        Namespace?: string;
        MetricName?: string;
        Dimensions?: { Name: string; Value?: string }[];
        NextToken?: string;
        RecentlyActive?: string;
        IncludeLinkedAccounts?: boolean;
        OwningAccount?: string;
      },
      ctx: RequestContext,
    ) {
      if (input.OwningAccount && input.OwningAccount !== ctx.accountId)
        throw unsupported('Cross-account OwningAccount');
      const now = clock.now();
      flush();
      const since = input.RecentlyActive === 'PT3H' ? now - 3 * HOUR : now - 14 * DAY;
      const matches = [];
      for (const m of store.catalog(ctx.accountId, ctx.region, input.Namespace)) {
        if (m.last < since) continue;
        if (input.MetricName !== undefined && m.MetricName !== input.MetricName) continue;
        const ok = (input.Dimensions ?? []).every((f) =>
          m.Dimensions.some((d) => d.Name === f.Name && (f.Value === undefined || f.Value === d.Value)),
        );
        if (ok) matches.push(m);
      }
      const offset = decodeToken<{ o: number }>(input.NextToken)?.o ?? 0;
      const page = matches.slice(offset, offset + 500);
      const out: Record<string, unknown> = {
        Metrics: page.map((m) => ({ Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions })),
      };
      if (input.IncludeLinkedAccounts) out.OwningAccounts = page.map(() => ctx.accountId);
      if (offset + 500 < matches.length) out.NextToken = encodeToken({ o: offset + 500 });
      return out;
    },

    PutDashboard(input: { DashboardName: string; DashboardBody: string }, ctx: RequestContext) {
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(input.DashboardName ?? ''))
        throw dashboardInvalidInput(
          'The value for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).',
          [{ DataPath: '/DashboardName', Message: 'Invalid characters' }],
        );
      let body: unknown;
      try {
        body = JSON.parse(input.DashboardBody);
      } catch {
        throw dashboardInvalidInput('The field DashboardBody must be a valid JSON object', [
          { DataPath: '', Message: 'Should be object' },
        ]);
      }
      if (!body || typeof body !== 'object' || Array.isArray(body))
        throw dashboardInvalidInput('The field DashboardBody must be a valid JSON object', [
          { DataPath: '', Message: 'Should be object' },
        ]);
      const widgets = (body as { widgets?: unknown }).widgets;
      if (widgets !== undefined && !Array.isArray(widgets))
        throw dashboardInvalidInput('The dashboard body is invalid, there are 1 validation errors', [
          { DataPath: '/widgets', Message: 'Should be array' },
        ]);
      storage.tx(() =>
        storage.kv.put(
          DASHBOARDS,
          dashKey(ctx.accountId, input.DashboardName),
          JSON.stringify({ name: input.DashboardName, body: input.DashboardBody, at: clock.now() }),
        ),
      );
      return { DashboardValidationMessages: [] };
    },

    GetDashboard(input: { DashboardName: string }, ctx: RequestContext) {
      const raw = storage.kv.get(DASHBOARDS, dashKey(ctx.accountId, input.DashboardName ?? ''));
      if (!raw) throw dashboardNotFound('Dashboard does not exist');
      const d = JSON.parse(raw) as { name: string; body: string };
      return { DashboardArn: dashArn(ctx.accountId, d.name), DashboardBody: d.body, DashboardName: d.name };
    },

    ListDashboards(input: { DashboardNamePrefix?: string; NextToken?: string }, ctx: RequestContext) {
      const gte = Buffer.from(`${ctx.accountId}\u0000${input.DashboardNamePrefix ?? ''}`);
      const lt = Buffer.concat([gte, Buffer.from([0xff])]);
      const all = [...storage.kv.range(DASHBOARDS, { gte, lt })].map(
        ([, v]) => JSON.parse(v) as { name: string; body: string; at: number },
      );
      const offset = decodeToken<{ o: number }>(input.NextToken)?.o ?? 0;
      const page = all.slice(offset, offset + 1000);
      return {
        DashboardEntries: page.map((d) => ({
          DashboardName: d.name,
          DashboardArn: dashArn(ctx.accountId, d.name),
          LastModified: new Date(d.at),
          Size: Buffer.byteLength(d.body),
        })),
        NextToken: offset + 1000 < all.length ? encodeToken({ o: offset + 1000 }) : undefined,
      };
    },

    DeleteDashboards(input: { DashboardNames: string[] }, ctx: RequestContext) {
      const names = input.DashboardNames ?? [];
      const missing = names.filter((n) => !storage.kv.get(DASHBOARDS, dashKey(ctx.accountId, n)));
      if (missing.length) throw dashboardNotFound(`The specified dashboard does not exist. [${missing.join(', ')}]`);
      storage.tx(() => {
        for (const n of names) storage.kv.delete(DASHBOARDS, dashKey(ctx.accountId, n));
      });
      return {};
    },

    ...alarms.operations,
  };

  // Everything CloudWatch offers that Eddy does not: refused by name.
  const model = loadModel('cloudwatch');
  for (const op of Object.keys(model.operations)) {
    if (operations[op]) continue;
    operations[op] = () => {
      throw unsupported(`The operation ${op}`);
    };
  }
  // Model constraints checked here so they read as CloudWatch's ValidationError in every protocol.
  for (const [op, handler] of Object.entries(operations)) {
    const shape = model.operations[op]?.input?.shape;
    operations[op] = (input, ctx) => {
      if (shape) {
        try {
          validateInput(model, shape, input);
        } catch (e) {
          if (isAwsError(e) && e.code === 'ValidationException') throw validationError(e.message);
          throw e;
        }
      }
      return handler(input, ctx);
    };
  }

  return {
    service: { model: 'cloudwatch', operations, selfValidating: new Set(Object.keys(operations)) },
    port,
    stop: () => {
      gaugeTimer?.cancel();
      gaugeTimer = undefined;
      flush();
      alarms.stop();
    },
  };
}
