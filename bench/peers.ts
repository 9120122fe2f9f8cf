// The runtimes compared side by side: how to start each one, find its serving process, and stop it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { call } from './http.ts';
import { cpuMicros, descendants, findServerPid, freePort, isAlive } from './proc.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export type PeerId = 'eddy' | 'eddy-memory' | 'dynalite' | 'moto';

export interface PeerSpec {
  id: PeerId;
  /** Display name in reports. */
  name: string;
  /** How it runs in the benchmark (mode, storage). */
  mode: string;
  /** Why it cannot run here, if it cannot. */
  unavailable(): string | undefined;
  command(port: number, dataDir: string): { cmd: string; args: string[] };
  /** Matches the command line of the process that serves (when the spawned one is a wrapper). */
  serverMatch?: RegExp;
  /** Version string, read once the server runs. */
  version(serverPid: number): string;
}

export interface Peer {
  spec: PeerSpec;
  port: number;
  endpoint: string;
  /** The process we spawned. */
  rootPid: number;
  /** The process that serves requests (CPU and RSS are read from it). */
  pid: number;
  dataDir: string;
  /** Spawn → first successful readiness probe. */
  startupMs: number;
  /** CPU time (user+system) the serving process used until it was ready: steadier than wall time on a busy machine. */
  startupCpuMs: number;
  logFile: string;
  version: string;
  stop(): Promise<void>;
}

/** Readiness probe: true when the service answers. Default: DynamoDB ListTables with HTTP 200. */
export type Probe = (port: number) => Promise<boolean>;

export const dynamoProbe: Probe = async (port) => {
  try {
    return (await call(port, 'ListTables', {}, 2000)).status === 200;
  } catch {
    return false;
  }
};

const EDDY_BIN = join(ROOT, 'bin', 'eddy.js');
const DYNALITE_BIN = join(ROOT, 'node_modules', 'dynalite', 'cli.js');

function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function packageVersion(file: string): string {
  try {
    return JSON.parse(readFileSync(file, 'utf8')).version;
  } catch {
    return '?';
  }
}

export const EDDY: PeerSpec = {
  id: 'eddy',
  name: 'Eddy',
  mode: 'built CLI, `--data-dir` (durable: SQLite WAL)',
  unavailable: () => (existsSync(join(ROOT, 'dist', 'cli.js')) ? undefined : 'not built (run `npm run build`)'),
  command: (port, dataDir) => ({
    cmd: process.execPath,
    args: [EDDY_BIN, 'serve', '--data-dir', dataDir, '--port', String(port)],
  }),
  version: () => packageVersion(join(ROOT, 'package.json')),
};

/** Not in the default set (the durable mode is the honest comparison): shows what durability costs. */
export const EDDY_MEMORY: PeerSpec = {
  ...EDDY,
  id: 'eddy-memory',
  name: 'Eddy (memory)',
  mode: 'built CLI, `--memory` (ephemeral)',
  command: (port) => ({ cmd: process.execPath, args: [EDDY_BIN, 'serve', '--memory', '--port', String(port)] }),
};

export const DYNALITE: PeerSpec = {
  id: 'dynalite',
  name: 'dynalite',
  mode: 'in-memory (no `--path`), CREATING state 0 ms',
  unavailable: () => (existsSync(DYNALITE_BIN) ? undefined : 'not installed (npm devDependency `dynalite`)'),
  command: (port) => ({
    cmd: process.execPath,
    args: [
      DYNALITE_BIN,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--createTableMs',
      '0',
      '--deleteTableMs',
      '0',
      '--updateTableMs',
      '0',
    ],
  }),
  version: () => packageVersion(join(ROOT, 'node_modules', 'dynalite', 'package.json')),
};

export const MOTO: PeerSpec = {
  id: 'moto',
  name: 'moto',
  mode: '`moto_server` (Python, in-memory)',
  unavailable: () => (which('moto_server') ? undefined : '`moto_server` not on PATH'),
  command: (port) => ({ cmd: 'moto_server', args: ['-H', '127.0.0.1', '-p', String(port)] }),
  serverMatch: /python|moto_server/,
  version: (pid) => {
    try {
      const python = readlinkSync(`/proc/${pid}/exe`);
      return execFileSync(
        python,
        ['-c', 'import moto, sys; print(moto.__version__, "(Python " + sys.version.split()[0] + ")")'],
        {
          encoding: 'utf8',
        },
      ).trim();
    } catch {
      return '?';
    }
  },
};

/** The default comparison. */
export const ALL_PEERS: PeerSpec[] = [EDDY, DYNALITE, MOTO];
/** Selectable with --peers. */
export const KNOWN_PEERS: PeerSpec[] = [EDDY, EDDY_MEMORY, DYNALITE, MOTO];

// Every process we start is killed when the harness exits, however it exits.
const live = new Set<ChildProcess>();
const dirs = new Set<string>();

function killTree(root: number, signal: NodeJS.Signals): void {
  let pids: number[] = [];
  try {
    pids = descendants(root);
  } catch {}
  for (const p of [root, ...pids]) {
    try {
      process.kill(p, signal);
    } catch {}
  }
}

process.on('exit', () => {
  for (const child of live) if (child.pid) killTree(child.pid, 'SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * The servers' environment: the harness's, minus NODE_EXTRA_CA_CERTS. Some machines (CI sandboxes) set it, and
 * Node then parses the CA bundle at every start (~70 ms here); no local server needs outbound TLS, and a
 * developer's machine does not normally set it. Applies to every peer alike.
 */
export function peerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1' };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

export const PEER_ENV_NOTE =
  'Servers run with the harness environment minus `NODE_EXTRA_CA_CERTS` (set on this machine; it makes every Node.js start parse a CA bundle, ~70 ms, and no local server needs it).';

export class PeerStartError extends Error {}

/** Start a peer on a free port and wait for its probe; throws PeerStartError with the log tail on failure. */
export async function startPeer(spec: PeerSpec, opts: { timeoutMs?: number; probe?: Probe } = {}): Promise<Peer> {
  const reason = spec.unavailable();
  if (reason) throw new PeerStartError(reason);
  const probe = opts.probe ?? dynamoProbe;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `eddy-bench-${spec.id}-`));
  dirs.add(dataDir);
  const logFile = join(dataDir, 'server.log');
  const logFd = openSync(logFile, 'a');
  const { cmd, args } = spec.command(port, join(dataDir, 'data'));
  const t0 = performance.now();
  const child = spawn(cmd, args, {
    cwd: dataDir,
    stdio: ['ignore', logFd, logFd],
    env: peerEnv(),
  });
  closeSync(logFd);
  live.add(child);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
    live.delete(child);
  });
  child.once('error', (e) => {
    exited = `failed to spawn: ${e.message}`;
    live.delete(child);
  });

  const stop = async () => {
    const pid = child.pid;
    if (pid && !exited) {
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      killTree(pid, 'SIGTERM');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 3000).unref());
      if ((await Promise.race([done, timer])) === 'timeout') {
        killTree(pid, 'SIGKILL');
        await done;
      }
    }
    live.delete(child);
    rmSync(dataDir, { recursive: true, force: true });
    dirs.delete(dataDir);
  };

  try {
    let startupMs = -1;
    while (performance.now() - t0 < timeoutMs) {
      if (exited) break;
      if (await probe(port)) {
        startupMs = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    if (startupMs < 0) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join(' | ') : '';
      throw new PeerStartError(`${exited ?? `not ready after ${timeoutMs} ms`}${log ? ` — ${log.slice(0, 400)}` : ''}`);
    }
    const pid = findServerPid(child.pid!, spec.serverMatch);
    if (!isAlive(pid)) throw new PeerStartError('server process vanished after start');
    const startupCpuMs = cpuMicros(pid) / 1000;
    return {
      spec,
      port,
      endpoint: `http://127.0.0.1:${port}`,
      rootPid: child.pid!,
      pid,
      dataDir,
      startupMs,
      startupCpuMs,
      logFile,
      version: spec.version(pid),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
