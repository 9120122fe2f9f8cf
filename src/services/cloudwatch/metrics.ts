import { createHash, randomBytes } from 'node:crypto';
import type { Storage } from '../../storage/types.ts';
import { type Agg, addSample, emptyAgg, type Sample } from './stats.ts';

/** kv namespaces: the metric catalogue (ListMetrics) and the datapoints (keyed by metric id + time). */
const METRICS = 'cloudwatch:metrics';
const DATA = 'cloudwatch:data';

export interface Dimension {
  Name: string;
  Value: string;
}

export interface MetricId {
  Namespace: string;
  MetricName: string;
  Dimensions: Dimension[];
}

export interface CatalogEntry extends MetricId {
  /** Clock ms of the last datum received. */
  last: number;
}

const SEP = '\u0000';

export const sortDims = (d: Dimension[] | undefined): Dimension[] =>
  [...(d ?? [])]
    .map((x) => ({ Name: x.Name, Value: x.Value }))
    .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));

const scope = (account: string, region: string) => `${account}${SEP}${region}${SEP}`;

function catalogKey(account: string, region: string, m: MetricId): Buffer {
  const dims = sortDims(m.Dimensions)
    .map((d) => `${d.Name}=${d.Value}`)
    .join(SEP);
  return Buffer.from(`${scope(account, region)}${m.Namespace}${SEP}${m.MetricName}${SEP}${SEP}${dims}`);
}

/** A metric's 16-byte id: its account, region, namespace, name and exact dimension set. */
function metricHash(account: string, region: string, m: MetricId): Buffer {
  return createHash('sha256')
    .update(catalogKey(account, region, m))
    .digest()
    .subarray(0, 16);
}

function timeKey(id: Buffer, ms: number, suffix?: Buffer): Buffer {
  const t = Buffer.alloc(8);
  t.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(ms))));
  return suffix ? Buffer.concat([id, t, suffix]) : Buffer.concat([id, t]);
}

/** Datapoints and the metric catalogue in storage.kv. Callers own the transaction. */
export class MetricStore {
  constructor(private readonly storage: Storage) {}

  put(account: string, region: string, m: MetricId, sample: Sample): void {
    const id = metricHash(account, region, m);
    this.storage.kv.put(DATA, timeKey(id, sample.t, randomBytes(6)), JSON.stringify(sample));
    const ck = catalogKey(account, region, m);
    const prior = this.storage.kv.get(METRICS, ck);
    const last = prior ? Math.max((JSON.parse(prior) as CatalogEntry).last, sample.t) : sample.t;
    const entry: CatalogEntry = {
      Namespace: m.Namespace,
      MetricName: m.MetricName,
      Dimensions: sortDims(m.Dimensions),
      last,
    };
    if (!prior || last !== (JSON.parse(prior) as CatalogEntry).last)
      this.storage.kv.put(METRICS, ck, JSON.stringify(entry));
  }

  /** Samples of one metric with fromMs <= t < toMs, in time order. */
  *samples(account: string, region: string, m: MetricId, fromMs: number, toMs: number): Generator<Sample> {
    const id = metricHash(account, region, m);
    for (const [, v] of this.storage.kv.range(DATA, { gte: timeKey(id, fromMs), lt: timeKey(id, toMs) }))
      yield JSON.parse(v) as Sample;
  }

  /**
   * Aggregates per bucket (`start + k*period`) and unit, for start <= t < end. `unit` filters;
   * without it each unit aggregates separately, as CloudWatch keeps them.
   */
  buckets(
    account: string,
    region: string,
    m: MetricId,
    startMs: number,
    endMs: number,
    periodMs: number,
    unit?: string,
  ): Map<number, Map<string, Agg>> {
    const out = new Map<number, Map<string, Agg>>();
    for (const s of this.samples(account, region, m, startMs, endMs)) {
      if (unit && s.u !== unit) continue;
      const b = startMs + Math.floor((s.t - startMs) / periodMs) * periodMs;
      let byUnit = out.get(b);
      if (!byUnit) out.set(b, (byUnit = new Map()));
      let a = byUnit.get(s.u);
      if (!a) byUnit.set(s.u, (a = emptyAgg()));
      addSample(a, s);
    }
    return out;
  }

  /** Every catalogued metric of an account and region, in key order (namespace, name, dimensions). */
  *catalog(account: string, region: string, namespace?: string): Generator<CatalogEntry> {
    const p = scope(account, region) + (namespace !== undefined ? `${namespace}${SEP}` : '');
    const gte = Buffer.from(p);
    const lt = Buffer.concat([gte, Buffer.from([0xff])]);
    for (const [, v] of this.storage.kv.range(METRICS, { gte, lt })) yield JSON.parse(v) as CatalogEntry;
  }
}

/** Merge aggregates of one bucket (all units), for callers that do not split by unit. */
export function mergeUnits(byUnit: Map<string, Agg> | undefined): Agg | undefined {
  if (!byUnit?.size) return undefined;
  if (byUnit.size === 1) return byUnit.values().next().value;
  const a = emptyAgg();
  for (const x of byUnit.values()) {
    a.n += x.n;
    a.sum += x.sum;
    a.min = Math.min(a.min, x.min);
    a.max = Math.max(a.max, x.max);
    a.values.push(...x.values);
    a.raw &&= x.raw;
  }
  return a;
}
