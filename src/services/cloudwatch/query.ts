import { invalidParameterCombination, invalidParameterValue, unsupported, validationError } from './errors.ts';
import { evaluate, MathError, type MathValue, type Node, parseExpression, references, type Series } from './math.ts';
import { type MetricId, type MetricStore, mergeUnits } from './metrics.ts';
import { isSupportedStatistic, statistic } from './stats.ts';

export interface MetricStatInput {
  Metric?: { Namespace?: string; MetricName?: string; Dimensions?: { Name: string; Value: string }[] };
  Period?: number;
  Stat?: string;
  Unit?: string;
}

export interface DataQueryInput {
  Id: string;
  MetricStat?: MetricStatInput;
  Expression?: string;
  Label?: string;
  ReturnData?: boolean;
  Period?: number;
  AccountId?: string;
}

export interface QueryResult {
  Id: string;
  Label: string;
  ReturnData: boolean;
  series: Series;
  /** MetricStat queries: sample counts per timestamp (alarms report them). */
  sampleCounts?: Map<number, number>;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Whether a period (seconds) is one CloudWatch takes: 1, 5, 10, 30 or a multiple of 60. */
export const validPeriod = (p: number) => Number.isInteger(p) && p > 0 && ([1, 5, 10, 30].includes(p) || p % 60 === 0);

/**
 * Where CloudWatch starts the buckets: StartTime rounded down to the second (periods under a minute),
 * the minute (data up to 15 days old), 5 minutes (15–63 days) or the hour (older).
 */
export function alignStart(startMs: number, periodS: number, nowMs: number): number {
  const age = nowMs - startMs;
  const unit = periodS < 60 ? 1000 : age > 63 * DAY ? 3_600_000 : age > 15 * DAY ? 5 * MINUTE : MINUTE;
  return Math.floor(startMs / unit) * unit;
}

/** The series of one metric statistic: bucket start → value, plus sample counts. */
export function metricSeries(
  store: MetricStore,
  account: string,
  region: string,
  metric: MetricId,
  stat: string,
  startMs: number,
  endMs: number,
  periodS: number,
  unit?: string,
): { series: Series; counts: Map<number, number> } {
  const buckets = store.buckets(account, region, metric, startMs, endMs, periodS * 1000, unit);
  const series: Series = new Map();
  const counts = new Map<number, number>();
  for (const t of [...buckets.keys()].sort((a, b) => a - b)) {
    const agg = mergeUnits(buckets.get(t));
    if (!agg) continue;
    const v = statistic(agg, stat);
    if (v === undefined) continue;
    series.set(t, v);
    counts.set(t, agg.n);
  }
  return { series, counts };
}

/** Check MetricDataQueries as GetMetricData and metric-math alarms do. */
export function checkQueries(queries: DataQueryInput[], account: string, param = 'MetricDataQueries'): void {
  const ids = new Set<string>();
  queries.forEach((q, i) => {
    const at = `${param}.member.${i + 1}`;
    if (!/^[a-z][a-zA-Z0-9_]*$/.test(q.Id ?? ''))
      throw validationError(
        `The value ${q.Id} for parameter ${at}.Id is not valid: it must start with a lowercase letter and hold only letters, digits and underscores.`,
      );
    if (ids.has(q.Id)) throw validationError(`The value ${q.Id} for parameter ${at}.Id is not unique.`);
    ids.add(q.Id);
    if (q.AccountId && q.AccountId !== account) throw unsupported(`Cross-account ${at}.AccountId`);
    if (!!q.MetricStat === !!q.Expression)
      throw invalidParameterCombination(
        `Exactly one of the parameters ${at}.MetricStat and ${at}.Expression must be specified.`,
      );
    if (q.MetricStat) {
      const ms = q.MetricStat;
      if (!ms.Metric?.MetricName || !ms.Metric.Namespace)
        throw validationError(`The parameters ${at}.MetricStat.Metric.Namespace and MetricName are required.`);
      if (!validPeriod(ms.Period ?? 0))
        throw invalidParameterValue(`The value ${ms.Period} for parameter ${at}.MetricStat.Period is invalid.`);
      if (!isSupportedStatistic(ms.Stat ?? ''))
        throw invalidParameterValue(
          `The value ${ms.Stat} for parameter ${at}.MetricStat.Stat is not supported by Eddy (SampleCount, Average, Sum, Minimum, Maximum and pNN are).`,
        );
    } else {
      try {
        parseExpression(q.Expression!);
      } catch (e) {
        if (e instanceof MathError) throw validationError(`Error in expression ${q.Id}: ${e.message}`);
        throw e;
      }
      if (q.Period !== undefined && !validPeriod(q.Period))
        throw invalidParameterValue(`The value ${q.Period} for parameter ${at}.Period is invalid.`);
    }
  });
}

/** Run metric queries and metric math over [startMs, endMs) (start already aligned). */
export function runQueries(
  store: MetricStore,
  account: string,
  region: string,
  queries: DataQueryInput[],
  startMs: number,
  endMs: number,
): QueryResult[] {
  const byId = new Map(queries.map((q) => [q.Id, q]));
  const periods = queries.map((q) => q.MetricStat?.Period ?? q.Period).filter((p): p is number => !!p);
  const gridPeriod = (periods.length ? Math.min(...periods) : 60) * 1000;
  const grid: number[] = [];
  for (let t = startMs; t < endMs && grid.length < 100_800; t += gridPeriod) grid.push(t);
  const values = new Map<string, MathValue>();
  const counts = new Map<string, Map<number, number>>();
  const visiting = new Set<string>();
  const parsed = new Map<string, Node>();

  const resolve = (id: string): MathValue | undefined => {
    const done = values.get(id);
    if (done !== undefined) return done;
    const q = byId.get(id);
    if (!q) return undefined;
    if (visiting.has(id)) throw validationError(`Error in expression ${id}: Circular dependency`);
    visiting.add(id);
    let v: MathValue;
    if (q.MetricStat) {
      const ms = q.MetricStat;
      const r = metricSeries(
        store,
        account,
        region,
        {
          Namespace: ms.Metric!.Namespace!,
          MetricName: ms.Metric!.MetricName!,
          Dimensions: ms.Metric!.Dimensions ?? [],
        },
        ms.Stat!,
        startMs,
        endMs,
        ms.Period!,
        ms.Unit,
      );
      v = r.series;
      counts.set(id, r.counts);
    } else {
      let node = parsed.get(id);
      if (!node) parsed.set(id, (node = parseExpression(q.Expression!)));
      for (const ref of references(node))
        if (!byId.has(ref)) throw validationError(`Error in expression ${id}: Unrecognized identifier: ${ref}`);
      try {
        v = evaluate(node, {
          get: resolve,
          metrics: () => queries.filter((x) => x.MetricStat).map((x) => resolve(x.Id) as Series),
          grid,
        });
      } catch (e) {
        if (e instanceof MathError) throw validationError(`Error in expression ${id}: ${e.message}`);
        throw e;
      }
    }
    visiting.delete(id);
    values.set(id, v);
    return v;
  };

  const out: QueryResult[] = [];
  for (const q of queries) {
    const v = resolve(q.Id)!;
    let series: Series;
    if (typeof v === 'number') {
      series = new Map();
      // A scalar result is drawn over the timestamps of the series it came from (else of every metric).
      const times = new Set<number>();
      const addAll = (x: MathValue | undefined) => {
        if (x instanceof Map) for (const t of x.keys()) times.add(t);
        else if (Array.isArray(x)) for (const s of x) addAll(s);
      };
      const node = parsed.get(q.Id);
      if (node) for (const ref of references(node)) addAll(resolve(ref));
      if (!times.size) for (const x of queries) if (x.MetricStat) addAll(resolve(x.Id));
      if (Number.isFinite(v)) for (const t of [...times].sort((a, b) => a - b)) series.set(t, v);
    } else if (Array.isArray(v)) {
      if (q.ReturnData !== false)
        throw validationError(
          `Error in expression ${q.Id}: The expression returns an array of time series; wrap it in SUM, AVG, MIN or MAX or set ReturnData to false.`,
        );
      series = new Map();
    } else series = v;
    out.push({
      Id: q.Id,
      Label: q.Label ?? (q.MetricStat ? q.MetricStat.Metric!.MetricName! : q.Id),
      ReturnData: q.ReturnData !== false,
      series,
      sampleCounts: counts.get(q.Id),
    });
  }
  return out;
}
