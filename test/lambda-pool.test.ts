import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Eddy, startEddy } from '../src/index.ts';
import { writeZip } from '../src/services/lambda/zip.ts';

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
