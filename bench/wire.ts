// Raw requests for the services past DynamoDB (Streams, SQS, SNS, Lambda): one keep-alive POST helper, the
// JSON / query / REST-JSON request shapes, latency statistics and a bounded concurrent driver.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export function authFor(service: string): string {
  return (
    `AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/${service}/aws4_request, ` +
    'SignedHeaders=content-type;host;x-amz-date, Signature=' +
    '0'.repeat(64)
  );
}

export interface Req {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** awsJson1_0 request (`AmazonSQS.SendMessage`, `DynamoDBStreams_20120810.GetRecords`, …). */
export function jsonReq(target: string, service: string, payload: unknown): Req {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    path: '/',
    body,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': target,
      'x-amz-date': '20260101T000000Z',
      authorization: authFor(service),
      'content-length': String(body.length),
    },
  };
}

/** awsQuery request (SNS). */
export function queryReq(service: string, params: Record<string, string>): Req {
  const body = Buffer.from(new URLSearchParams(params).toString());
  return {
    path: '/',
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'x-amz-date': '20260101T000000Z',
      authorization: authFor(service),
      'content-length': String(body.length),
    },
  };
}

/** REST-JSON request (Lambda). */
export function restReq(path: string, payload: unknown, service = 'lambda'): Req {
  const body = Buffer.from(payload === undefined ? '' : JSON.stringify(payload));
  return {
    path,
    body,
    headers: {
      'content-type': 'application/json',
      'x-amz-date': '20260101T000000Z',
      authorization: authFor(service),
      'content-length': String(body.length),
    },
  };
}

export interface Res {
  status: number;
  body: string;
}

export function post(
  port: number,
  req: Req,
  agent: http.Agent | false = false,
  timeoutMs = 30_000,
  method = 'POST',
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, method, path: req.path, headers: req.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    r.setTimeout(timeoutMs, () => r.destroy(new Error(`request timed out after ${timeoutMs} ms`)));
    r.on('socket', (s) => s.setNoDelay(true));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** A request that must answer 2xx; returns the parsed JSON body (or the raw text for XML). */
export async function ok(port: number, req: Req, agent: http.Agent | false = false, method = 'POST'): Promise<any> {
  const res = await post(port, req, agent, 30_000, method);
  if (res.status < 200 || res.status >= 300)
    throw new Error(`${req.headers['x-amz-target'] ?? req.path} → HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  if (!res.body) return {};
  return res.body.startsWith('<') ? res.body : JSON.parse(res.body);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))];
}

export interface Latency {
  p50?: number;
  p99?: number;
  max?: number;
  n: number;
  samples: number[];
}

export function latency(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s.at(-1), n: s.length, samples: s };
}

/**
 * Run `one(i)` for i in [0, count) with `concurrency` in flight, stopping at `capMs`. Returns how many
 * succeeded (a job may count several units, e.g. a batch of 10 messages) and the wall time.
 */
export async function pump(
  count: number,
  concurrency: number,
  capMs: number,
  one: (i: number) => Promise<number>,
): Promise<{ units: number; errors: number; firstError?: string; wallMs: number; capped: boolean }> {
  let next = 0;
  let units = 0;
  let errors = 0;
  let firstError: string | undefined;
  let capped = false;
  const t0 = performance.now();
  const worker = async () => {
    while (next < count && errors < 20) {
      if (performance.now() - t0 > capMs) {
        capped = true;
        return;
      }
      const i = next++;
      try {
        const n = await one(i);
        units += n;
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { units, errors, firstError, wallMs: performance.now() - t0, capped };
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
