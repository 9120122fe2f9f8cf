import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The Lambda Runtime API (2018-06-01) for one execution environment, on its own 127.0.0.1 port so
 * `AWS_LAMBDA_RUNTIME_API` is a plain `host:port` as on AWS and any runtime interface client works.
 * `invocation/next` is a long poll held open until an invocation is assigned (no polling).
 */

export interface NextInvocation {
  requestId: string;
  deadlineMs: number;
  /** Clock time the invocation was queued (the pool re-stamps the deadline on delivery). */
  dispatchedAt?: number;
  functionArn: string;
  traceId: string;
  clientContext?: string;
  payload: Buffer;
}

export interface RuntimeApiHandlers {
  /** The runtime asks for work: call `deliver` now or later (exactly once). */
  next(deliver: (inv: NextInvocation) => void): void;
  /** Returns false when the request id is not the current invocation. */
  response(requestId: string, body: Buffer, headers: Record<string, string>): 'ok' | 'unknown' | 'too-large';
  error(requestId: string, body: Buffer, headers: Record<string, string>): 'ok' | 'unknown';
  initError(body: Buffer, headers: Record<string, string>): void;
}

/** Largest body the runtime may post (AWS's response limit is 6 MB; larger ones are rejected, then reported). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;
const MAX_READ = 32 * 1024 * 1024;

export interface RuntimeApiServer {
  /** `host:port` for AWS_LAMBDA_RUNTIME_API. */
  address: string;
  close(): void;
}

export async function startRuntimeApi(h: RuntimeApiHandlers): Promise<RuntimeApiServer> {
  const server = http.createServer({ keepAliveTimeout: 0, requestTimeout: 0 }, (req, res) => {
    const url = req.url ?? '/';
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_READ) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = req.headers as Record<string, string>;
      const reply = (status: number, obj: unknown) => {
        if (res.writableEnded) return;
        const b = JSON.stringify(obj);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
        res.end(b);
      };
      if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
        h.next((inv) => {
          if (res.writableEnded || res.destroyed) return;
          const hdrs: Record<string, string | number> = {
            'content-type': 'application/json',
            'content-length': inv.payload.length,
            'lambda-runtime-aws-request-id': inv.requestId,
            'lambda-runtime-deadline-ms': String(inv.deadlineMs),
            'lambda-runtime-invoked-function-arn': inv.functionArn,
            'lambda-runtime-trace-id': inv.traceId,
          };
          if (inv.clientContext) hdrs['lambda-runtime-client-context'] = inv.clientContext;
          res.writeHead(200, hdrs);
          res.end(inv.payload);
        });
        return;
      }
      let m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/response$/.exec(url);
      if (req.method === 'POST' && m) {
        if (tooLarge || size > MAX_RESPONSE_BYTES) {
          h.response(m[1], Buffer.alloc(0), { ...headers, 'x-eddy-too-large': String(size) });
          return reply(413, {
            errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
            errorType: 'RequestEntityTooLarge',
          });
        }
        const r = h.response(m[1], body, headers);
        if (r === 'unknown')
          return reply(400, { errorMessage: `Invalid request ID: ${m[1]}`, errorType: 'InvalidRequestID' });
        return reply(202, { status: 'OK' });
      }
      m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/error$/.exec(url);
      if (req.method === 'POST' && m) {
        const r = h.error(m[1], body, headers);
        if (r === 'unknown')
          return reply(400, { errorMessage: `Invalid request ID: ${m[1]}`, errorType: 'InvalidRequestID' });
        return reply(202, { status: 'OK' });
      }
      if (req.method === 'POST' && url === '/2018-06-01/runtime/init/error') {
        h.initError(body, headers);
        return reply(202, { status: 'OK' });
      }
      reply(404, { errorMessage: `Unknown Runtime API path: ${req.method} ${url}`, errorType: 'NotFound' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}
