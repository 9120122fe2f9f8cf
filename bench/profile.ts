// Profile Eddy's server under one DynamoDB operation and print where its CPU goes.
//
//   npm run build && node --import tsx bench/profile.ts [--op PutItem|GetItem|Query] [--count N] [--memory] [--top N]
//
// Starts the built CLI with --cpu-prof (durable --data-dir unless --memory), drives N raw requests with 16 in
// flight, stops it, and aggregates only the samples taken during the measured phase.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { drive, type RawRequest } from './http.ts';
import { EDDY, type PeerSpec, startPeer } from './peers.ts';
import { cpuMicros } from './proc.ts';
import {
  createTable,
  getRequests,
  putRequests,
  QUERY_ITEMS,
  QUERY_PARTITIONS,
  queryRequests,
  querySeed,
} from './suites/dynamodb.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values } = parseArgs({
  options: {
    op: { type: 'string', default: 'PutItem' },
    count: { type: 'string', default: '20000' },
    memory: { type: 'boolean', default: false },
    top: { type: 'string', default: '40' },
  },
});
const op = values.op!;
const count = Number(values.count);
const top = Number(values.top);
const profDir = mkdtempSync(join(tmpdir(), 'eddy-prof-'));

const spec: PeerSpec = {
  ...EDDY,
  command: (port, dataDir) => {
    const base = EDDY.command(port, dataDir);
    const args = ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '250', ...base.args];
    if (values.memory) args.splice(args.indexOf('--data-dir'), 2, '--memory');
    return { cmd: base.cmd, args };
  },
};

const peer = await startPeer(spec);
let window: [number, number];
let cpuPerOp: number;
try {
  await createTable(peer.port);
  let reqs: RawRequest[];
  if (op === 'PutItem') reqs = putRequests(count);
  else if (op === 'GetItem') {
    await drive(peer.port, putRequests(5000), { count: 5000, concurrency: 16, capMs: 60_000 });
    reqs = getRequests(5000, 5000);
  } else if (op === 'Query') {
    await drive(peer.port, querySeed(), { count: QUERY_PARTITIONS * QUERY_ITEMS, concurrency: 16, capMs: 60_000 });
    reqs = queryRequests();
  } else throw new Error(`--op must be PutItem, GetItem or Query, got ${op}`);
  // Warm up (JIT), then measure.
  await drive(peer.port, op === 'PutItem' ? putRequests(1000, 'warm#') : reqs, {
    count: 1000,
    concurrency: 16,
    capMs: 30_000,
  });
  const cpu0 = cpuMicros(peer.pid);
  const t0 = Number(process.hrtime.bigint() / 1000n);
  const r = await drive(peer.port, reqs, { count, concurrency: 16, capMs: 120_000 });
  const t1 = Number(process.hrtime.bigint() / 1000n);
  cpuPerOp = (cpuMicros(peer.pid) - cpu0) / r.ok;
  window = [t0, t1];
  process.stdout.write(
    `${op}: ${r.ok} ok, ${r.errors} errors${r.firstError ? ` (${r.firstError})` : ''}, ${((r.ok / r.wallMs) * 1000).toFixed(0)} ops/s, ${cpuPerOp.toFixed(1)} µs server CPU/op (with profiler on)\n`,
  );
} finally {
  await peer.stop();
}

const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${profDir}`);
const prof: CpuProfile = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Sample time per node, only inside the measured window (V8 and process.hrtime share the monotonic clock).
const time = new Map<number, number>();
let t = prof.startTime;
let total = 0;
for (let i = 0; i < prof.samples.length; i++) {
  t += prof.timeDeltas[i];
  if (t < window[0] || t > window[1]) continue;
  const dt = prof.timeDeltas[i + 1] ?? 0;
  time.set(prof.samples[i], (time.get(prof.samples[i]) ?? 0) + dt);
  total += dt;
}

const label = (n: ProfileNode) => {
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '~/');
  const short = url.replace(/^.*\/(dist|src)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'}${short ? ` ${short}:${n.callFrame.lineNumber + 1}` : ''}`;
};
const area = (n: ProfileNode) => {
  const u = n.callFrame.url;
  if (!u) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  if (u.startsWith('node:')) return `node:${u.slice(5).split('/')[0]}`;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (m) return m[1];
  return u.replace(/^.*\/(dist|src)\//, '$1/');
};

const self = new Map<string, number>();
const areas = new Map<string, number>();
const incl = new Map<string, number>();
for (const [id, dt] of time) {
  const n = byId.get(id)!;
  self.set(label(n), (self.get(label(n)) ?? 0) + dt);
  areas.set(area(n), (areas.get(area(n)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    incl.set(l, (incl.get(l) ?? 0) + dt);
  }
}
const idle = self.get('(idle)') ?? 0;
const busy = total - idle;
const print = (title: string, m: Map<string, number>, n: number) => {
  process.stdout.write(`\n${title} (% of busy time ${(busy / 1000).toFixed(0)} ms)\n`);
  for (const [k, v] of [...m]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, n))
    process.stdout.write(`${((v / busy) * 100).toFixed(1).padStart(6)}%  ${k}\n`);
};
print('Self time by area', areas, 20);
print('Self time by function', self, top);
print('Inclusive time by function', incl, top);
process.stdout.write(`\nprofile: ${join(profDir, file)}\n`);
process.exit(0);
