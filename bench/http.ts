// Raw HTTP against an endpoint: pre-built requests, keep-alive, a fixed number in flight, bounded in count and time.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** A fixed SigV4-looking header: dynalite, moto and Eddy (--auth off) accept any signature. */
export const FIXED_AUTH =
  'AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/dynamodb/aws4_request, ' +
  'SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=' +
  '0'.repeat(64);

export interface RawRequest {
  headers: Record<string, string>;
  body: Buffer;
}

export interface Response {
  status: number;
  body: string;
}

/** awsJson1_0 request for one DynamoDB operation, built once. */
export function dynamoRequest(operation: string, payload: unknown): RawRequest {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    body,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${operation}`,
      'x-amz-date': '20260101T000000Z',
      authorization: FIXED_AUTH,
      'content-length': String(body.length),
    },
  };
}

function send(
  port: number,
  req: RawRequest,
  agent: http.Agent | false,
  timeoutMs: number,
  keepBody: boolean,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/', headers: req.headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          if (keepBody) chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: keepBody ? Buffer.concat(chunks).toString() : '' }),
        );
        res.on('error', reject);
      },
    );
    r.setTimeout(timeoutMs, () => r.destroy(new Error(`request timed out after ${timeoutMs} ms`)));
    r.on('socket', (s) => s.setNoDelay(true));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** One request on a fresh connection (setup, probes). */
export function call(port: number, operation: string, payload: unknown, timeoutMs = 10_000): Promise<Response> {
  return send(port, dynamoRequest(operation, payload), false, timeoutMs, true);
}

/** One request that must succeed; returns the parsed JSON body. */
export async function callOk(port: number, operation: string, payload: unknown): Promise<any> {
  const res = await call(port, operation, payload);
  if (res.status !== 200) throw new Error(`${operation} → HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  return res.body ? JSON.parse(res.body) : {};
}

export interface DriveResult {
  /** Requests answered with 2xx. */
  ok: number;
  /** Requests answered otherwise or failed. */
  errors: number;
  firstError?: string;
  wallMs: number;
  /** True when the wall-time cap stopped the phase before `count` requests. */
  capped: boolean;
}

/**
 * Send `count` requests (request i is `requests[(offset + i) % requests.length]`) with `concurrency` in flight over
 * keep-alive connections; stop early at `capMs`. Each response is read fully. Stops at the first 20 errors.
 */
export async function drive(
  port: number,
  requests: RawRequest[],
  opts: { count: number; concurrency: number; capMs: number /** Index of the first request used. */; offset?: number },
): Promise<DriveResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  let next = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  let capped = false;
  const start = performance.now();
  const deadline = start + opts.capMs;
  const worker = async () => {
    while (next < opts.count && errors < 20) {
      if (performance.now() > deadline) {
        capped = true;
        return;
      }
      const i = (opts.offset ?? 0) + next++;
      try {
        const res = await send(port, requests[i % requests.length], agent, 30_000, false);
        if (res.status >= 200 && res.status < 300) ok++;
        else {
          errors++;
          if (!firstError) {
            // Re-issue on a fresh connection to capture the error body for the report.
            const again = await send(port, requests[i % requests.length], false, 10_000, true).catch(() => undefined);
            firstError = `HTTP ${res.status}${again ? `: ${again.body.slice(0, 200)}` : ''}`;
          }
        }
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { ok, errors, firstError, wallMs: performance.now() - start, capped };
}
