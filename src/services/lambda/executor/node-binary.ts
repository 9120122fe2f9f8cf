import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../../core/logger.ts';

/**
 * Which Node.js binary runs a `nodejsNN.x` function. The local Node when its major matches; else a
 * cached `node-<platform>-<arch>` npm package for that major (in EDDY_LAMBDA_NODE_CACHE, default
 * ~/.cache/eddy/node/<major>/bin/node), fetched on first use only when EDDY_LAMBDA_NODE_DOWNLOAD=1
 * (tens of MB); otherwise the local Node, with one warning per runtime.
 */
export class NodeBinaries {
  private readonly pending = new Map<string, Promise<string>>();
  private readonly warned = new Set<string>();
  constructor(private readonly logger: Logger) {}

  private cacheRoot(): string {
    return process.env.EDDY_LAMBDA_NODE_CACHE ?? join(homedir(), '.cache', 'eddy', 'node');
  }

  /** Resolve (and, when allowed, fetch once) the binary for a runtime. Never rejects. */
  async forRuntime(runtime: string): Promise<string> {
    const major = /^nodejs(\d+)/.exec(runtime)?.[1];
    if (!major || major === process.versions.node.split('.')[0]) return process.execPath;
    const bin = join(this.cacheRoot(), major, 'bin', 'node');
    if (existsSync(bin)) return bin;
    if (process.env.EDDY_LAMBDA_NODE_DOWNLOAD !== '1')
      return this.fallback(runtime, major, 'set EDDY_LAMBDA_NODE_DOWNLOAD=1 to fetch it');
    let p = this.pending.get(major);
    if (!p) {
      p = this.download(major).then(
        (path) => path,
        (e) => {
          this.pending.delete(major);
          return this.fallback(runtime, major, `download failed: ${e instanceof Error ? e.message : String(e)}`);
        },
      );
      this.pending.set(major, p);
    }
    return p;
  }

  private fallback(runtime: string, major: string, why: string): string {
    if (!this.warned.has(runtime)) {
      this.warned.add(runtime);
      this.logger.warn(
        `Lambda runtime ${runtime} runs on the local Node.js ${process.versions.node}, not Node ${major} (${why}); behaviour specific to Node ${major} is not reproduced.`,
      );
    }
    return process.execPath;
  }

  private async download(major: string): Promise<string> {
    const root = this.cacheRoot();
    mkdirSync(root, { recursive: true });
    const tmp = mkdtempSync(join(root, `.download-${major}-`));
    try {
      const pkg = `node-${process.platform}-${process.arch}@${major}`;
      this.logger.warn(`Fetching Node.js ${major} for Lambda (${pkg}, once, into ${root})`);
      await run('npm', ['pack', pkg, '--pack-destination', tmp, '--silent']);
      const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
      if (!tgz) throw new Error(`npm pack ${pkg} produced no archive`);
      await run('tar', ['-xzf', join(tmp, tgz), '-C', tmp]);
      if (!existsSync(join(tmp, 'package', 'bin', 'node'))) throw new Error(`${pkg} has no bin/node`);
      const dest = join(root, major);
      try {
        renameSync(join(tmp, 'package'), dest);
      } catch {
        // Another Eddy fetched it first.
      }
      return join(dest, 'bin', 'node');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-500)}`)),
    );
  });
}
