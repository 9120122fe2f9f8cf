import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The built CLI (tests that spawn Eddy need `npm run build`, which `npm test` runs first). */
export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'eddy.js');

/** A free port outside the ephemeral range 32768–60999. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const ok = await new Promise<boolean>((res) => {
      const s = createServer();
      s.once('error', () => res(false));
      s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port');
}

const children = new Set<ChildProcess>();
/** Kill every server this test file started (afterAll, and on exit). */
export function killServers(): void {
  for (const c of children) c.kill('SIGKILL');
}
process.on('exit', killServers);

/** `eddy serve` on a data dir, resolved once it prints "eddy ready"; killed if the test process exits. */
export async function startServer(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--data-dir', dataDir, '--port', String(port), '--log-level', 'warn'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  await new Promise<void>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`server not ready after 15 s: ${stderr}`)), 15_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('eddy ready')) {
        clearTimeout(timer);
        res();
      }
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      rej(new Error(`server exited (${sig ?? code}) before ready: ${stderr}`));
    });
  });
  child.stdout!.resume();
  return child;
}

/** How a child ended (at once if it already has). */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
}
