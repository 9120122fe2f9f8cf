// AWS/Lambda metrics Eddy emits from its invoke path: ConcurrentExecutions (per function and across the
// account), Invocations / Errors / Duration / Throttles, and DeadLetterErrors when a DLQ refuses an event.
import { CloudWatchClient, GetMetricStatisticsCommand, type Statistic } from '@aws-sdk/client-cloudwatch';
import {
  CreateFunctionCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../src/core/zip.ts';
import { type Eddy, startEddy, VirtualClock } from '../src/index.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 10);
const clock = new VirtualClock(T0);
const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
let eddy: Eddy;
let cw: CloudWatchClient;
let lambda: LambdaClient;
let cfg: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, clock, logLevel: 'silent' });
  cfg = {
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  cw = new CloudWatchClient(cfg);
  lambda = new LambdaClient(cfg);
});
afterAll(async () => {
  cw.destroy();
  lambda.destroy();
  await eddy.stop();
});

async function stat(MetricName: string, fn: string | undefined, statistic: Statistic = 'Sum') {
  const r = await cw.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/Lambda',
      MetricName,
      Dimensions: fn ? [{ Name: 'FunctionName', Value: fn }] : undefined,
      StartTime: new Date(T0 - 600_000),
      EndTime: new Date(T0 + 600_000),
      Period: 600,
      Statistics: [statistic],
    }),
  );
  const d = r.Datapoints?.[0];
  return d ? { value: d[statistic], unit: d.Unit } : undefined;
}

const create = (FunctionName: string, src: string, extra: Record<string, unknown> = {}) =>
  lambda.send(
    new CreateFunctionCommand({
      FunctionName,
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: writeZip([{ name: 'index.js', data: src }]) },
      ...extra,
    }),
  );
const invoke = (FunctionName: string, payload: unknown) =>
  lambda.send(new InvokeCommand({ FunctionName, Payload: Buffer.from(JSON.stringify(payload)) }));

describe('AWS/Lambda metrics', () => {
  it('ConcurrentExecutions is the most executions running at once (statistic Maximum)', async () => {
    await create(
      'sleepy',
      `exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms)); return e.ms; };`,
    );
    await invoke('sleepy', { ms: 0 });
    expect(await stat('ConcurrentExecutions', 'sleepy', 'Maximum')).toEqual({ value: 1, unit: 'Count' });
    expect(await stat('ConcurrentExecutions', undefined, 'Maximum')).toEqual({ value: 1, unit: 'Count' });
    expect(await stat('UnreservedConcurrentExecutions', undefined, 'Maximum')).toEqual({ value: 1, unit: 'Count' });

    const both = await Promise.all([invoke('sleepy', { ms: 1000 }), invoke('sleepy', { ms: 1000 })]);
    expect(both.map((r) => r.FunctionError)).toEqual([undefined, undefined]);
    expect(await stat('ConcurrentExecutions', 'sleepy', 'Maximum')).toEqual({ value: 2, unit: 'Count' });
    expect(await stat('ConcurrentExecutions', undefined, 'Maximum')).toEqual({ value: 2, unit: 'Count' });
    // The other invocation metrics, by function and across the account, in AWS's units.
    expect(await stat('Invocations', 'sleepy')).toEqual({ value: 3, unit: 'Count' });
    expect(await stat('Invocations', undefined)).toEqual({ value: 3, unit: 'Count' });
    expect(await stat('Errors', 'sleepy')).toEqual({ value: 0, unit: 'Count' });
    const duration = await stat('Duration', 'sleepy', 'Maximum');
    expect(duration?.unit).toBe('Milliseconds');
    expect(duration!.value).toBeGreaterThanOrEqual(900);
  });

  it('Throttles, by function and across the account', async () => {
    await create('capped', 'exports.handler = async () => 1;');
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'capped', ReservedConcurrentExecutions: 0 }));
    // One attempt (the SDK retries throttles by default: each retry is throttled and counted too).
    const once = new LambdaClient({ ...cfg, maxAttempts: 1 });
    await expect(
      once.send(new InvokeCommand({ FunctionName: 'capped', Payload: Buffer.from('{}') })),
    ).rejects.toMatchObject({
      name: 'TooManyRequestsException',
    });
    once.destroy();
    expect(await stat('Throttles', 'capped')).toEqual({ value: 1, unit: 'Count' });
    expect(await stat('Throttles', undefined)).toEqual({ value: 1, unit: 'Count' });
  });

  it('DeadLetterErrors when a failed asynchronous event cannot be written to its DLQ', async () => {
    await create('doomed', `exports.handler = async () => { throw new Error('no'); };`, {
      DeadLetterConfig: { TargetArn: 'arn:aws:sqs:us-east-1:000000000000:missing-dlq' },
    });
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'doomed', MaximumRetryAttempts: 0 }));
    const r = await lambda.send(
      new InvokeCommand({ FunctionName: 'doomed', InvocationType: 'Event', Payload: Buffer.from('{}') }),
    );
    expect(r.StatusCode).toBe(202);
    // The event runs, fails, and (no retries) is handed to the delivery path for its DLQ.
    while (eddy.storage.queue.get('lambda.async', r.$metadata.requestId!))
      await new Promise((res) => setImmediate(res));
    expect(await stat('Errors', 'doomed')).toEqual({ value: 1, unit: 'Count' });
    expect(await stat('DeadLetterErrors', 'doomed')).toBeUndefined();
    // The queue does not exist: after the delivery path's retries (1, 5, 20 s) the write is given up.
    await clock.advance(30_000);
    expect(await stat('DeadLetterErrors', 'doomed')).toEqual({ value: 1, unit: 'Count' });
  });
});
