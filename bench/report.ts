// Report model shared by all suites: sections of tables and targets, rendered to the console and BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';

export interface Table {
  title: string;
  note?: string;
  columns: string[];
  rows: string[][];
}

export interface Target {
  name: string;
  /** Measured value, formatted. */
  value: string;
  /** The target, formatted (e.g. "≤ 0.50×"). */
  target: string;
  /** undefined when it could not be evaluated (peer unavailable, operation unsupported). */
  pass: boolean | undefined;
}

export interface Section {
  title: string;
  intro?: string;
  tables: Table[];
  targets: Target[];
  notes: string[];
}

export interface ReportMeta {
  date: Date;
  command: string;
  quick: boolean;
  durationS: number;
  peers: { name: string; version: string; mode: string; status: string }[];
  notes: string[];
}

// ---- formatting helpers ----

export function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Ratio Eddy/peer, e.g. "0.42×". */
export function ratio(eddy: number | undefined, peer: number | undefined): string {
  if (eddy === undefined || peer === undefined || !Number.isFinite(eddy) || !Number.isFinite(peer) || peer === 0)
    return '—';
  const r = eddy / peer;
  return `${r < 0.1 ? r.toFixed(3) : r.toFixed(2)}×`;
}

export function passMark(p: boolean | undefined): string {
  return p === undefined ? 'n/a' : p ? 'PASS' : 'FAIL';
}

// ---- machine ----

export function machineInfo(): [string, string][] {
  let model = cpus()[0]?.model ?? '?';
  let os = `${process.platform} ${process.arch}`;
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {}
  try {
    const rel = readFileSync('/etc/os-release', 'utf8');
    os = `${/^PRETTY_NAME="?([^"\n]+)"?/m.exec(rel)?.[1] ?? 'Linux'}, kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}`;
  } catch {}
  let nproc = String(cpus().length);
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {}
  let fs = '?';
  try {
    fs = execFileSync('df', ['-T', tmpdir()], { encoding: 'utf8' }).trim().split('\n').at(-1)?.split(/\s+/)[1] ?? '?';
  } catch {}
  return [
    ['CPU', `${model}, ${nproc} cores (nproc)`],
    ['Memory', `${(totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['OS', os],
    ['Node.js', process.version],
    [
      'Load average at report time (1/5/15 min)',
      loadavg()
        .map((l) => l.toFixed(2))
        .join(' / '),
    ],
    ['Temp dir filesystem (Eddy data dir)', fs],
  ];
}

// ---- console ----

function textTable(t: Table): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(t.columns), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

export function printSection(s: Section): void {
  const out: string[] = [`\n=== ${s.title} ===`];
  for (const t of s.tables) out.push(`\n${t.title}`, textTable(t));
  if (s.targets.length > 0) {
    out.push('\nTargets');
    for (const t of s.targets) out.push(`  ${passMark(t.pass).padEnd(4)}  ${t.name}: ${t.value} (target ${t.target})`);
  }
  for (const n of s.notes) out.push(`  note: ${n}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---- markdown ----

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** Markdown table; `numeric` right-aligns every column but the first. */
function mdTable(columns: string[], rows: string[][], numeric = false): string {
  const align = columns.map((_, i) => (numeric && i > 0 ? '--:' : ':--'));
  return [columns, align, ...rows].map((r) => `| ${r.map(mdEscape).join(' | ')} |`).join('\n');
}

export function renderMarkdown(sections: Section[], meta: ReportMeta): string {
  const out: string[] = [];
  out.push('# Benchmarks', '');
  out.push(
    'Eddy and the other local AWS emulators, started side by side on the same machine by one harness run ' +
      '(`bench/run.ts`) and measured one at a time. Ratios are Eddy/peer: below 1× means Eddy uses less ' +
      '(CPU, memory, time); for throughput, above 1× means Eddy is faster.',
    '',
  );
  out.push(
    `- Date: ${meta.date.toISOString()}${meta.quick ? ' (**quick mode**: small counts, figures are indicative only)' : ''}`,
  );
  out.push(
    `- Reproduce: \`${meta.command}\` (about ${Math.ceil(meta.durationS / 60)} min; \`node --import tsx bench/run.ts --quick\` for a fast check)`,
  );
  out.push(`- Run time: ${meta.durationS.toFixed(0)} s`, '');
  out.push('## Machine', '');
  out.push(mdTable(['', ''], machineInfo()), '');
  out.push('## Peers', '');
  out.push(
    mdTable(
      ['Peer', 'Version', 'How it runs', 'Status'],
      meta.peers.map((p) => [p.name, p.version, p.mode, p.status]),
    ),
    '',
  );
  for (const n of meta.notes) out.push(`- ${n}`);
  if (meta.notes.length > 0) out.push('');
  const allTargets = sections.flatMap((s) => s.targets.map((t) => ({ ...t, section: s.title })));
  if (allTargets.length > 0) {
    out.push('## Targets', '');
    out.push(
      mdTable(
        ['Target', 'Measured', 'Goal', 'Result'],
        allTargets.map((t) => [t.name, t.value, t.target, passMark(t.pass)]),
      ),
      '',
    );
  }
  for (const s of sections) {
    out.push(`## ${s.title}`, '');
    if (s.intro) out.push(s.intro, '');
    for (const t of s.tables) {
      out.push(`### ${t.title}`, '');
      if (t.note) out.push(t.note, '');
      out.push(mdTable(t.columns, t.rows, true), '');
    }
    if (s.notes.length > 0) {
      out.push('Notes:', '');
      for (const n of s.notes) out.push(`- ${n}`);
      out.push('');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}
