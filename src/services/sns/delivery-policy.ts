/**
 * SNS HTTP/S delivery policies: the retry schedule an endpoint gets, from the subscription's
 * `DeliveryPolicy.healthyRetryPolicy` or the topic's `DeliveryPolicy.http.defaultHealthyRetryPolicy`
 * (AWS default: 3 retries, 20 s apart).
 */
export interface RetryPolicy {
  minDelayTarget: number;
  maxDelayTarget: number;
  numRetries: number;
  numMaxDelayRetries: number;
  numNoDelayRetries: number;
  numMinDelayRetries: number;
  backoffFunction: 'linear' | 'arithmetic' | 'geometric' | 'exponential';
}

export const DEFAULT_RETRY: RetryPolicy = {
  minDelayTarget: 20,
  maxDelayTarget: 20,
  numRetries: 3,
  numMaxDelayRetries: 0,
  numNoDelayRetries: 0,
  numMinDelayRetries: 0,
  backoffFunction: 'linear',
};

const FIELDS = [
  'minDelayTarget',
  'maxDelayTarget',
  'numRetries',
  'numMaxDelayRetries',
  'numNoDelayRetries',
  'numMinDelayRetries',
] as const;

/** Check a retry policy as SNS does; returns the reason when invalid. */
export function retryPolicyProblem(p: unknown): string | undefined {
  if (p === undefined) return undefined;
  if (!p || typeof p !== 'object' || Array.isArray(p)) return 'healthyRetryPolicy must be an object';
  const r = { ...DEFAULT_RETRY, ...(p as Partial<RetryPolicy>) };
  for (const f of FIELDS) if (!Number.isInteger(r[f]) || r[f] < 0) return `${f} must be a non-negative integer`;
  if (r.numRetries > 100) return 'numRetries must be at most 100';
  if (r.minDelayTarget < 1 || r.maxDelayTarget > 3600 || r.minDelayTarget > r.maxDelayTarget) {
    return 'minDelayTarget must be at least 1, at most maxDelayTarget, and maxDelayTarget at most 3600';
  }
  if (r.numNoDelayRetries + r.numMinDelayRetries + r.numMaxDelayRetries > r.numRetries) {
    return 'numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries';
  }
  if (!['linear', 'arithmetic', 'geometric', 'exponential'].includes(r.backoffFunction))
    return 'backoffFunction is invalid';
  return undefined;
}

/** The retry delays (ms): immediate retries, then min-delay ones, the backoff phase, then max-delay ones. */
export function retryDelays(p: Partial<RetryPolicy> | undefined): number[] {
  const r = { ...DEFAULT_RETRY, ...(p ?? {}) };
  const out: number[] = [];
  for (let i = 0; i < r.numNoDelayRetries; i++) out.push(0);
  for (let i = 0; i < r.numMinDelayRetries; i++) out.push(r.minDelayTarget * 1000);
  const backoff = r.numRetries - r.numNoDelayRetries - r.numMinDelayRetries - r.numMaxDelayRetries;
  for (let i = 1; i <= backoff; i++) {
    const f = backoff === 1 ? 1 : (i - 1) / (backoff - 1);
    const geometric = r.backoffFunction === 'geometric' || r.backoffFunction === 'exponential';
    const s = geometric
      ? r.minDelayTarget * (r.maxDelayTarget / r.minDelayTarget) ** f
      : r.minDelayTarget + (r.maxDelayTarget - r.minDelayTarget) * f;
    out.push(Math.round(s * 1000));
  }
  for (let i = 0; i < r.numMaxDelayRetries; i++) out.push(r.maxDelayTarget * 1000);
  return out;
}

/** The policy in effect for an HTTP/S subscription. */
export function effectiveRetry(topicPolicy: string | undefined, subPolicy: string | undefined): RetryPolicy {
  let topic: any;
  let sub: any;
  try {
    topic = topicPolicy ? JSON.parse(topicPolicy) : undefined;
  } catch {}
  try {
    sub = subPolicy ? JSON.parse(subPolicy) : undefined;
  } catch {}
  const http = topic?.http ?? {};
  const base = { ...DEFAULT_RETRY, ...(http.defaultHealthyRetryPolicy ?? {}) };
  if (http.disableSubscriptionOverrides) return base;
  return { ...base, ...(sub?.healthyRetryPolicy ?? {}) };
}
