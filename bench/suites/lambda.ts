// Lambda (Eddy only — moto's Lambda runs handlers in Docker): cold start, warm RequestResponse latency and
// invokes/s over raw HTTP, and the resident memory of each warm execution environment (a child process).
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { writeZip } from '../../src/core/zip.ts';
import { type Peer, type PeerSpec, PeerStartError, startPeer } from '../peers.ts';
import { cmdline, descendants, memoryMb } from '../proc.ts';
import { fmt, type Section, type Table, type Target } from '../report.ts';
import type { Suite, SuiteContext } from '../suite.ts';
import { errorText, type Latency, latency, ok, post, pump, type Req, restReq, sleep } from '../wire.ts';

interface Counts {
  colds: number;
  warmup: number;
  sequential: number;
  parallel: number;
  capMs: number;
}
const FULL: Counts = { colds: 5, warmup: 200, sequential: 3_000, parallel: 4_000, capMs: 20_000 };
const QUICK: Counts = { colds: 3, warmup: 50, sequential: 300, parallel: 400, capMs: 8_000 };

export const ROLE = 'arn:aws:iam::000000000000:role/bench';
const NOOP = 'exports.handler = async () => ({ ok: true });';

/** CreateFunction of a zipped Node.js handler (`index.handler`). */
export async function createFunction(
  port: number,
  name: string,
  source: string,
  env: Record<string, string> = {},
): Promise<void> {
  await ok(
    port,
    restReq('/2015-03-31/functions', {
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Timeout: 30,
      MemorySize: 128,
      Environment: { Variables: env },
      Code: { ZipFile: writeZip([{ name: 'index.js', data: source }]).toString('base64') },
    }),
  );
}

export function invokeReq(name: string, payload: unknown = {}): Req {
  return restReq(`/2015-03-31/functions/${name}/invocations`, payload);
}

/** Invoke until it is accepted (a function may be Pending for a moment after CreateFunction). */
export async function invokeOk(port: number, name: string, agent: http.Agent | false = false): Promise<void> {
  const until = performance.now() + 15_000;
  for (;;) {
    const res = await post(port, invokeReq(name), agent);
    if (res.status === 200 && !res.body.includes('errorMessage')) return;
    if (performance.now() > until || res.status !== 409)
      throw new Error(`Invoke ${name} → HTTP ${res.status}: ${res.body.slice(0, 300)}`);
    await sleep(5);
  }
}

interface Result {
  spec: PeerSpec;
  unavailable?: string;
  cold: { create: number; first: number; total: number }[];
  warm?: Latency;
  seqPerS?: number;
  parPerS?: number;
  envRss: number[];
  notes: string[];
}

async function measure(peer: Peer, c: Counts, r: Result, ctx: SuiteContext): Promise<void> {
  const port = peer.port;
  // Cold starts: a new function each time (CreateFunction + first Invoke), deleted afterwards.
  for (let i = 0; i < c.colds; i++) {
    const name = `bench-cold-${i}`;
    const t0 = performance.now();
    await createFunction(port, name, NOOP);
    const t1 = performance.now();
    await invokeOk(port, name);
    const t2 = performance.now();
    r.cold.push({ create: t1 - t0, first: t2 - t1, total: t2 - t0 });
    await post(port, restReq(`/2015-03-31/functions/${name}`, undefined), false, 10_000, 'DELETE');
  }
  await sleep(200);
  // Warm latency, one at a time over one keep-alive connection.
  await createFunction(port, 'bench-noop', NOOP);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    await invokeOk(port, 'bench-noop', agent);
    const req = invokeReq('bench-noop');
    for (let i = 0; i < c.warmup; i++) await invokeOk(port, 'bench-noop', agent);
    const samples: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < c.sequential && performance.now() - t0 < c.capMs; i++) {
      const t = performance.now();
      const res = await post(port, req, agent);
      if (res.status !== 200) throw new Error(`Invoke → HTTP ${res.status}: ${res.body.slice(0, 200)}`);
      samples.push(performance.now() - t);
    }
    const wall = performance.now() - t0;
    r.warm = latency(samples);
    r.seqPerS = samples.length / (wall / 1000);
    // 4 in flight: the pool starts up to 4 environments for the function.
    const par = await pump(c.parallel, 4, c.capMs, async () => {
      const res = await post(port, req, agent);
      if (res.status !== 200) throw new Error(`Invoke → HTTP ${res.status}: ${res.body.slice(0, 200)}`);
      return 1;
    });
    if (par.errors) r.notes.push(`4 in flight: ${par.errors} errors; first: ${par.firstError}`);
    // Second pass, every environment now warm.
    const par2 = await pump(c.parallel, 4, c.capMs, async () => {
      const res = await post(port, req, agent);
      if (res.status !== 200) throw new Error(`Invoke → HTTP ${res.status}: ${res.body.slice(0, 200)}`);
      return 1;
    });
    if (par2.errors) r.notes.push(`4 in flight: ${par2.errors} errors; first: ${par2.firstError}`);
    r.parPerS = par2.units / (par2.wallMs / 1000);
  } finally {
    agent.destroy();
  }
  // RSS of each warm environment: the child processes of the Eddy server.
  for (const pid of descendants(peer.pid)) {
    if (!cmdline(pid)) continue;
    try {
      r.envRss.push(memoryMb(pid).rssMb);
    } catch {}
  }
  ctx.log(
    `Eddy lambda: cold ${r.cold.map((x) => x.total.toFixed(0)).join(', ')} ms; warm p50 ${fmt(r.warm?.p50, 2)} ms p99 ${fmt(r.warm?.p99, 2)} ms; ${fmt(r.seqPerS)} /s sequential, ${fmt(r.parPerS)} /s 4 in flight; ${r.envRss.length} environments, RSS ${r.envRss.map((m) => m.toFixed(1)).join(', ')} MB`,
  );
}

export const lambdaSuite: Suite = {
  id: 'lambda',
  async run(ctx: SuiteContext): Promise<Section> {
    const c = ctx.quick ? QUICK : FULL;
    const specs = ctx.peers.filter((p) => p.id === 'eddy' || p.id === 'eddy-memory' || p.id === 'moto');
    const results: Result[] = specs.map((spec) => ({ spec, cold: [], envRss: [], notes: [] }));
    for (const r of results) {
      if (r.spec.id === 'moto') {
        r.unavailable = "moto's Lambda runs handlers in Docker containers (not available here)";
        ctx.notePeer(r.spec, { status: `unavailable: ${r.unavailable}` });
        continue;
      }
      if (performance.now() > ctx.deadline) {
        r.unavailable = 'skipped: time budget';
        continue;
      }
      let peer: Peer | undefined;
      try {
        peer = await startPeer(r.spec);
        ctx.notePeer(r.spec, { version: peer.version, status: 'ran' });
        await measure(peer, c, r, ctx);
      } catch (e) {
        r.unavailable = e instanceof PeerStartError ? e.message : errorText(e);
        ctx.notePeer(r.spec, { status: `unavailable: ${r.unavailable}` });
        ctx.log(`${r.spec.name} lambda: ${r.unavailable}`);
      } finally {
        await peer?.stop();
      }
    }
    return section(results, c);
  },
};

const median = (xs: number[]) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] : undefined;

function section(results: Result[], c: Counts): Section {
  const rows: [string, (r: Result) => number | undefined, number][] = [
    ['Cold start: CreateFunction + first Invoke, median (ms)', (r) => median(r.cold.map((x) => x.total)), 0],
    ['— CreateFunction (ms)', (r) => median(r.cold.map((x) => x.create)), 1],
    ['— first Invoke, process start included (ms)', (r) => median(r.cold.map((x) => x.first)), 1],
    ['Warm Invoke p50 (ms)', (r) => r.warm?.p50, 2],
    ['Warm Invoke p99 (ms)', (r) => r.warm?.p99, 2],
    ['Invokes/s, sequential', (r) => r.seqPerS, 0],
    ['Invokes/s, 4 in flight', (r) => r.parPerS, 0],
    ['Warm environments (processes)', (r) => (r.envRss.length ? r.envRss.length : undefined), 0],
    ['RSS per warm environment, median (MB)', (r) => median(r.envRss), 1],
  ];
  const table: Table = {
    title: 'Lambda invoke (Node.js 20 no-op handler, 128 MB)',
    note: `How to read: cold start is the median of ${c.colds} new functions (zipped \`index.js\`, CreateFunction then the first RequestResponse Invoke, which starts the handler process). Warm latency: ${fmt(c.sequential)} RequestResponse invokes one after another over a keep-alive connection (raw HTTP \`POST /2015-03-31/functions/<name>/invocations\`) after ${c.warmup} warm-up invokes; 4 in flight: ${fmt(c.parallel)} invokes measured after a first pass that warms the 4 environments. RSS: VmRSS of the Eddy server's child processes (one per environment) afterwards.`,
    columns: ['', ...results.map((r) => r.spec.name)],
    rows: rows.map(([label, get, digits]) => [
      label,
      ...results.map((r) => (r.unavailable ? 'unavailable' : fmt(get(r), digits))),
    ]),
  };
  const targets: Target[] = [];
  const eddy = results.find((r) => r.spec.id === 'eddy');
  if (eddy) {
    const p50 = eddy.warm?.p50;
    targets.push({
      name: 'Lambda: warm RequestResponse Invoke p50 (Eddy)',
      value: p50 !== undefined ? `${fmt(p50, 2)} ms` : 'not measured',
      target: '< 2 ms',
      pass: p50 !== undefined ? p50 < 2 : undefined,
    });
  }
  return {
    title: 'Lambda',
    tables: [table],
    targets,
    notes: results.flatMap((r) => [
      ...(r.unavailable ? [`${r.spec.name}: ${r.unavailable}`] : []),
      ...r.notes.map((n) => `${r.spec.name}: ${n}`),
    ]),
  };
}
