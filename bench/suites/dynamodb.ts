// DynamoDB: startup, memory, server CPU per operation, raw-HTTP throughput and SDK latency, side by side.
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { callOk, type DriveResult, drive, dynamoRequest, type RawRequest } from '../http.ts';
import { type Peer, type PeerId, type PeerSpec, PeerStartError, startPeer } from '../peers.ts';
import { cpuMicros, memoryMb } from '../proc.ts';
import { fmt, ratio, type Section, type Table, type Target } from '../report.ts';
import type { Suite, SuiteContext } from '../suite.ts';

export const TABLE = 'bench';
export const QUERY_PARTITIONS = 100;
export const QUERY_ITEMS = 10;

type RawOp = 'PutItem' | 'GetItem' | 'Query';
type SdkOp = 'PutItem' | 'GetItem';

interface Counts {
  startups: number;
  idleSettleMs: number;
  raw: Record<RawOp, number>;
  warmup: number;
  sdk: number;
  sdkWarmup: number;
  phaseCapMs: number;
  /** Warm-up requests stop at this wall time (slow peers warm up on fewer). */
  warmupCapMs: number;
  /** Each raw phase is split in this many rounds visiting the peers in turn. */
  rounds: number;
}

const FULL: Counts = {
  startups: 5,
  idleSettleMs: 1000,
  raw: { PutItem: 20_000, GetItem: 20_000, Query: 5_000 },
  warmup: 1_000,
  sdk: 2_000,
  sdkWarmup: 200,
  phaseCapMs: 25_000,
  warmupCapMs: 5_000,
  rounds: 4,
};

const QUICK: Counts = {
  startups: 1,
  idleSettleMs: 300,
  raw: { PutItem: 2_000, GetItem: 2_000, Query: 500 },
  warmup: 200,
  sdk: 300,
  sdkWarmup: 50,
  phaseCapMs: 5_000,
  warmupCapMs: 2_000,
  rounds: 2,
};

interface Result {
  spec: PeerSpec;
  unavailable?: string;
  startupMs: number[];
  startupCpuMs: number[];
  idleRssMb?: number;
  loadedRssMb?: number;
  peakRssMb?: number;
  /** Server CPU, µs per operation. */
  cpu: Partial<Record<RawOp, number>>;
  /** ops/s with 16 in flight. */
  tput: Partial<Record<RawOp, number>>;
  sdk: Partial<Record<SdkOp, { p50: number; p99: number; n: number }>>;
  notes: string[];
  /** Set when the data plane cannot be measured (setup failed). */
  broken?: string;
}

// ---- request sets (built once, identical for every peer) ----

const PAYLOAD = 'x'.repeat(100);

function item(pk: string, sk: string, i: number) {
  return {
    pk: { S: pk },
    sk: { S: sk },
    name: { S: `name ${i}` },
    count: { N: String(i) },
    active: { BOOL: i % 2 === 0 },
    tags: { SS: ['alpha', 'beta', `t${i % 7}`] },
    payload: { S: PAYLOAD },
  };
}

const putKey = (i: number) => ({ pk: `user#${i % 1000}`, sk: `item#${String(i).padStart(8, '0')}` });

export function putRequests(n: number, prefix = ''): RawRequest[] {
  return Array.from({ length: n }, (_, i) => {
    const k = putKey(i);
    return dynamoRequest('PutItem', { TableName: TABLE, Item: item(prefix + k.pk, k.sk, i) });
  });
}

export function getRequests(written: number, n: number): RawRequest[] {
  return Array.from({ length: Math.min(n, Math.max(written, 1)) }, (_, i) => {
    const k = putKey(i);
    return dynamoRequest('GetItem', { TableName: TABLE, Key: { pk: { S: k.pk }, sk: { S: k.sk } } });
  });
}

export function querySeed(): RawRequest[] {
  const out: RawRequest[] = [];
  for (let p = 0; p < QUERY_PARTITIONS; p++)
    for (let j = 0; j < QUERY_ITEMS; j++)
      out.push(
        dynamoRequest('PutItem', { TableName: TABLE, Item: item(`q#${p}`, `s#${String(j).padStart(4, '0')}`, j) }),
      );
  return out;
}

export const queryRequests = (): RawRequest[] =>
  Array.from({ length: QUERY_PARTITIONS }, (_, p) =>
    dynamoRequest('Query', {
      TableName: TABLE,
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': { S: `q#${p}` } },
    }),
  );

// ---- phases ----

export async function createTable(port: number): Promise<void> {
  await callOk(port, 'CreateTable', {
    TableName: TABLE,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  });
  const until = performance.now() + 10_000;
  while (performance.now() < until) {
    const d = await callOk(port, 'DescribeTable', { TableName: TABLE });
    if (d.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('table not ACTIVE after 10 s');
}

function describeProblem(op: string, r: DriveResult): string | undefined {
  if (r.errors > 0) return `${op}: ${r.errors} failed request(s) of ${r.ok + r.errors}; first: ${r.firstError}`;
  return undefined;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))];
}

async function sdkLatency(peer: Peer, op: SdkOp, c: Counts, capMs: number) {
  const client = new DynamoDBClient({
    endpoint: peer.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' },
    maxAttempts: 1,
  });
  try {
    const cmd = (i: number) => {
      const k = putKey(i);
      return op === 'PutItem'
        ? new PutItemCommand({ TableName: TABLE, Item: item(`sdk#${k.pk}`, k.sk, i) })
        : new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `sdk#${k.pk}` }, sk: { S: k.sk } } });
    };
    const deadline = performance.now() + capMs;
    for (let i = 0; i < c.sdkWarmup && performance.now() < deadline; i++) await client.send(cmd(i) as any);
    const samples: number[] = [];
    for (let i = 0; i < c.sdk && performance.now() < deadline; i++) {
      const t = performance.now();
      const out: any = await client.send(cmd(c.sdkWarmup + i) as any);
      samples.push(performance.now() - t);
      if (op === 'GetItem' && i === 0 && !out.Item) throw new Error('GetItem returned no Item');
    }
    samples.sort((a, b) => a - b);
    return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), n: samples.length };
  } finally {
    client.destroy();
  }
}

// ---- the suite ----

export const dynamodbSuite: Suite = {
  id: 'dynamodb',
  async run(ctx: SuiteContext): Promise<Section> {
    const c = ctx.quick ? QUICK : FULL;
    const specs = ctx.peers;
    const results: Result[] = specs.map((spec) => ({
      spec,
      startupMs: [],
      startupCpuMs: [],
      cpu: {},
      tput: {},
      sdk: {},
      notes: [],
    }));
    const running = new Map<PeerId, Peer>();
    const timeLeft = () => ctx.deadline - performance.now();
    const capFor = () => Math.max(0, Math.min(c.phaseCapMs, timeLeft()));
    const skipped: string[] = [];

    try {
      // 1. Startup (each peer alone, repeated), keeping the last instance running; then idle RSS.
      for (const r of results) {
        for (let k = 0; k < c.startups; k++) {
          try {
            const peer = await startPeer(r.spec);
            r.startupMs.push(peer.startupMs);
            r.startupCpuMs.push(peer.startupCpuMs);
            if (k < c.startups - 1) await peer.stop();
            else running.set(r.spec.id, peer);
          } catch (e) {
            r.unavailable = e instanceof PeerStartError ? e.message : String(e);
            break;
          }
        }
        const peer = running.get(r.spec.id);
        ctx.notePeer(r.spec, {
          version: peer?.version,
          status: r.unavailable ? `unavailable: ${r.unavailable}` : 'ran',
        });
        ctx.log(
          `${r.spec.name}: ${r.unavailable ? `unavailable (${r.unavailable})` : `startup ${r.startupMs.map((m) => m.toFixed(0)).join(', ')} ms`}`,
        );
        if (peer) {
          await new Promise((res) => setTimeout(res, c.idleSettleMs));
          r.idleRssMb = memoryMb(peer.pid).rssMb;
        }
      }
      const live = results.filter((r) => running.has(r.spec.id));

      // 2. Table.
      for (const r of live) {
        try {
          await createTable(running.get(r.spec.id)!.port);
        } catch (e) {
          r.broken = `CreateTable failed: ${e instanceof Error ? e.message : String(e)}`;
          r.notes.push(r.broken);
          ctx.log(`${r.spec.name}: ${r.broken}`);
        }
      }
      const usable = () => live.filter((r) => !r.broken);

      // 3. Raw HTTP phases, one operation at a time. Each phase is split in rounds that visit the peers in turn
      // (one at a time, the others idle), so a change in background load affects every peer alike.
      const puts = putRequests(c.raw.PutItem);
      const warmPuts = putRequests(c.warmup, 'warm#');
      const written = new Map<PeerId, number>();
      for (const op of ['PutItem', 'GetItem', 'Query'] as RawOp[]) {
        const prepared: {
          r: Result;
          peer: Peer;
          reqs: RawRequest[];
          ok: number;
          errors: number;
          cpu: number;
          wall: number;
          capped: boolean;
          firstError?: string;
        }[] = [];
        for (const r of usable()) {
          if (timeLeft() < 5_000) {
            skipped.push(`${r.spec.name} ${op}`);
            continue;
          }
          const peer = running.get(r.spec.id)!;
          let reqs: RawRequest[];
          let warm: RawRequest[];
          if (op === 'PutItem') {
            reqs = puts;
            warm = warmPuts;
          } else if (op === 'GetItem') {
            reqs = getRequests(written.get(r.spec.id) ?? 0, c.raw.GetItem);
            warm = reqs;
          } else {
            const seed = await drive(peer.port, querySeed(), {
              count: QUERY_PARTITIONS * QUERY_ITEMS,
              concurrency: 16,
              capMs: capFor(),
            });
            const problem = describeProblem('Query seed (PutItem)', seed);
            if (problem || seed.capped) {
              r.notes.push(problem ?? 'Query seed capped by time');
              continue;
            }
            reqs = queryRequests();
            warm = reqs;
          }
          const w = await drive(peer.port, warm, {
            count: c.warmup,
            concurrency: 16,
            capMs: Math.min(c.warmupCapMs, capFor()),
          });
          const wp = describeProblem(op, w);
          if (wp) {
            r.notes.push(wp);
            ctx.log(`${r.spec.name} ${op}: ${wp}`);
            continue;
          }
          prepared.push({ r, peer, reqs, ok: 0, errors: 0, cpu: 0, wall: 0, capped: false });
        }
        const perRound = Math.ceil(c.raw[op] / c.rounds);
        for (let round = 0; round < c.rounds; round++) {
          for (const p of prepared) {
            if (p.errors > 0 || timeLeft() < 5_000) continue;
            const count = Math.min(perRound, c.raw[op] - round * perRound);
            const cpu0 = cpuMicros(p.peer.pid);
            const m = await drive(p.peer.port, p.reqs, {
              count,
              concurrency: 16,
              capMs: capFor() / c.rounds,
              offset: round * perRound,
            });
            p.cpu += cpuMicros(p.peer.pid) - cpu0;
            p.ok += m.ok;
            p.errors += m.errors;
            p.wall += m.wallMs;
            p.capped ||= m.capped;
            p.firstError ??= m.firstError;
          }
        }
        for (const p of prepared) {
          const { r } = p;
          if (op === 'PutItem') written.set(r.spec.id, p.ok);
          if (p.errors > 0)
            r.notes.push(`${op}: ${p.errors} failed request(s) of ${p.ok + p.errors}; first: ${p.firstError}`);
          if (p.capped)
            r.notes.push(`${op}: wall-time cap reached; measured on ${fmt(p.ok)} of ${fmt(c.raw[op])} requests`);
          if (p.ok > 0) {
            r.cpu[op] = p.cpu / p.ok;
            r.tput[op] = p.ok / (p.wall / 1000);
          }
          ctx.log(
            `${r.spec.name} ${op}: ${fmt(r.tput[op])} ops/s, ${fmt(r.cpu[op], 1)} µs CPU/op (${fmt(p.ok)} ok, ${p.errors} errors)`,
          );
        }
      }

      // 4. SDK latency, sequential.
      for (const op of ['PutItem', 'GetItem'] as SdkOp[]) {
        for (const r of usable()) {
          if (timeLeft() < 5_000) {
            skipped.push(`${r.spec.name} SDK ${op}`);
            continue;
          }
          try {
            r.sdk[op] = await sdkLatency(running.get(r.spec.id)!, op, c, capFor());
            const s = r.sdk[op]!;
            ctx.log(`${r.spec.name} SDK ${op}: p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms (n=${s.n})`);
          } catch (e) {
            r.notes.push(`SDK ${op}: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
      }

      // 5. Memory after load.
      for (const r of live) {
        const m = memoryMb(running.get(r.spec.id)!.pid);
        r.loadedRssMb = m.rssMb;
        r.peakRssMb = m.peakMb;
      }
    } finally {
      for (const peer of running.values()) await peer.stop();
    }

    return buildSection(results, c, ctx.quick, skipped);
  },
};

// ---- report ----

const median = (xs: number[]) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] : undefined;

function buildSection(results: Result[], c: Counts, quick: boolean, skipped: string[]): Section {
  const eddy = results.find((r) => r.spec.id === 'eddy');
  const others = results.filter((r) => r.spec.id !== 'eddy');
  const cell = (r: Result, v: number | undefined, digits: number) => (r.unavailable ? 'unavailable' : fmt(v, digits));
  const metricTable = (
    title: string,
    note: string,
    rows: { label: string; get: (r: Result) => number | undefined; digits: number }[],
  ): Table => ({
    title,
    note,
    columns: ['', ...results.map((r) => r.spec.name), ...(eddy ? others.map((o) => `Eddy/${o.spec.name}`) : [])],
    rows: rows.map((row) => [
      row.label,
      ...results.map((r) => cell(r, row.get(r), row.digits)),
      ...(eddy ? others.map((o) => ratio(row.get(eddy), row.get(o))) : []),
    ]),
  });

  const tables: Table[] = [
    metricTable(
      'Startup and memory',
      `Startup: spawn → first successful ListTables (median of ${c.startups}); startup CPU: utime+stime of the serving process at that moment (less sensitive to a busy machine). RSS: VmRSS of the serving process, idle ${c.idleSettleMs} ms after startup and after all load phases; peak is VmHWM.`,
      [
        { label: 'Startup, median (ms)', get: (r) => median(r.startupMs), digits: 0 },
        {
          label: 'Startup, best (ms)',
          get: (r) => (r.startupMs.length ? Math.min(...r.startupMs) : undefined),
          digits: 0,
        },
        { label: 'Startup CPU, median (ms)', get: (r) => median(r.startupCpuMs), digits: 0 },
        { label: 'Idle RSS (MB)', get: (r) => r.idleRssMb, digits: 1 },
        { label: 'RSS after load (MB)', get: (r) => r.loadedRssMb, digits: 1 },
        { label: 'Peak RSS (MB)', get: (r) => r.peakRssMb, digits: 1 },
      ],
    ),
    metricTable(
      'Server CPU per operation (µs/op, lower is better)',
      `utime+stime of the serving process (all threads) from /proc/<pid>/stat around ${fmt(c.raw.PutItem)} PutItem, ${fmt(c.raw.GetItem)} GetItem and ${fmt(c.raw.Query)} Query requests (16 in flight, in ${c.rounds} rounds visiting the peers in turn, after up to ${fmt(c.warmup)} warm-up requests or ${c.warmupCapMs / 1000} s), divided by the successful count. Query returns a ${QUERY_ITEMS}-item partition.`,
      [
        { label: 'PutItem', get: (r) => r.cpu.PutItem, digits: 1 },
        { label: 'GetItem', get: (r) => r.cpu.GetItem, digits: 1 },
        { label: `Query (${QUERY_ITEMS} items)`, get: (r) => r.cpu.Query, digits: 1 },
      ],
    ),
    metricTable(
      'Raw-HTTP throughput, 16 in flight (ops/s, higher is better)',
      'Pre-built awsJson1_0 requests with a fixed Authorization header, node:http keep-alive Agent (maxSockets 16), driven from the harness process on the same machine (the client shares the cores with the server).',
      [
        { label: 'PutItem', get: (r) => r.tput.PutItem, digits: 0 },
        { label: 'GetItem', get: (r) => r.tput.GetItem, digits: 0 },
        { label: `Query (${QUERY_ITEMS} items)`, get: (r) => r.tput.Query, digits: 0 },
      ],
    ),
    metricTable(
      'SDK latency, sequential (ms, lower is better)',
      `\`@aws-sdk/client-dynamodb\` v3, one call at a time, ${fmt(c.sdk)} calls after ${fmt(c.sdkWarmup)} warm-up calls. Includes the SDK's own client CPU (about 1 ms per call here).`,
      [
        { label: 'PutItem p50', get: (r) => r.sdk.PutItem?.p50, digits: 2 },
        { label: 'PutItem p99', get: (r) => r.sdk.PutItem?.p99, digits: 2 },
        { label: 'GetItem p50', get: (r) => r.sdk.GetItem?.p50, digits: 2 },
        { label: 'GetItem p99', get: (r) => r.sdk.GetItem?.p99, digits: 2 },
      ],
    ),
  ];

  const targets: Target[] = [];
  if (eddy) {
    for (const [id, factor, label] of [
      ['dynalite', 0.5, '½'],
      ['moto', 0.1, '1/10'],
    ] as const) {
      const peer = results.find((r) => r.spec.id === id);
      if (!peer) continue;
      for (const op of ['PutItem', 'GetItem', 'Query'] as RawOp[]) {
        const e = eddy.cpu[op];
        const p = peer.cpu[op];
        targets.push({
          name: `Server CPU/op ${op}: Eddy ≤ ${label} of ${peer.spec.name}`,
          value:
            e !== undefined && p !== undefined ? `${fmt(e, 1)} vs ${fmt(p, 1)} µs (${ratio(e, p)})` : 'not measured',
          target: `≤ ${factor.toFixed(2)}×`,
          pass: e !== undefined && p !== undefined ? e <= factor * p : undefined,
        });
      }
    }
    const s = median(eddy.startupMs);
    targets.push({
      name: 'Eddy startup',
      value: s !== undefined ? `${fmt(s)} ms` : 'not measured',
      target: '< 150 ms',
      pass: s !== undefined ? s < 150 : undefined,
    });
    targets.push({
      name: 'Eddy idle RSS',
      value: eddy.idleRssMb !== undefined ? `${fmt(eddy.idleRssMb, 1)} MB` : 'not measured',
      target: '< 80 MB',
      pass: eddy.idleRssMb !== undefined ? eddy.idleRssMb < 80 : undefined,
    });
  }

  const notes: string[] = [];
  for (const r of results) {
    if (r.unavailable) notes.push(`${r.spec.name} unavailable: ${r.unavailable}`);
    for (const n of r.notes) notes.push(`${r.spec.name}: ${n}`);
  }
  if (skipped.length > 0) notes.push(`Skipped for the time budget: ${skipped.join(', ')}`);
  if (quick)
    notes.push('Quick mode: counts are 10× smaller; CPU/op has ~10 ms /proc resolution, so small totals are coarse.');

  return {
    title: 'DynamoDB',
    intro:
      'Table `bench` (pk S HASH, sk S RANGE, on-demand). Items of ~250 bytes (7 attributes incl. a string set). ' +
      'Each phase runs against one peer at a time while the others sit idle. The table holds the PutItem ' +
      "phase's items (fewer for a peer whose phase hit the time cap) plus 1,000 items in 100 partitions for Query, " +
      'so a Query that scans the table instead of one partition pays for every item (moto does).',
    tables,
    targets,
    notes,
  };
}
