import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../src/core/zip.ts';
import { type Eddy, startEddy } from '../src/index.ts';

const run = promisify(execFile);
let hasCli = false;
try {
  execFileSync('aws', ['--version'], { stdio: 'ignore' });
  hasCli = true;
} catch {
  console.warn('SKIPPED: the AWS CLI (`aws`) is not installed; the Lambda/Logs CLI tests did not run.');
}

let eddy: Eddy;
let dir: string;
const aws = async (...args: string[]) => {
  const { stdout } = await run(
    'aws',
    [...args, '--endpoint-url', eddy.endpoint, '--region', 'us-east-1', '--output', 'json'],
    {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_PAGER: '' },
    },
  );
  return stdout.trim() ? JSON.parse(stdout) : undefined;
};

describe.skipIf(!hasCli)('aws lambda / aws logs (CLI)', () => {
  beforeAll(async () => {
    eddy = await startEddy({ port: 0, memory: true });
    dir = mkdtempSync(join(tmpdir(), 'eddy-lambda-cli-'));
    writeFileSync(
      join(dir, 'fn.zip'),
      writeZip([
        {
          name: 'app.js',
          data: `exports.main = async (e) => { console.log('cli-event', e.who); return { hi: e.who }; };`,
        },
      ]),
    );
  });
  afterAll(async () => {
    await eddy?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('create-function, wait function-active, invoke, filter-log-events, get-log-events', async () => {
    const created = await aws(
      'lambda',
      'create-function',
      '--function-name',
      'cli-fn',
      '--runtime',
      'nodejs20.x',
      '--handler',
      'app.main',
      '--role',
      'arn:aws:iam::000000000000:role/r',
      '--zip-file',
      `fileb://${join(dir, 'fn.zip')}`,
    );
    expect(created).toMatchObject({ FunctionName: 'cli-fn', State: 'Pending', Handler: 'app.main' });
    await aws('lambda', 'wait', 'function-active', '--function-name', 'cli-fn');
    const out = join(dir, 'out.json');
    const inv = await aws(
      'lambda',
      'invoke',
      '--function-name',
      'cli-fn',
      '--payload',
      '{"who":"cli"}',
      '--log-type',
      'Tail',
      out,
    );
    expect(inv).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST' });
    expect(Buffer.from(inv.LogResult, 'base64').toString()).toContain('cli-event cli');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ hi: 'cli' });

    const filtered = await aws(
      'logs',
      'filter-log-events',
      '--log-group-name',
      '/aws/lambda/cli-fn',
      '--filter-pattern',
      '"cli-event"',
    );
    expect(filtered.events).toHaveLength(1);
    expect(filtered.events[0].message).toContain('INFO\tcli-event cli');
    const got = await aws(
      'logs',
      'get-log-events',
      '--log-group-name',
      '/aws/lambda/cli-fn',
      '--log-stream-name',
      filtered.events[0].logStreamName,
      '--start-from-head',
    );
    expect(got.events.map((e: { message: string }) => e.message.split(' ')[0])).toEqual([
      'START',
      expect.stringMatching(/^\d{4}-/),
      'END',
      'REPORT',
    ]);

    await expect(aws('lambda', 'get-function', '--function-name', 'missing')).rejects.toMatchObject({
      stderr: expect.stringContaining(
        'An error occurred (ResourceNotFoundException) when calling the GetFunction operation: Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing',
      ),
    });
  }, 90_000);
});
