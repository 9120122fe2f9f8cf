// `npm run bench`: start Eddy and its peers side by side, run every suite, print and write BENCHMARKS.md.
//
//   node --import tsx bench/run.ts [--quick] [--peers eddy,dynalite,moto,eddy-memory] [--suites dynamodb] [--out FILE]
//
// Each area adds a suite in bench/suites/*.ts and registers it in SUITES below.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ALL_PEERS, KNOWN_PEERS, PEER_ENV_NOTE, type PeerSpec, ROOT } from './peers.ts';
import { printSection, type ReportMeta, renderMarkdown, type Section } from './report.ts';
import type { Suite } from './suite.ts';
import { dynamodbSuite } from './suites/dynamodb.ts';
import { esmSuite } from './suites/esm.ts';
import { lambdaSuite } from './suites/lambda.ts';
import { messagingSuite } from './suites/messaging.ts';
import { s3Suite } from './suites/s3.ts';
import { streamsSuite } from './suites/streams.ts';

const SUITES: Suite[] = [dynamodbSuite, s3Suite, streamsSuite, lambdaSuite, esmSuite, messagingSuite];

/** Whole run ≤ 10 minutes: suites stop starting phases after this. */
const BUDGET_MS = 9 * 60_000;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      peers: { type: 'string' },
      suites: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const wantedPeers = values.peers?.split(',').map((s) => s.trim());
  const unknown = wantedPeers?.filter((id) => !KNOWN_PEERS.some((p) => p.id === id)) ?? [];
  if (unknown.length > 0)
    throw new Error(`unknown peer(s) ${unknown.join(', ')}; known: ${KNOWN_PEERS.map((p) => p.id).join(', ')}`);
  const peers = wantedPeers ? KNOWN_PEERS.filter((p) => wantedPeers.includes(p.id)) : ALL_PEERS;
  const wantedSuites = values.suites?.split(',').map((s) => s.trim());
  const suites = SUITES.filter((s) => !wantedSuites || wantedSuites.includes(s.id));
  const out = values.out ?? join(ROOT, 'BENCHMARKS.md');

  const started = performance.now();
  const loadAtStart = loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  const date = new Date();
  const peerInfo = new Map<string, { spec: PeerSpec; version: string; status: string }>();
  const log = (m: string) =>
    process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${m}\n`);
  const sections: Section[] = [];
  for (const suite of suites) {
    log(`suite ${suite.id}${quick ? ' (quick)' : ''}`);
    const section = await suite.run({
      quick,
      peers,
      deadline: started + BUDGET_MS,
      log,
      notePeer: (spec, info) => {
        // One status per suite that ran the peer (e.g. "ran (dynamodb); unavailable: … (s3)").
        const prev = peerInfo.get(spec.id);
        const status = `${info.status} (${suite.id})`;
        peerInfo.set(spec.id, {
          spec,
          version: info.version ?? prev?.version ?? '?',
          status: prev && prev.status !== status ? `${prev.status}; ${status}` : status,
        });
      },
    });
    printSection(section);
    sections.push(section);
  }
  const meta: ReportMeta = {
    date,
    command: 'npm run bench',
    quick,
    durationS: (performance.now() - started) / 1000,
    notes: [
      `Load average (1/5/15 min) when the run started: ${loadAtStart} — the machine may be shared; figures from one run.`,
      ...(process.env.NODE_EXTRA_CA_CERTS ? [PEER_ENV_NOTE] : []),
    ],
    peers: peers.map((p) => {
      const info = peerInfo.get(p.id);
      return { name: p.name, version: info?.version ?? '?', mode: p.mode, status: info?.status ?? 'not run' };
    }),
  };
  writeFileSync(out, renderMarkdown(sections, meta));
  log(`wrote ${out} in ${meta.durationS.toFixed(0)} s`);
  return 0;
}

// The SDK warns that future releases need Node 22; keep the console readable, pass other warnings through.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'NodeVersionSupportWarning') process.stderr.write(`warning: ${w.name}: ${w.message}\n`);
});

// Children are killed by the exit handler in peers.ts; make signals go through process.exit.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
