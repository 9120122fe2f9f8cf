// Event source mappings (Eddy only): DynamoDB write → Lambda handler latency through a stream mapping, and
// sustained records/s through a mapping to a no-op handler. Writes the latency CDF to bench/latency.svg.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Peer, type PeerSpec, PeerStartError, ROOT, startPeer } from '../peers.ts';
import { fmt, type Section, type Table, type Target } from '../report.ts';
import type { Suite, SuiteContext } from '../suite.ts';
import { cdfSvg } from '../svg.ts';
import { errorText, jsonReq, type Latency, latency, ok, post, pump, restReq, sleep } from '../wire.ts';
import { createFunction } from './lambda.ts';
import { putReq, streamTable } from './streams.ts';

interface Counts {
  writes: number;
  spacingMs: number;
  records: number;
  writers: number;
  capMs: number;
}
const FULL: Counts = { writes: 300, spacingMs: 20, records: 20_000, writers: 4, capMs: 45_000 };
const QUICK: Counts = { writes: 60, spacingMs: 20, records: 4_000, writers: 4, capMs: 15_000 };

export const CHART = join(ROOT, 'bench', 'latency.svg');

/** Appends `<key> <epoch ms, sub-ms>` per record: the arrival time in the handler. */
const RECORDER = `const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
exports.handler = async (event) => {
  const now = performance.timeOrigin + performance.now();
  let s = '';
  for (const r of event.Records) s += r.dynamodb.Keys.pk.S + ' ' + now + '\\n';
  fs.appendFileSync(process.env.OUT, s);
};`;

/** Appends `<batch size> <epoch ms>` per batch: next to nothing per record. */
const COUNTER = `const fs = require('node:fs');
exports.handler = async (event) => {
  fs.appendFileSync(process.env.OUT, event.Records.length + ' ' + Date.now() + '\\n');
};`;

const wallNow = () => performance.timeOrigin + performance.now();

interface Result {
  spec: PeerSpec;
  unavailable?: string;
  lat?: Latency;
  lost?: number;
  tput?: { records: number; seen: number; writeMs: number; totalMs: number; batches: number };
  drain?: { records: number; seen: number; totalMs: number };
  notes: string[];
}

async function mapping(port: number, arn: string, fn: string, from = 'LATEST'): Promise<void> {
  const m = await ok(
    port,
    restReq('/2015-03-31/event-source-mappings/', {
      EventSourceArn: arn,
      FunctionName: fn,
      BatchSize: 100,
      StartingPosition: from,
    }),
  );
  const until = performance.now() + 10_000;
  while (performance.now() < until) {
    const g = await ok(port, restReq(`/2015-03-31/event-source-mappings/${m.UUID}`, undefined), false, 'GET');
    if (g.State === 'Enabled') return;
    await sleep(10);
  }
  throw new Error('mapping not Enabled after 10 s');
}

function lines(file: string): string[][] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '));
}

/** Wait until `done()` holds, polling every 10 ms; false at the cap. */
async function waitFor(done: () => boolean, capMs: number): Promise<boolean> {
  const until = performance.now() + capMs;
  while (performance.now() < until) {
    if (done()) return true;
    await sleep(10);
  }
  return done();
}

async function measure(peer: Peer, c: Counts, r: Result, dir: string, ctx: SuiteContext): Promise<void> {
  const port = peer.port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: c.writers });
  try {
    // 1. Latency: single writes ~20 ms apart, each record's arrival time written by the handler.
    const latFile = join(dir, 'latency.txt');
    const latArn = await streamTable(port, 'bench-esm-latency');
    await createFunction(port, 'bench-recorder', RECORDER, { OUT: latFile });
    await mapping(port, latArn, 'bench-recorder');
    // Warm-up: the first record starts the handler process (cold start is measured in the Lambda section).
    for (let i = 0; i < 3; i++) {
      await ok(port, putReq('bench-esm-latency', `warm${i}`), agent);
      if (!(await waitFor(() => lines(latFile).some(([k]) => k === `warm${i}`), 15_000)))
        throw new Error('warm-up record never reached the handler');
    }
    const sent = new Map<string, number>();
    const t0 = performance.now();
    for (let i = 0; i < c.writes && performance.now() - t0 < c.capMs; i++) {
      const key = `k${i}`;
      sent.set(key, wallNow());
      await ok(port, putReq('bench-esm-latency', key), agent);
      await sleep(c.spacingMs);
    }
    await waitFor(() => lines(latFile).filter(([k]) => sent.has(k)).length >= sent.size, 5_000);
    const samples: number[] = [];
    const seen = new Set<string>();
    for (const [k, t] of lines(latFile)) {
      const s = sent.get(k);
      if (s === undefined || seen.has(k)) continue;
      seen.add(k);
      samples.push(Number(t) - s);
    }
    r.lat = latency(samples);
    r.lost = sent.size - seen.size;
    if (r.lost) r.notes.push(`${r.lost} of ${sent.size} latency records did not reach the handler within 5 s`);
    ctx.log(
      `Eddy esm: write → handler p50 ${fmt(r.lat.p50, 2)} ms, p99 ${fmt(r.lat.p99, 2)} ms (n=${r.lat.n}, ${r.lost} missing)`,
    );

    // 2. Sustained records/s: BatchWriteItem (25 items) from `writers` concurrent writers, to a no-op handler.
    const cntFile = join(dir, 'count.txt');
    const tArn = await streamTable(port, 'bench-esm-tput');
    await createFunction(port, 'bench-counter', COUNTER, { OUT: cntFile });
    await mapping(port, tArn, 'bench-counter');
    await ok(port, putReq('bench-esm-tput', 'warm'), agent);
    const count = () => lines(cntFile).reduce((n, [k]) => n + Number(k), 0);
    if (!(await waitFor(() => count() >= 1, 15_000))) throw new Error('warm-up record never reached the handler');
    writeFileSync(cntFile, '');
    const calls = Math.ceil(c.records / 25);
    const start = wallNow();
    const w = await pump(calls, c.writers, c.capMs, async (i) => {
      const items = [];
      for (let k = 0; k < 25 && i * 25 + k < c.records; k++)
        items.push({
          PutRequest: { Item: { pk: { S: `r${i * 25 + k}` }, v: { N: String(k) }, s: { S: 'x'.repeat(64) } } },
        });
      const res = await post(
        port,
        jsonReq('DynamoDB_20120810.BatchWriteItem', 'dynamodb', { RequestItems: { 'bench-esm-tput': items } }),
        agent,
      );
      if (res.status !== 200) throw new Error(`BatchWriteItem → HTTP ${res.status}: ${res.body.slice(0, 200)}`);
      const left = JSON.parse(res.body).UnprocessedItems?.['bench-esm-tput']?.length ?? 0;
      if (left) throw new Error(`${left} unprocessed items`);
      return items.length;
    });
    const writeMs = wallNow() - start;
    if (w.errors) r.notes.push(`throughput writes: ${w.errors} errors; first: ${w.firstError}`);
    if (w.capped) r.notes.push(`throughput writes capped by time: ${fmt(w.units)} of ${fmt(c.records)} written`);
    await waitFor(() => count() >= w.units, Math.max(5_000, c.capMs - writeMs));
    const batches = lines(cntFile);
    const seenN = batches.reduce((n, [k]) => n + Number(k), 0);
    const last = batches.reduce((m, [, t]) => Math.max(m, Number(t)), start);
    r.tput = { records: w.units, seen: seenN, writeMs, totalMs: last - start, batches: batches.length };
    if (seenN < w.units) r.notes.push(`throughput: the handler saw ${fmt(seenN)} of ${fmt(w.units)} records`);
    ctx.log(
      `Eddy esm: ${fmt(seenN)} records in ${fmt(r.tput.totalMs)} ms (${fmt(seenN / (r.tput.totalMs / 1000))} records/s; writes took ${fmt(writeMs)} ms; ${batches.length} batches)`,
    );

    // 3. The same stream's backlog drained by a new mapping from TRIM_HORIZON: the mapping's own rate,
    // without the write rate as a bound. The handler is started first by a direct invoke.
    const drainFile = join(dir, 'drain.txt');
    await createFunction(port, 'bench-drain', COUNTER, { OUT: drainFile });
    await ok(port, restReq('/2015-03-31/functions/bench-drain/invocations', { Records: [] }), agent);
    const drained = () => lines(drainFile).reduce((n, [k]) => n + Number(k), 0);
    const want = seenN + 1;
    const d0 = wallNow();
    await mapping(port, tArn, 'bench-drain', 'TRIM_HORIZON');
    await waitFor(() => drained() >= want, c.capMs);
    const dl = lines(drainFile);
    const dSeen = drained();
    r.drain = { records: want, seen: dSeen, totalMs: dl.reduce((m, [, t]) => Math.max(m, Number(t)), d0) - d0 };
    if (dSeen < want) r.notes.push(`backlog drain: the handler saw ${fmt(dSeen)} of ${fmt(want)} records`);
    ctx.log(`Eddy esm: backlog of ${fmt(want)} drained in ${fmt(r.drain.totalMs)} ms`);
  } finally {
    agent.destroy();
  }
}

export const esmSuite: Suite = {
  id: 'esm',
  async run(ctx: SuiteContext): Promise<Section> {
    const c = ctx.quick ? QUICK : FULL;
    const specs = ctx.peers.filter((p) => p.id === 'eddy' || p.id === 'eddy-memory' || p.id === 'moto');
    const results: Result[] = specs.map((spec) => ({ spec, notes: [] }));
    for (const r of results) {
      if (r.spec.id === 'moto') {
        r.unavailable = "moto's Lambda (and so its mappings) runs handlers in Docker containers (not available here)";
        ctx.notePeer(r.spec, { status: `unavailable: ${r.unavailable}` });
        continue;
      }
      if (performance.now() > ctx.deadline) {
        r.unavailable = 'skipped: time budget';
        continue;
      }
      let peer: Peer | undefined;
      const dir = mkdtempSync(join(tmpdir(), 'eddy-bench-esm-'));
      try {
        peer = await startPeer(r.spec);
        ctx.notePeer(r.spec, { version: peer.version, status: 'ran' });
        await measure(peer, c, r, dir, ctx);
      } catch (e) {
        r.unavailable = e instanceof PeerStartError ? e.message : errorText(e);
        ctx.notePeer(r.spec, { status: `unavailable: ${r.unavailable}` });
        ctx.log(`${r.spec.name} esm: ${r.unavailable}`);
      } finally {
        await peer?.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const measured = results.filter((r) => r.lat && r.lat.n > 0);
    if (measured.length > 0)
      writeFileSync(
        CHART,
        cdfSvg(
          measured.map((r) => ({ name: r.spec.name, samples: r.lat!.samples })),
          {
            title: 'DynamoDB write → Lambda handler (stream event source mapping)',
            subtitle: `${new Date().toISOString().slice(0, 10)}, ${c.writes} single PutItem writes ~${c.spacingMs} ms apart, BatchSize 100, LATEST`,
            xLabel: 'latency (ms): PutItem sent → record in the handler',
          },
        ),
      );
    return section(results, c, measured.length > 0);
  },
};

function section(results: Result[], c: Counts, chart: boolean): Section {
  const perS = (r: Result) => (r.tput && r.tput.seen > 0 ? r.tput.seen / (r.tput.totalMs / 1000) : undefined);
  const rows: [string, (r: Result) => number | undefined, number][] = [
    ['Write → handler p50 (ms)', (r) => r.lat?.p50, 2],
    ['Write → handler p99 (ms)', (r) => r.lat?.p99, 2],
    ['Write → handler max (ms)', (r) => r.lat?.max, 2],
    ['Samples', (r) => r.lat?.n, 0],
  ];
  const tput: [string, (r: Result) => number | undefined, number][] = [
    ['Records written', (r) => r.tput?.records, 0],
    ['Records seen by the handler', (r) => r.tput?.seen, 0],
    ['Handler invocations (batches)', (r) => r.tput?.batches, 0],
    ['Writes done after (ms)', (r) => r.tput?.writeMs, 0],
    ['Last record in the handler after (ms)', (r) => r.tput?.totalMs, 0],
    ['Records/s through the mapping', perS, 0],
    ['Backlog drain: records', (r) => r.drain?.seen, 0],
    ['Backlog drain: CreateEventSourceMapping → last record (ms)', (r) => r.drain?.totalMs, 0],
    ['Backlog drain: records/s', (r) => (r.drain?.seen ? r.drain.seen / (r.drain.totalMs / 1000) : undefined), 0],
  ];
  const cols = ['', ...results.map((r) => r.spec.name)];
  const cells = (rs: typeof rows) =>
    rs.map(([label, get, digits]) => [
      label,
      ...results.map((r) => (r.unavailable ? 'unavailable' : fmt(get(r), digits))),
    ]);
  const tables: Table[] = [
    {
      title: 'Write → handler latency (lower is better)',
      note: `How to read: time from sending PutItem to the handler process holding the record (its \`performance.timeOrigin + performance.now()\`, appended to a file), through a NEW_AND_OLD_IMAGES stream and a mapping with BatchSize 100, StartingPosition LATEST, no batching window. ${c.writes} single writes ~${c.spacingMs} ms apart, after 3 warm-up writes that start the handler. For scale: LocalStack polls the stream every 1 s, so its write → handler latency is up to ~1,000 ms.`,
      columns: cols,
      rows: cells(rows),
    },
    {
      title: 'Sustained records/s through a mapping (higher is better)',
      note: `How to read: ${fmt(c.records)} items written with BatchWriteItem (25 per call) by ${c.writers} concurrent writers into a table whose stream feeds a no-op handler (BatchSize 100; it appends one line per batch). Records/s = records seen ÷ (first write sent → last batch in the handler); the write rate bounds it from above. Backlog drain: a second mapping (TRIM_HORIZON) on the same stream, to a warm no-op handler, created after the writes — the mapping's own rate, not bounded by the writers.`,
      columns: cols,
      rows: cells(tput),
    },
  ];
  const targets: Target[] = [];
  const eddy = results.find((r) => r.spec.id === 'eddy');
  if (eddy) {
    const p99 = eddy.lat?.p99;
    targets.push({
      name: 'Mappings: write → handler p99 (Eddy)',
      value: p99 !== undefined ? `${fmt(p99, 2)} ms` : 'not measured',
      target: '< 10 ms',
      pass: p99 !== undefined ? p99 < 10 && !eddy.lost : undefined,
    });
    const rate = perS(eddy);
    targets.push({
      name: 'Mappings: records/s to a no-op handler, BatchSize 100 (Eddy)',
      value: rate !== undefined ? `${fmt(rate)} records/s` : 'not measured',
      target: '≥ 20,000 records/s',
      pass: rate !== undefined ? rate >= 20_000 && eddy.tput!.seen >= eddy.tput!.records : undefined,
    });
  }
  return {
    title: 'Event source mappings (DynamoDB Streams → Lambda)',
    intro: chart
      ? 'Distribution of the write → handler latency below (CDF; the curve reaching 1.0 early is better):\n\n![write → handler latency CDF](bench/latency.svg)'
      : undefined,
    tables,
    targets,
    notes: results.flatMap((r) => [
      ...(r.unavailable ? [`${r.spec.name}: ${r.unavailable}`] : []),
      ...r.notes.map((n) => `${r.spec.name}: ${n}`),
    ]),
  };
}
