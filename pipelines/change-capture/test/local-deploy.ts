/** Test support: deploy a synthesized cloud assembly to Eddy with Eddy's own CLI, as a user would. */
import { execFile } from 'node:child_process';

/**
 * `eddy deploy <assembly> --endpoint <endpoint>`: Eddy's CLI in a child process (from source, so it
 * is always current), deploying a synthesized cloud assembly as `cdk deploy` would deploy it to AWS.
 * Asynchronous: the Eddy serving the deployment may live in this very process.
 */
export function eddyDeploy(
  assembly: string,
  endpoint: string,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = new URL('../../../src/cli/main.ts', import.meta.url).href;
  const script = `const { main } = await import(${JSON.stringify(main)}); process.exitCode = await main(process.argv.slice(1));`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, 'deploy', assembly, '--endpoint', endpoint, ...args],
      {
        encoding: 'utf8',
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
