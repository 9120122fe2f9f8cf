import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RawRequest, RawResponse } from '../protocol/types.ts';

/** `streams` (asked before the body is read): hand this request's body over unbuffered, as `RawRequest.stream`. */
export type Handler = ((req: RawRequest) => Promise<RawResponse>) & { streams?: (req: RawRequest) => boolean };

export interface ServerOptions {
  host: string;
  port: number;
  handler: Handler;
  /** Largest request body accepted, bytes. */
  maxBodyBytes?: number;
  onError?: (err: Error) => void;
}

export interface RunningServer {
  port: number;
  host: string;
  /** Stop accepting, let in-flight requests finish, then resolve. */
  close(): Promise<void>;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * One TCP port for HTTP/1.1 and cleartext HTTP/2 (prior knowledge, as the SDK's h2 handler speaks
 * it): the first bytes of each connection decide which server takes it.
 */
export async function startHttpServer(opts: ServerOptions): Promise<RunningServer> {
  const maxBody = opts.maxBodyBytes ?? 64 * 1024 * 1024;
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();

  const onRequest = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => {
    inFlight++;
    serve(req, res, opts.handler, maxBody)
      .catch((e) => opts.onError?.(e))
      .finally(() => {
        if (--inFlight === 0) drained?.();
      });
  };

  const h1 = http.createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 300_000, headersTimeout: 60_000 },
    onRequest,
  );
  const h2 = http2.createServer({}, onRequest as any);
  h2.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    socket.once('readable', () => {
      const chunk: Buffer | null = socket.read();
      if (!chunk) {
        socket.destroy();
        return;
      }
      socket.unshift(chunk);
      const isH2 =
        chunk.length >= 3 &&
        chunk
          .subarray(0, Math.min(chunk.length, H2_PREFACE.length))
          .equals(H2_PREFACE.subarray(0, Math.min(chunk.length, H2_PREFACE.length)));
      (isH2 ? h2 : h1).emit('connection', socket);
    });
    socket.on('error', () => socket.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(opts.port, opts.host, () => resolve());
  });
  const addr = tcp.address() as net.AddressInfo;

  return {
    port: addr.port,
    host: opts.host,
    async close() {
      await new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        h1.closeIdleConnections();
        for (const s of sessions) s.close();
        // Resolve once in-flight requests finish too: kept-alive sockets would hold tcp.close() open.
        if (inFlight === 0) resolve();
        else drained = resolve;
      });
      if (inFlight > 0) await new Promise<void>((r) => (drained = r));
      for (const s of sockets) s.destroy();
    },
  };
}

async function serve(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
  handler: Handler,
  maxBody: number,
): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  // Node already lower-cases header names; only repeated headers (arrays) need joining.
  const headers = req.headers as Record<string, string>;
  for (const k in headers) {
    const v = headers[k] as unknown;
    if (Array.isArray(v)) headers[k] = v.join(',');
  }
  const raw: RawRequest = {
    method: req.method ?? 'GET',
    path: q >= 0 ? url.slice(0, q) : url,
    rawQuery: q >= 0 ? url.slice(q + 1) : '',
    query: new URLSearchParams(q >= 0 ? url.slice(q + 1) : ''),
    headers,
    body: EMPTY,
    host: headers.host ?? (req.headers[':authority'] as string | undefined) ?? 'localhost',
  };
  const streaming = handler.streams?.(raw) === true;
  if (streaming) raw.stream = req as unknown as Readable;
  else {
    const body = await readBody(req, maxBody);
    if (!body) {
      // Stop reading the rest: answer, then drop the connection.
      res.on('finish', () => req.destroy());
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(
        JSON.stringify({
          __type: 'RequestEntityTooLargeException',
          message: `Request must be smaller than ${maxBody} bytes`,
        }),
      );
      return;
    }
    raw.body = body;
  }
  const out = await handler(raw);
  // A streamed request body the handler did not read (an error answered early): drain it so the connection stays usable.
  if (streaming && !req.readableEnded) req.resume();
  if (out.body instanceof Readable) {
    res.writeHead(out.status, out.headers);
    try {
      await pipeline(out.body, res as NodeJS.WritableStream);
    } catch {
      res.destroy();
    }
    return;
  }
  const body = typeof out.body === 'string' ? Buffer.from(out.body, 'utf8') : out.body;
  // HEAD answers carry the length of the body a GET would have sent.
  if (!(raw.method === 'HEAD' && out.headers['content-length'] !== undefined))
    out.headers['content-length'] = String(body.length);
  res.writeHead(out.status, out.headers);
  res.end(body);
}

const EMPTY = Buffer.alloc(0);

/** The whole body, or null once it passes `maxBody` (events, not an async iterator: this is the hot path). */
function readBody(req: Readable, maxBody: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > maxBody) {
        over = true;
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(chunks.length === 1 ? chunks[0] : chunks.length ? Buffer.concat(chunks) : EMPTY);
    });
    req.on('error', reject);
  });
}
