import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Whether the real `aws` CLI is installed (CLI tests skip visibly without it). */
export const hasAwsCli = (() => {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

if (!hasAwsCli) console.warn('SKIPPING aws CLI tests: the `aws` command is not installed');

export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_PAGER: '',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    ...extra,
  };
}

/** Run `aws --endpoint-url <endpoint> ...args` and parse its JSON output (if any). */
export async function aws(endpoint: string, args: string[], env: Record<string, string> = {}): Promise<any> {
  const { stdout } = await run('aws', ['--endpoint-url', endpoint, '--output', 'json', ...args], {
    env: cliEnv(env),
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim() ? JSON.parse(stdout) : undefined;
}

/** Run a bash snippet (seed commands verbatim) with the CLI pointed at Eddy through a wrapper function. */
export async function bash(
  endpoint: string,
  script: string,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  const prelude = `set -euo pipefail\naws() { command aws --endpoint-url ${endpoint} "$@"; }\n`;
  return run('bash', ['-c', prelude + script], { env: cliEnv(env), maxBuffer: 64 * 1024 * 1024 });
}
