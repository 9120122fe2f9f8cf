import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger, type LogLevel } from '../core/logger.ts';
import { startEddy } from '../eddy.ts';
import { deployAssembly, type StackResult } from './deploy.ts';
import { UsageError } from './main.ts';
import { untilSignalled } from './serve.ts';

export const UP_HELP = `Usage: eddy up [options]

Start Eddy and deploy the pipelines into it: every CDK app under pipelines/*/infra is synthesized
and deployed as \`cdk deploy\` would deploy it to AWS. Then print their outputs and commands to try,
and keep serving until Ctrl-C. Re-running is idempotent and fast: data is kept, unchanged stacks
are left as they are.

Options:
  --pipelines <a,b>    Deploy only these (default: all of pipelines/)
  --port <n>           TCP port (default 4566)
  --host <addr>        Address to bind (default 127.0.0.1)
  --data-dir <dir>     Where state is kept (default .eddy)
  --memory             Keep state in memory only
  --log-level <level>  debug | info | warn | error (default warn)
  -h, --help           Show this help
`;

/** The folder holding `pipelines/`: Eddy's own package root. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'pipelines')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export interface Pipeline {
  name: string;
  infra: string;
  /** Commands to try, with ${Output} and ${ENDPOINT} placeholders. */
  tryIt?: string;
}

export function findPipelines(root = packageRoot()): Pipeline[] {
  const base = join(root, 'pipelines');
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(base, d.name, 'infra', 'cdk.json')))
    .map((d) => {
      const tryFile = join(base, d.name, 'try-it.txt');
      return {
        name: d.name,
        infra: join(base, d.name, 'infra'),
        tryIt: existsSync(tryFile) ? readFileSync(tryFile, 'utf8') : undefined,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Fill `${Key}` from the outputs (and ${ENDPOINT}); unknown keys stay visible. */
export function fillTemplate(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, k: string) => values[k] ?? m);
}

export async function upCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      pipelines: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      memory: { type: 'boolean' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(UP_HELP);
    return 0;
  }
  const out = (s: string) => process.stdout.write(s);
  let pipelines = findPipelines();
  if (values.pipelines) {
    const want = values.pipelines.split(',').map((s) => s.trim());
    const unknown = want.filter((w) => !pipelines.some((p) => p.name === w));
    if (unknown.length)
      throw new UsageError(
        `unknown pipeline(s): ${unknown.join(', ')}; have: ${pipelines.map((p) => p.name).join(', ')}`,
      );
    pipelines = pipelines.filter((p) => want.includes(p.name));
  }
  const port = values.port !== undefined ? Number(values.port) : 4566;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be an integer 0-65535, got '${values.port}'`);
  const logLevel = (values['log-level'] ?? 'warn') as LogLevel;
  const dataDir = values['data-dir'] ?? process.env.EDDY_DATA_DIR ?? '.eddy';
  const t0 = performance.now();
  const eddy = await startEddy({
    port,
    host: values.host ?? '127.0.0.1',
    dataDir,
    memory: values.memory ?? false,
    logger: createLogger(logLevel),
  });
  out(`eddy ready ${eddy.endpoint} (data: ${values.memory ? 'memory' : dataDir})\n`);

  const summaries: string[] = [];
  let failed = false;
  for (const p of pipelines) {
    const started = performance.now();
    out(`\n▶ ${p.name}: synthesizing and deploying ${p.infra}\n`);
    let results: StackResult[];
    try {
      // Re-runs skip synthesis when the cloud assembly is newer than every source of the pipeline.
      const assembly = join(p.infra, 'cdk.out');
      const fresh =
        existsSync(join(assembly, 'manifest.json')) &&
        statSync(join(assembly, 'manifest.json')).mtimeMs >= newestSource(dirname(p.infra));
      if (fresh) out('  cloud assembly is up to date: skipping synthesis\n');
      results = await deployAssembly({
        dir: fresh ? assembly : p.infra,
        endpoint: eddy.endpoint,
        log: (l) => out(`  ${l}\n`),
      });
    } catch (e) {
      failed = true;
      out(`✗ ${p.name}: ${(e as Error).message}\n`);
      continue;
    }
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const outputs: Record<string, string> = { ENDPOINT: eddy.endpoint };
    for (const r of results) Object.assign(outputs, r.outputs);
    out(
      `✓ ${p.name}: ${results.map((r) => `${r.stackName} ${r.noChanges ? 'unchanged' : r.status}`).join(', ')} in ${secs}s\n`,
    );
    let summary = `── ${p.name} ──\n`;
    for (const r of results) for (const [k, v] of Object.entries(r.outputs)) summary += `  ${k.padEnd(22)} ${v}\n`;
    if (p.tryIt) summary += `\n${fillTemplate(p.tryIt, outputs).replace(/^/gm, '  ')}\n`;
    summaries.push(summary);
  }
  out(`\n${summaries.join('\n')}`);
  out(
    `\nEddy is serving at ${eddy.endpoint} (up in ${((performance.now() - t0) / 1000).toFixed(1)}s${failed ? ', with failures above' : ''}).\n` +
      `  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL=${eddy.endpoint}\n` +
      `  eddy mail               # the email notifications (SNS email subscriptions land in a local mailbox)\n` +
      `Stop with Ctrl-C; run \`npm start\` again to come back with the same data.\n`,
  );
  await untilSignalled(createLogger(logLevel));
  await eddy.stop();
  return failed ? 1 : 0;
}

export const pipelinesRoot = () => resolve(packageRoot(), 'pipelines');

/** The newest modification time of a pipeline's own files (not cdk.out or node_modules). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'cdk.out' || e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}
