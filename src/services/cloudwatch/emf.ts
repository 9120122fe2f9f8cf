import type { MetricDatum } from '../../core/ports.ts';

export interface EmfMetrics {
  namespace: string;
  metricData: MetricDatum[];
}

const MAX_DIMENSIONS = 30;
const MAX_VALUES = 100;

/**
 * Embedded Metric Format: a JSON log line with `_aws.CloudWatchMetrics` (as Powertools Metrics and
 * aws-embedded-metrics write it) becomes metric data, one datum per metric per dimension set:
 *
 * `{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"App","Dimensions":[["service"]],
 *   "Metrics":[{"Name":"ProcessedEvents","Unit":"Count"}]}]},"service":"orders","ProcessedEvents":3}`
 *
 * Lines that are not EMF (or break the specification) give an empty list. A Lambda runtime prefix
 * (`<time>\t<requestId>\tINFO\t{...}`) is skipped, so `console.log(JSON.stringify(emf))` works too.
 */
export function extractEmf(logLine: string, nowMs?: number): EmfMetrics[] {
  let text = logLine.trim();
  if (!text.startsWith('{')) {
    const tab = text.lastIndexOf('\t{');
    if (tab < 0) return [];
    text = text.slice(tab + 1);
  }
  if (!text.includes('"_aws"')) return [];
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return [];
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return [];
  const aws = doc._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (!aws || typeof aws !== 'object' || !Array.isArray(aws.CloudWatchMetrics)) return [];
  const ts = typeof aws.Timestamp === 'number' && Number.isFinite(aws.Timestamp) ? aws.Timestamp : nowMs;
  const out: EmfMetrics[] = [];
  for (const directive of aws.CloudWatchMetrics as unknown[]) {
    if (!directive || typeof directive !== 'object') continue;
    const d = directive as { Namespace?: unknown; Dimensions?: unknown; Metrics?: unknown };
    if (typeof d.Namespace !== 'string' || !d.Namespace || !Array.isArray(d.Metrics)) continue;
    const sets: string[][] = Array.isArray(d.Dimensions)
      ? (d.Dimensions as unknown[]).filter(
          (s): s is string[] => Array.isArray(s) && s.every((k) => typeof k === 'string'),
        )
      : [];
    if (!sets.length) sets.push([]);
    const metricData: MetricDatum[] = [];
    for (const set of sets) {
      if (set.length > MAX_DIMENSIONS) continue;
      const dims: { Name: string; Value: string }[] = [];
      let ok = true;
      for (const k of set) {
        const v = doc[k];
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          ok = false;
          break;
        }
        dims.push({ Name: k, Value: String(v) });
      }
      if (!ok) continue;
      for (const m of d.Metrics as unknown[]) {
        if (!m || typeof m !== 'object') continue;
        const def = m as { Name?: unknown; Unit?: unknown; StorageResolution?: unknown };
        if (typeof def.Name !== 'string' || !def.Name) continue;
        const raw = doc[def.Name];
        const values = (Array.isArray(raw) ? raw : [raw]).filter(
          (x): x is number => typeof x === 'number' && Number.isFinite(x),
        );
        if (!values.length || values.length > MAX_VALUES) continue;
        const datum: MetricDatum = {
          MetricName: def.Name,
          Dimensions: dims,
          Unit: typeof def.Unit === 'string' && def.Unit ? def.Unit : 'None',
          StorageResolution: def.StorageResolution === 1 ? 1 : 60,
        };
        if (ts !== undefined) datum.Timestamp = ts;
        if (values.length === 1) datum.Value = values[0];
        else datum.Values = values;
        metricData.push(datum);
      }
    }
    if (metricData.length) out.push({ namespace: d.Namespace, metricData });
  }
  return out;
}
