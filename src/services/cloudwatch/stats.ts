/**
 * Exact statistics over stored samples: Sum, Average, Minimum, Maximum, SampleCount and percentiles
 * (from raw values; statistic sets carry no distribution, so percentiles skip them).
 */

/** One stored PutMetricData datum (the timestamp lives in the key). */
export interface Sample {
  /** Clock ms of the datum (already truncated to the minute for standard resolution). */
  t: number;
  /** Unit, 'None' when not given. */
  u: string;
  /** Raw values and their counts (Value is stored as v: [Value]). */
  v?: number[];
  c?: number[];
  /** A statistic set. */
  s?: { n: number; sum: number; min: number; max: number };
}

export interface Agg {
  n: number;
  sum: number;
  min: number;
  max: number;
  /** Raw values with counts, for percentiles; `raw` false once a statistic set joined. */
  values: [number, number][];
  raw: boolean;
}

export const emptyAgg = (): Agg => ({
  n: 0,
  sum: 0,
  min: Number.POSITIVE_INFINITY,
  max: Number.NEGATIVE_INFINITY,
  values: [],
  raw: true,
});

export function addSample(a: Agg, s: Sample): void {
  if (s.s) {
    a.n += s.s.n;
    a.sum += s.s.sum;
    a.min = Math.min(a.min, s.s.min);
    a.max = Math.max(a.max, s.s.max);
    a.raw = false;
    return;
  }
  const vs = s.v ?? [];
  for (let i = 0; i < vs.length; i++) {
    const c = s.c?.[i] ?? 1;
    if (c <= 0) continue;
    const x = vs[i];
    a.n += c;
    a.sum += x * c;
    if (x < a.min) a.min = x;
    if (x > a.max) a.max = x;
    a.values.push([x, c]);
  }
}

export const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;

/** `p99`, `p99.9`, `p0.0`..`p100` (the percentile forms Eddy computes). */
export const PERCENTILE = /^p(\d{1,2}(\.\d{0,10})?|100(\.0{0,10})?)$/;

export function isSupportedStatistic(stat: string): boolean {
  return (STATISTICS as readonly string[]).includes(stat) || PERCENTILE.test(stat);
}

/** The value of a statistic over an aggregate; undefined when it cannot be computed (no samples, no raw values). */
export function statistic(a: Agg, stat: string): number | undefined {
  if (a.n <= 0) return undefined;
  switch (stat) {
    case 'SampleCount':
      return a.n;
    case 'Sum':
      return a.sum;
    case 'Average':
      return a.sum / a.n;
    case 'Minimum':
      return a.min;
    case 'Maximum':
      return a.max;
  }
  const m = PERCENTILE.exec(stat);
  if (!m || !a.raw || !a.values.length) return undefined;
  return percentile(a.values, Number(stat.slice(1)));
}

/** Nearest-rank percentile over weighted values (p0 is the minimum, p100 the maximum). */
export function percentile(values: [number, number][], p: number): number {
  const sorted = [...values].sort((x, y) => x[0] - y[0]);
  let total = 0;
  for (const [, c] of sorted) total += c;
  if (p <= 0) return sorted[0][0];
  const rank = Math.ceil((p / 100) * total);
  let acc = 0;
  for (const [x, c] of sorted) {
    acc += c;
    if (acc >= rank) return x;
  }
  return sorted[sorted.length - 1][0];
}
