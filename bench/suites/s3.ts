// S3: PUT/GET throughput and server CPU for small objects, MB/s and peak RSS for large ones, Eddy vs moto.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { type Peer, type PeerSpec, PeerStartError, startPeer } from '../peers.ts';
import { cpuMicros, memoryMb } from '../proc.ts';
import { fmt, ratio, type Section, type Table } from '../report.ts';
import type { Suite, SuiteContext } from '../suite.ts';

const AUTH =
  'AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=' +
  '0'.repeat(64);
const BUCKET = 'bench-bucket';
const MB = 1024 * 1024;

interface Counts {
  small: number;
  smallBytes: number;
  large: number;
  largeBytes: number;
  capMs: number;
}
const FULL: Counts = { small: 5_000, smallBytes: 4 * 1024, large: 4, largeBytes: 64 * MB, capMs: 30_000 };
const QUICK: Counts = { small: 500, smallBytes: 4 * 1024, large: 2, largeBytes: 16 * MB, capMs: 10_000 };

interface Result {
  spec: PeerSpec;
  unavailable?: string;
  smallPut?: { opsPerS: number; cpuUs: number };
  smallGet?: { opsPerS: number; cpuUs: number };
  largePutMBps?: number;
  largeGetMBps?: number;
  idleRssMb?: number;
  peakRssMb?: number;
  notes: string[];
}

function request(
  port: number,
  agent: http.Agent,
  method: string,
  path: string,
  body?: Buffer,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      authorization: AUTH,
      'x-amz-date': '20260101T000000Z',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    };
    if (body) headers['content-length'] = String(body.length);
    const r = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** `count` requests, `concurrency` in flight, bounded by `capMs`; returns ok count and wall time. */
async function drive(count: number, concurrency: number, capMs: number, one: (i: number) => Promise<boolean>) {
  let next = 0;
  let ok = 0;
  let errors = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < count && performance.now() - t0 < capMs) {
      const i = next++;
      if (await one(i).catch(() => false)) ok++;
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ok, errors, wallMs: performance.now() - t0 };
}

export const s3Suite: Suite = {
  id: 's3',
  async run(ctx: SuiteContext): Promise<Section> {
    const c = ctx.quick ? QUICK : FULL;
    const specs = ctx.peers.filter((p) => p.id === 'eddy' || p.id === 'eddy-memory' || p.id === 'moto');
    const results: Result[] = specs.map((spec) => ({ spec, notes: [] }));
    const small = Buffer.alloc(c.smallBytes, 's');
    const large = Buffer.alloc(c.largeBytes, 'L');
    for (const r of results) {
      if (performance.now() > ctx.deadline) {
        r.notes.push('skipped: time budget');
        continue;
      }
      let peer: Peer | undefined;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
      try {
        peer = await startPeer(r.spec);
        ctx.notePeer(r.spec, { version: peer.version, status: 'ran' });
        r.idleRssMb = memoryMb(peer.pid).rssMb;
        const port = peer.port;
        const made = await request(port, agent, 'PUT', `/${BUCKET}`);
        if (made.status !== 200) throw new Error(`CreateBucket → HTTP ${made.status}`);
        // Small objects: PUT then GET, 16 in flight.
        let cpu0 = cpuMicros(peer.pid);
        const put = await drive(
          c.small,
          16,
          c.capMs,
          async (i) => (await request(port, agent, 'PUT', `/${BUCKET}/small/${i}`, small)).status === 200,
        );
        if (put.ok)
          r.smallPut = { opsPerS: put.ok / (put.wallMs / 1000), cpuUs: (cpuMicros(peer.pid) - cpu0) / put.ok };
        cpu0 = cpuMicros(peer.pid);
        const get = await drive(put.ok, 16, c.capMs, async (i) => {
          const res = await request(port, agent, 'GET', `/${BUCKET}/small/${i}`);
          return res.status === 200 && res.bytes === small.length;
        });
        if (get.ok)
          r.smallGet = { opsPerS: get.ok / (get.wallMs / 1000), cpuUs: (cpuMicros(peer.pid) - cpu0) / get.ok };
        if (put.errors || get.errors) r.notes.push(`small objects: ${put.errors} PUT and ${get.errors} GET errors`);
        // Large objects, one at a time.
        let t = performance.now();
        let n = 0;
        for (let i = 0; i < c.large; i++)
          if ((await request(port, agent, 'PUT', `/${BUCKET}/large/${i}`, large)).status === 200) n++;
        r.largePutMBps = (n * c.largeBytes) / MB / ((performance.now() - t) / 1000);
        t = performance.now();
        n = 0;
        for (let i = 0; i < c.large; i++)
          if ((await request(port, agent, 'GET', `/${BUCKET}/large/${i}`)).bytes === c.largeBytes) n++;
        r.largeGetMBps = (n * c.largeBytes) / MB / ((performance.now() - t) / 1000);
        r.peakRssMb = memoryMb(peer.pid).peakMb;
        ctx.log(
          `${r.spec.name} s3: small PUT ${fmt(r.smallPut?.opsPerS)} ops/s, GET ${fmt(r.smallGet?.opsPerS)} ops/s; large PUT ${fmt(r.largePutMBps)} MB/s, GET ${fmt(r.largeGetMBps)} MB/s; peak RSS ${fmt(r.peakRssMb)} MB`,
        );
      } catch (e) {
        r.unavailable = e instanceof PeerStartError ? e.message : e instanceof Error ? e.message : String(e);
        ctx.notePeer(r.spec, { status: `unavailable: ${r.unavailable}` });
        ctx.log(`${r.spec.name} s3: ${r.unavailable}`);
      } finally {
        agent.destroy();
        await peer?.stop();
      }
    }
    return section(results, c);
  },
};

function section(results: Result[], c: Counts): Section {
  const eddy = results.find((r) => r.spec.id === 'eddy');
  const others = results.filter((r) => r.spec.id !== 'eddy');
  const rows: [string, (r: Result) => number | undefined, number][] = [
    [`PUT ${c.smallBytes / 1024} KB objects (ops/s)`, (r) => r.smallPut?.opsPerS, 0],
    [`GET ${c.smallBytes / 1024} KB objects (ops/s)`, (r) => r.smallGet?.opsPerS, 0],
    ['Server CPU per small PUT (µs)', (r) => r.smallPut?.cpuUs, 0],
    ['Server CPU per small GET (µs)', (r) => r.smallGet?.cpuUs, 0],
    [`PUT ${c.largeBytes / MB} MB objects (MB/s)`, (r) => r.largePutMBps, 0],
    [`GET ${c.largeBytes / MB} MB objects (MB/s)`, (r) => r.largeGetMBps, 0],
    ['Idle RSS (MB)', (r) => r.idleRssMb, 1],
    ['Peak RSS (MB)', (r) => r.peakRssMb, 1],
  ];
  const table: Table = {
    title: 'S3 object throughput',
    note: `Raw HTTP, path-style, fixed signature (--auth off). ${fmt(c.small)} small objects with 16 in flight (PUT, then GET of each), then ${c.large} large objects one at a time. Server CPU from /proc/<pid>/stat; peak RSS is VmHWM of the serving process.`,
    columns: ['', ...results.map((r) => r.spec.name), ...(eddy ? others.map((o) => `Eddy/${o.spec.name}`) : [])],
    rows: rows.map(([label, get, digits]) => [
      label,
      ...results.map((r) => (r.unavailable ? 'unavailable' : fmt(get(r), digits))),
      ...(eddy ? others.map((o) => ratio(get(eddy), get(o))) : []),
    ]),
  };
  return {
    title: 'S3',
    tables: [table],
    targets: [],
    notes: results.flatMap((r) => [
      ...(r.unavailable ? [`${r.spec.name}: ${r.unavailable}`] : []),
      ...r.notes.map((n) => `${r.spec.name}: ${n}`),
    ]),
  };
}
