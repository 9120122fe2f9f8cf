// DynamoDB Streams: write → record visible to a waiting consumer (a GetRecords loop re-issued at once with
// NextShardIterator), p50/p99, Eddy vs moto.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { type Peer, type PeerSpec, PeerStartError, startPeer } from '../peers.ts';
import { fmt, ratio, type Section, type Table, type Target } from '../report.ts';
import type { Suite, SuiteContext } from '../suite.ts';
import { errorText, jsonReq, type Latency, latency, ok, post, sleep } from '../wire.ts';

interface Counts {
  warmup: number;
  writes: number;
  capMs: number;
}
const FULL: Counts = { warmup: 20, writes: 300, capMs: 30_000 };
const QUICK: Counts = { warmup: 5, writes: 60, capMs: 10_000 };
const TABLE = 'bench-stream';

interface Result {
  spec: PeerSpec;
  unavailable?: string;
  lat?: Latency;
  getRecordsCalls?: number;
  missed?: number;
  notes: string[];
}

const ddb = (op: string, payload: unknown) => jsonReq(`DynamoDB_20120810.${op}`, 'dynamodb', payload);
const streams = (op: string, payload: unknown) => jsonReq(`DynamoDBStreams_20120810.${op}`, 'dynamodb', payload);

/** A table with a NEW_AND_OLD_IMAGES stream, ACTIVE; returns the stream ARN. */
export async function streamTable(port: number, name: string): Promise<string> {
  await ok(
    port,
    ddb('CreateTable', {
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const until = performance.now() + 10_000;
  while (performance.now() < until) {
    const d = await ok(port, ddb('DescribeTable', { TableName: name }));
    if (d.Table?.TableStatus === 'ACTIVE' && d.Table.LatestStreamArn) return d.Table.LatestStreamArn;
    await sleep(20);
  }
  throw new Error('table not ACTIVE with a stream after 10 s');
}

export function putReq(table: string, key: string) {
  return ddb('PutItem', { TableName: table, Item: { pk: { S: key }, v: { N: '1' }, s: { S: 'x'.repeat(64) } } });
}

async function measure(peer: Peer, c: Counts): Promise<{ lat: Latency; calls: number; missed: number }> {
  const port = peer.port;
  const arn = await streamTable(port, TABLE);
  const desc = await ok(port, streams('DescribeStream', { StreamArn: arn }));
  const shards: any[] = desc.StreamDescription?.Shards ?? [];
  const shard = shards.find((s) => !s.SequenceNumberRange?.EndingSequenceNumber) ?? shards.at(-1);
  if (!shard) throw new Error('stream has no shard');
  let iterator: string | undefined = (
    await ok(port, streams('GetShardIterator', { StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: 'LATEST' }))
  ).ShardIterator;
  const readAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const writeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sent = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  const samples: number[] = [];
  let stop = false;
  let calls = 0;
  let readError: string | undefined;
  const consumer = (async () => {
    while (!stop && iterator) {
      const res = await post(port, streams('GetRecords', { ShardIterator: iterator }), readAgent);
      calls++;
      const now = performance.now();
      if (res.status !== 200) {
        readError = `GetRecords → HTTP ${res.status}: ${res.body.slice(0, 200)}`;
        return;
      }
      const out = JSON.parse(res.body);
      for (const rec of out.Records ?? []) {
        const key = rec.dynamodb?.Keys?.pk?.S as string | undefined;
        if (!key) continue;
        const t0 = sent.get(key);
        if (t0 !== undefined && !key.startsWith('warm')) samples.push(now - t0);
        waiting.get(key)?.();
      }
      iterator = out.NextShardIterator;
    }
  })();
  let missed = 0;
  const t0 = performance.now();
  try {
    for (let i = 0; i < c.warmup + c.writes && performance.now() - t0 < c.capMs && !readError; i++) {
      const key = i < c.warmup ? `warm${i}` : `k${i}`;
      const seen = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 2000);
        waiting.set(key, () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      sent.set(key, performance.now());
      await ok(port, putReq(TABLE, key), writeAgent);
      if (!(await seen)) missed++;
      waiting.delete(key);
      await sleep(2 + (i % 4));
    }
  } finally {
    stop = true;
    await consumer.catch((e) => {
      readError ??= errorText(e);
    });
    readAgent.destroy();
    writeAgent.destroy();
  }
  if (readError) throw new Error(readError);
  return { lat: latency(samples), calls, missed };
}

export const streamsSuite: Suite = {
  id: 'streams',
  async run(ctx: SuiteContext): Promise<Section> {
    const c = ctx.quick ? QUICK : FULL;
    const specs = ctx.peers.filter((p) => p.id === 'eddy' || p.id === 'eddy-memory' || p.id === 'moto');
    const results: Result[] = specs.map((spec) => ({ spec, notes: [] }));
    for (const r of results) {
      if (performance.now() > ctx.deadline) {
        r.unavailable = 'skipped: time budget';
        continue;
      }
      let peer: Peer | undefined;
      try {
        peer = await startPeer(r.spec);
        ctx.notePeer(r.spec, { version: peer.version, status: 'ran' });
        const m = await measure(peer, c);
        r.lat = m.lat;
        r.getRecordsCalls = m.calls;
        r.missed = m.missed;
        if (m.missed) r.notes.push(`${m.missed} write(s) not seen by the consumer within 2 s`);
        ctx.log(
          `${r.spec.name} streams: write → record p50 ${fmt(m.lat.p50, 2)} ms, p99 ${fmt(m.lat.p99, 2)} ms (n=${m.lat.n}, ${fmt(m.calls)} GetRecords calls)`,
        );
      } catch (e) {
        r.unavailable = e instanceof PeerStartError ? e.message : errorText(e);
        ctx.notePeer(r.spec, { status: `unavailable: ${r.unavailable}` });
        ctx.log(`${r.spec.name} streams: ${r.unavailable}`);
      } finally {
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
    ['Write → record visible, p50 (ms)', (r) => r.lat?.p50, 2],
    ['Write → record visible, p99 (ms)', (r) => r.lat?.p99, 2],
    ['Write → record visible, max (ms)', (r) => r.lat?.max, 2],
    ['Samples', (r) => r.lat?.n, 0],
    ['GetRecords calls made by the consumer', (r) => r.getRecordsCalls, 0],
  ];
  const table: Table = {
    title: 'Write → record visible to a waiting consumer (lower is better)',
    note: `How to read: time from sending PutItem to the moment a consumer that re-issues GetRecords at once with NextShardIterator (one call in flight, keep-alive) holds the record. ${c.writes} single writes after ${c.warmup} warm-up writes, each waiting for its record, spaced 2–5 ms. Stream view NEW_AND_OLD_IMAGES, iterator LATEST.`,
    columns: ['', ...results.map((r) => r.spec.name), ...(eddy ? others.map((o) => `Eddy/${o.spec.name}`) : [])],
    rows: rows.map(([label, get, digits]) => [
      label,
      ...results.map((r) => (r.unavailable ? 'unavailable' : fmt(get(r), digits))),
      ...(eddy ? others.map((o) => ratio(get(eddy), get(o))) : []),
    ]),
  };
  const targets: Target[] = [];
  if (eddy) {
    const p99 = eddy.lat?.p99;
    targets.push({
      name: 'Streams: write → record visible p99 (Eddy)',
      value: p99 !== undefined ? `${fmt(p99, 2)} ms` : 'not measured',
      target: '< 5 ms',
      pass: p99 !== undefined ? p99 < 5 && !eddy.missed : undefined,
    });
  }
  return {
    title: 'DynamoDB Streams',
    tables: [table],
    targets,
    notes: results.flatMap((r) => [
      ...(r.unavailable ? [`${r.spec.name}: ${r.unavailable}`] : []),
      ...r.notes.map((n) => `${r.spec.name}: ${n}`),
    ]),
  };
}
