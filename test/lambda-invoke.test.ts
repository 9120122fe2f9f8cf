import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../src/core/zip.ts';
import { type Eddy, startEddy } from '../src/index.ts';

let eddy: Eddy;
let lambda: LambdaClient;
const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

// A tiny HTTP hub the handlers call: tests wait on its events instead of sleeping.
let hub: http.Server;
let hubUrl: string;
const hits: Record<string, unknown[]> = {};
const waiters: Record<string, ((v: unknown) => void)[]> = {};
const holds: Record<string, (() => void)[]> = {};
const nextHit = (key: string) => new Promise<unknown>((r) => (waiters[key] ??= []).push(r));

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true });
  lambda = new LambdaClient({
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  hub = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const key = (req.url ?? '/').slice(1);
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : null;
      if (key.startsWith('hold/')) {
        (holds[key] ??= []).push(() => res.end('released'));
      } else res.end('ok');
      (hits[key] ??= []).push(body);
      const w = waiters[key]?.shift();
      w?.(body);
    });
  });
  await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
  hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
});
afterAll(async () => {
  lambda?.destroy();
  await eddy?.stop();
  hub?.closeAllConnections();
  await new Promise((r) => hub?.close(r));
});

const zip = (files: Record<string, string>) => writeZip(Object.entries(files).map(([name, data]) => ({ name, data })));
const create = (name: string, files: Record<string, string>, extra: Record<string, unknown> = {}) =>
  lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zip(files) },
      ...extra,
    }),
  );
const invoke = async (name: string, payload: unknown = {}, extra: Record<string, unknown> = {}) => {
  const r = await lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), ...extra }),
  );
  const text = r.Payload ? Buffer.from(r.Payload).toString() : '';
  return {
    ...r,
    json: text ? JSON.parse(text) : undefined,
    logs: r.LogResult ? Buffer.from(r.LogResult, 'base64').toString() : '',
  };
};

describe('Invoke', () => {
  it('runs a CommonJS async handler with the Lambda context and environment, warm on the second call', async () => {
    await create(
      'ctx',
      {
        'index.js': `exports.handler = async (event, context) => {
  console.log('hello', event.name, { nested: true });
  return { event, pid: process.pid, requestId: context.awsRequestId, fn: context.functionName, mem: context.memoryLimitInMB,
    group: context.logGroupName, stream: context.logStreamName, left: context.getRemainingTimeInMillis(), arn: context.invokedFunctionArn,
    env: { name: process.env.AWS_LAMBDA_FUNCTION_NAME, endpoint: process.env.AWS_ENDPOINT_URL, region: process.env.AWS_REGION,
      exec: process.env.AWS_EXECUTION_ENV, root: process.env.LAMBDA_TASK_ROOT, handler: process.env._HANDLER, custom: process.env.MY_VAR } };
};`,
      },
      { Environment: { Variables: { MY_VAR: 'mine' } }, MemorySize: 256, Timeout: 5 },
    );
    const t0 = performance.now();
    const first = await invoke('ctx', { name: 'eddy' }, { LogType: 'Tail' });
    const cold = performance.now() - t0;
    expect(first.StatusCode).toBe(200);
    expect(first.FunctionError).toBeUndefined();
    expect(first.ExecutedVersion).toBe('$LATEST');
    expect(first.json).toMatchObject({
      event: { name: 'eddy' },
      fn: 'ctx',
      mem: '256',
      group: '/aws/lambda/ctx',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:ctx',
      env: {
        name: 'ctx',
        endpoint: eddy.endpoint,
        region: 'us-east-1',
        exec: 'AWS_Lambda_nodejs20.x',
        handler: 'index.handler',
        custom: 'mine',
      },
    });
    expect(first.json.requestId).toBe(first.$metadata.requestId);
    expect(first.json.stream).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(first.json.left).toBeGreaterThan(4000);
    expect(first.logs).toContain(`START RequestId: ${first.json.requestId} Version: $LATEST`);
    expect(first.logs).toMatch(new RegExp(`\\t${first.json.requestId}\\tINFO\\thello eddy \\{ nested: true \\}`));
    expect(first.logs).toContain(`END RequestId: ${first.json.requestId}`);
    expect(first.logs).toMatch(
      /REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms/,
    );

    const t1 = performance.now();
    const second = await invoke('ctx', { name: 'again' }, { LogType: 'Tail' });
    const warm = performance.now() - t1;
    expect(second.json.pid).toBe(first.json.pid);
    expect(second.logs).not.toContain('Init Duration');
    console.log(`cold invoke ${cold.toFixed(1)} ms, warm invoke ${warm.toFixed(1)} ms`);
  });

  it('runs ESM and callback-style handlers and lets handlers import the AWS SDK they do not bundle', async () => {
    await create('esm', {
      'index.mjs': `import { LambdaClient, GetFunctionCommand } from '@aws-sdk/client-lambda';
export const handler = async () => {
  const c = new LambdaClient({});
  const r = await c.send(new GetFunctionCommand({ FunctionName: 'esm' }));
  return { esm: true, runtime: r.Configuration.Runtime };
};`,
    });
    expect((await invoke('esm')).json).toEqual({ esm: true, runtime: 'nodejs20.x' });

    await create('cb', {
      'index.js': `const { LambdaClient, ListFunctionsCommand } = require('@aws-sdk/client-lambda');
exports.handler = (event, context, callback) => {
  new LambdaClient({}).send(new ListFunctionsCommand({})).then((r) => callback(null, { cb: event.x * 2, n: r.Functions.length > 0 }), callback);
};`,
    });
    expect((await invoke('cb', { x: 21 })).json).toEqual({ cb: 42, n: true });
  });

  it('reports a thrown error as AWS does', async () => {
    await create('throws', { 'index.js': `exports.handler = async () => { throw new TypeError('bad thing'); };` });
    const r = await invoke('throws', {}, { LogType: 'Tail' });
    expect(r.StatusCode).toBe(200);
    expect(r.FunctionError).toBe('Unhandled');
    expect(r.json).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad thing' });
    expect(r.json.trace[0]).toBe('TypeError: bad thing');
    expect(r.logs).toMatch(/\tERROR\tInvoke Error \t\{"errorType":"TypeError"/);
  });

  it('reports an uncaught exception and an unhandled rejection during an invoke, then replaces the environment', async () => {
    await create('uncaught', {
      'index.js': `exports.handler = async (e) => {
  if (e.kind === 'throw') setImmediate(() => { throw new RangeError('late'); });
  if (e.kind === 'reject') Promise.reject(new Error('forgotten'));
  await new Promise(() => {});
};`,
    });
    const a = await invoke('uncaught', { kind: 'throw' });
    expect(a.FunctionError).toBe('Unhandled');
    expect(a.json).toMatchObject({ errorType: 'RangeError', errorMessage: 'late' });
    const b = await invoke('uncaught', { kind: 'reject' });
    expect(b.json).toMatchObject({ errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'Error: forgotten' });
  });

  it('reports init errors: missing module and missing handler export', async () => {
    await create('nomod', { 'other.js': 'exports.x = 1;' });
    const r = await invoke('nomod');
    expect(r.FunctionError).toBe('Unhandled');
    expect(r.json).toMatchObject({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: expect.stringContaining("Cannot find module 'index'"),
    });
    await create('noexport', { 'index.js': 'exports.other = () => 1;' });
    expect((await invoke('noexport')).json).toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'index.handler is undefined or not exported',
    });
  });

  it('times out, killing the process, and starts a fresh environment next time', async () => {
    await create(
      'slow',
      {
        'index.js': `exports.handler = async (e) => { if (e.hang) await new Promise(() => setInterval(() => {}, 1000)); return process.pid; };`,
      },
      { Timeout: 1 },
    );
    const before = (await invoke('slow')).json;
    const r = await invoke('slow', { hang: true }, { LogType: 'Tail' });
    expect(r.FunctionError).toBe('Unhandled');
    expect(r.json).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/^RequestId: \S+ Error: Task timed out after 1\.00 seconds$/),
    });
    expect(r.logs).toMatch(/Task timed out after 1\.00 seconds/);
    expect(r.logs).toMatch(/Status: timeout/);
    const after = (await invoke('slow')).json;
    expect(after).not.toBe(before);
  });

  it('reports process.exit and out-of-memory as runtime errors without harming Eddy', async () => {
    await create('exits', {
      'index.js': `exports.handler = async (e) => { if (e.exit) process.exit(1); return 'alive'; };`,
    });
    const r = await invoke('exits', { exit: true }, { LogType: 'Tail' });
    expect(r.FunctionError).toBe('Unhandled');
    expect(r.json).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: expect.stringMatching(/^RequestId: \S+ Error: Runtime exited with error: exit status 1$/),
    });
    expect(r.logs).toContain('Runtime.ExitError');
    expect((await invoke('exits')).json).toBe('alive');

    await create(
      'oom',
      {
        'index.js': `exports.handler = async () => { const a = []; for (;;) a.push(new Array(100000).fill({ x: Math.random() })); };`,
      },
      { MemorySize: 128, Timeout: 30 },
    );
    const o = await invoke('oom');
    expect(o.FunctionError).toBe('Unhandled');
    expect(o.json).toMatchObject({
      errorType: 'Runtime.OutOfMemory',
      errorMessage: expect.stringContaining('Runtime exited with error: signal: killed'),
    });
  }, 40_000);

  it('writes JSON logs when LoggingConfig.LogFormat is JSON, filtered by the application log level', async () => {
    await create(
      'jsonlogs',
      {
        'index.js': `exports.handler = async (e) => { console.debug('hidden'); console.log('hi', 42); console.warn({ k: 'v' }); if (e.fail) throw new Error('bad'); return 1; };`,
      },
      { LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO' } },
    );
    const ok = await invoke('jsonlogs', {}, { LogType: 'Tail' });
    const lines = ok.logs
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const id = ok.$metadata.requestId;
    expect(lines[0]).toMatchObject({ type: 'platform.start', record: { requestId: id, version: '$LATEST' } });
    expect(lines[1]).toMatchObject({ level: 'INFO', requestId: id, message: 'hi 42' });
    expect(lines[2]).toMatchObject({ level: 'WARN', requestId: id, message: { k: 'v' } });
    expect(lines[3]).toMatchObject({
      type: 'platform.report',
      record: { requestId: id, status: 'success', metrics: { memorySizeMB: 128 } },
    });
    expect(lines[3].record.metrics.initDurationMs).toBeGreaterThan(0);
    expect(ok.logs).not.toContain('hidden');
    const bad = await invoke('jsonlogs', { fail: true }, { LogType: 'Tail' });
    const err = bad.logs
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((l) => l.level === 'ERROR');
    expect(err.message).toMatchObject({ errorType: 'Error', errorMessage: 'bad' });
    await expect(
      create(
        'textlevels',
        { 'index.js': 'exports.handler = async () => 1;' },
        { LoggingConfig: { LogFormat: 'Text', ApplicationLogLevel: 'DEBUG' } },
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
  });

  it.skipIf(!existsSync('/usr/bin/curl'))(
    'runs a provided.al2023 custom runtime (a shell bootstrap speaking the Runtime API)',
    async () => {
      const bootstrap = `#!/bin/sh
set -e
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  ID="$(grep -i '^lambda-runtime-aws-request-id:' "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)"
  echo "custom runtime got $EVENT"
  curl -sS -o /dev/null -X POST "$API/invocation/$ID/response" -d "{\\"echo\\":$EVENT,\\"handler\\":\\"$_HANDLER\\"}"
done
`;
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'custom',
          Runtime: 'provided.al2023',
          Role: ROLE,
          Handler: 'my.handler',
          Code: { ZipFile: writeZip([{ name: 'bootstrap', data: bootstrap, mode: 0o755 }]) },
        }),
      );
      const r = await invoke('custom', { a: 1 }, { LogType: 'Tail' });
      expect(r.FunctionError).toBeUndefined();
      expect(r.json).toEqual({ echo: { a: 1 }, handler: 'my.handler' });
      expect(r.logs).toContain('custom runtime got {"a":1}');
      expect(r.logs).toMatch(/REPORT RequestId/);
    },
  );

  it('keeps the last 4 KB of large logs in LogResult', async () => {
    await create('chatty', {
      'index.js': `exports.handler = async () => { for (let i = 0; i < 3000; i++) console.log('line ' + i + ' ' + 'x'.repeat(50)); return 'done'; };`,
    });
    const r = await invoke('chatty', {}, { LogType: 'Tail' });
    expect(r.json).toBe('done');
    expect(Buffer.from(r.LogResult!, 'base64').length).toBe(4096);
    expect(r.logs).toContain('line 2999');
    expect(r.logs).toMatch(/REPORT RequestId/);
  });

  it('enforces the 6 MB request and response limits', async () => {
    await create('big', { 'index.js': `exports.handler = async (e) => 'y'.repeat(e.n);` });
    await expect(
      lambda.send(
        new InvokeCommand({
          FunctionName: 'big',
          Payload: Buffer.from(JSON.stringify({ s: 'x'.repeat(6 * 1024 * 1024) })),
        }),
      ),
    ).rejects.toMatchObject({
      name: 'RequestTooLargeException',
      message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
      $metadata: { httpStatusCode: 413 },
    });
    const r = await invoke('big', { n: 7 * 1024 * 1024 });
    expect(r.FunctionError).toBe('Unhandled');
    expect(r.json).toMatchObject({ errorType: 'Function.ResponseSizeTooLarge' });
    expect((await invoke('big', { n: 10 })).json).toBe('yyyyyyyyyy');
  });

  it('answers DryRun with 204 and Event with 202, running the event in the background', async () => {
    await create('bg', {
      'index.js': `exports.handler = async (e) => { await fetch(e.url, { method: 'POST', body: JSON.stringify(e) }); return 'ok'; };`,
    });
    const dry = await lambda.send(new InvokeCommand({ FunctionName: 'bg', InvocationType: 'DryRun' }));
    expect(dry.StatusCode).toBe(204);
    const got = nextHit('event');
    const ev = await lambda.send(
      new InvokeCommand({
        FunctionName: 'bg',
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ url: `${hubUrl}/event`, n: 1 })),
      }),
    );
    expect(ev.StatusCode).toBe(202);
    expect(await got).toMatchObject({ n: 1 });
  });

  it('throttles beyond reserved concurrency', async () => {
    await create('held', {
      'index.js': `exports.handler = async (e) => { await fetch(e.url, { method: 'POST', body: '{}' }); return 'released'; };`,
    });
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'held', ReservedConcurrentExecutions: 1 }));
    const settings = await lambda.send(new GetAccountSettingsCommand({}));
    expect(settings.AccountLimit?.UnreservedConcurrentExecutions).toBe(999);
    const arrived = nextHit('hold/1');
    const first = invoke('held', { url: `${hubUrl}/hold/1` });
    await arrived;
    await expect(invoke('held', { url: `${hubUrl}/hold/1` })).rejects.toMatchObject({
      name: 'TooManyRequestsException',
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      $metadata: { httpStatusCode: 429 },
    });
    holds['hold/1'].shift()!();
    expect((await first).json).toBe('released');
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'held', ReservedConcurrentExecutions: 0 }));
    await expect(invoke('held', {})).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'held' }));
  });

  it('picks up configuration changes in a new environment', async () => {
    await create('cfg', { 'index.js': `exports.handler = async () => process.env.VV ?? 'none';` });
    expect((await invoke('cfg')).json).toBe('none');
    await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'cfg', Environment: { Variables: { VV: 'two' } } }),
    );
    expect((await invoke('cfg')).json).toBe('two');
  });
});
