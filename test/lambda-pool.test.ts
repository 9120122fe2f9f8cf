import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../src/core/zip.ts';
import { type Eddy, startEddy } from '../src/index.ts';

let eddy: Eddy;
let lambda: LambdaClient;
const ROLE = 'arn:aws:iam::000000000000:role/r';

beforeAll(async () => {
  const before = process.env.EDDY_LAMBDA_MAX_ENVIRONMENTS;
  process.env.EDDY_LAMBDA_MAX_ENVIRONMENTS = '2';
  try {
    eddy = await startEddy({ port: 0, memory: true });
  } finally {
    if (before === undefined) delete process.env.EDDY_LAMBDA_MAX_ENVIRONMENTS;
    else process.env.EDDY_LAMBDA_MAX_ENVIRONMENTS = before;
  }
  lambda = new LambdaClient({
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});
afterAll(async () => {
  lambda?.destroy();
  await eddy?.stop();
});

describe('process pool cap', () => {
  it('never runs more environments than EDDY_LAMBDA_MAX_ENVIRONMENTS: extra invocations wait, none fail', async () => {
    const code = writeZip([
      {
        name: 'index.js',
        data: `exports.handler = async () => { const start = Date.now(); await new Promise((r) => setTimeout(r, 50)); return { pid: process.pid, start, end: Date.now() }; };`,
      },
    ]);
    for (const name of ['capA', 'capB']) {
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs20.x',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { ZipFile: code },
        }),
      );
    }
    const call = async (name: string) => {
      const r = await lambda.send(new InvokeCommand({ FunctionName: name }));
      expect(r.FunctionError).toBeUndefined();
      return JSON.parse(Buffer.from(r.Payload!).toString()) as { pid: number; start: number; end: number };
    };
    const runs = await Promise.all([call('capA'), call('capA'), call('capA'), call('capB'), call('capB')]);
    expect(runs).toHaveLength(5);
    // At no instant did more than two handlers run at once.
    const overlap = Math.max(...runs.map((a) => runs.filter((b) => b.start <= a.start && a.start < b.end).length));
    expect(overlap).toBeLessThanOrEqual(2);
  });
});

describe('Node.js binaries per runtime', () => {
  it('runs nodejsNN.x on the cached Node NN binary when one is present', async () => {
    const local = process.versions.node.split('.')[0];
    const other = local === '22' ? '24' : '22';
    const cache = mkdtempSync(join(tmpdir(), 'eddy-node-cache-'));
    mkdirSync(join(cache, other, 'bin'), { recursive: true });
    // A stand-in binary: marks the environment, then runs the local node.
    writeFileSync(
      join(cache, other, 'bin', 'node'),
      `#!/bin/sh\nexport EDDY_TEST_NODE=${other}\nexec "${process.execPath}" "$@"\n`,
    );
    chmodSync(join(cache, other, 'bin', 'node'), 0o755);
    const before = process.env.EDDY_LAMBDA_NODE_CACHE;
    process.env.EDDY_LAMBDA_NODE_CACHE = cache;
    try {
      const code = writeZip([
        { name: 'index.js', data: `exports.handler = async () => process.env.EDDY_TEST_NODE ?? 'local';` },
      ]);
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'other-node',
          Runtime: `nodejs${other}.x` as 'nodejs22.x',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { ZipFile: code },
        }),
      );
      const r = await lambda.send(new InvokeCommand({ FunctionName: 'other-node' }));
      expect(JSON.parse(Buffer.from(r.Payload!).toString())).toBe(other);
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'local-node',
          Runtime: `nodejs${local}.x` as 'nodejs20.x',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { ZipFile: code },
        }),
      );
      const l = await lambda.send(new InvokeCommand({ FunctionName: 'local-node' }));
      expect(JSON.parse(Buffer.from(l.Payload!).toString())).toBe('local');
    } finally {
      if (before === undefined) delete process.env.EDDY_LAMBDA_NODE_CACHE;
      else process.env.EDDY_LAMBDA_NODE_CACHE = before;
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
