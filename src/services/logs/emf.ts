import type { MetricDatum } from '../../core/ports.ts';

/**
 * CloudWatch embedded metric format: a JSON log event with `_aws.CloudWatchMetrics` directives
 * becomes metric data (one datum per metric per dimension set; dimension values and metric values
 * from the event's root members). Anything malformed yields nothing, as CloudWatch skips it.
 */
export function emfMetrics(message: string, fallbackTs: number): { namespace: string; data: MetricDatum[] }[] {
  const text = message.trim();
  if (!text.startsWith('{')) return [];
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch {
    return [];
  }
  const aws = doc?._aws;
  if (!aws || !Array.isArray(aws.CloudWatchMetrics)) return [];
  const ts = typeof aws.Timestamp === 'number' ? aws.Timestamp : fallbackTs;
  const out: { namespace: string; data: MetricDatum[] }[] = [];
  for (const d of aws.CloudWatchMetrics) {
    if (typeof d?.Namespace !== 'string' || !Array.isArray(d.Metrics)) continue;
    const sets: string[][] = Array.isArray(d.Dimensions) && d.Dimensions.length ? d.Dimensions : [[]];
    const data: MetricDatum[] = [];
    for (const set of sets) {
      if (!Array.isArray(set) || set.some((k) => typeof doc[k] !== 'string')) continue;
      const dims = set.map((k) => ({ Name: k, Value: doc[k] as string }));
      for (const m of d.Metrics) {
        const v = doc[m?.Name];
        const datum: MetricDatum = { MetricName: m.Name, Dimensions: dims, Timestamp: ts, Unit: m.Unit ?? 'None' };
        if (m.StorageResolution === 1) datum.StorageResolution = 1;
        if (typeof v === 'number') datum.Value = v;
        else if (Array.isArray(v) && v.every((x) => typeof x === 'number') && v.length) datum.Values = v;
        else continue;
        data.push(datum);
      }
    }
    if (data.length) out.push({ namespace: d.Namespace, data });
  }
  return out;
}
