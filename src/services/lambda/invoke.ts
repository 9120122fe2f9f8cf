import { randomUUID } from 'node:crypto';
import type { Clock, Timer } from '../../core/clock.ts';
import type { RequestContext } from '../../core/context.ts';
import { AwsError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Storage } from '../../storage/types.ts';
import { taskRoot } from './code.ts';
import { invalidParam, throttled, tooLarge } from './errors.ts';
import type { FunctionSpec, InvokeOutcome, ProcessPool } from './executor/pool.ts';
import {
  ACCOUNT_CONCURRENCY,
  type FunctionRecord,
  type FunctionRepo,
  type FunctionVersion,
  functionArn,
  NODE_RUNTIMES,
  PROVIDED_RUNTIMES,
  parseFunctionName,
} from './functions.ts';

export const MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;
export const MAX_ASYNC_PAYLOAD = 1024 * 1024;
const ASYNC_QUEUE = 'lambda.async';
/** AWS retries a failed asynchronous invocation twice: after 1 minute, then after 2 more. */
const RETRY_DELAYS_MS = [60_000, 120_000];
const IN_FLIGHT_MS = 6 * 3600_000;

export interface InvokeResult {
  StatusCode: number;
  Payload?: Buffer;
  FunctionError?: string;
  LogResult?: string;
  ExecutedVersion?: string;
}

interface AsyncEvent {
  accountId: string;
  region: string;
  name: string;
  qualifier?: string;
  payload: string;
  requestId: string;
  attempt: number;
  dueAt: number;
}

export interface InvokeDeps {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  repo: FunctionRepo;
  pool: ProcessPool;
}

export function createInvoker(deps: InvokeDeps) {
  const { storage, clock, repo, pool } = deps;

  const spec = (f: FunctionRecord, v: FunctionVersion): FunctionSpec => {
    const runtime = v.runtime ?? '';
    if (!NODE_RUNTIMES.has(runtime) && !PROVIDED_RUNTIMES.has(runtime)) {
      throw new AwsError(
        'InvalidRuntimeException',
        `The runtime ${runtime} is not supported by Eddy yet: it runs ${[...NODE_RUNTIMES, ...PROVIDED_RUNTIMES].join(', ')}.`,
        502,
      );
    }
    return {
      accountId: f.accountId,
      region: f.region,
      name: f.name,
      version: v.version,
      revision: `${v.revisionId}/${v.code.sha256}`,
      runtime,
      handler: v.handler ?? '',
      timeout: v.timeout,
      memorySize: v.memorySize,
      environment: v.environment ?? {},
      taskRoot: taskRoot(storage, v.code),
      logGroup: v.logGroup ?? `/aws/lambda/${f.name}`,
      functionArn: functionArn(f),
    };
  };

  /** Admit one execution under the function's reserved concurrency (or the account's unreserved pool). */
  const admit = (f: FunctionRecord) => {
    if (f.reservedConcurrency !== undefined) {
      if (f.reservedConcurrency === 0 || pool.busyCount(f.accountId, f.region, f.name) >= f.reservedConcurrency)
        throw throttled('ReservedFunctionConcurrentInvocationLimitExceeded');
      return;
    }
    const reserved = repo.list(f.accountId, f.region).reduce((n, o) => n + (o.reservedConcurrency ?? 0), 0);
    if (pool.totalBusy(f.accountId, f.region) >= ACCOUNT_CONCURRENCY - reserved)
      throw throttled('ConcurrentInvocationLimitExceeded');
  };

  /** Run one synchronous invocation of a resolved version. */
  const run = async (
    f: FunctionRecord,
    v: FunctionVersion,
    invokedArn: string,
    payload: Buffer,
    requestId: string,
    clientContext?: string,
  ): Promise<InvokeOutcome> => {
    admit(f);
    return pool.invoke(spec(f, v), { requestId, payload, invokedArn, clientContext });
  };

  // ---- asynchronous invocations: a durable queue, retried twice on the clock -------------------
  let timer: Timer | undefined;
  let draining = false;
  let stopped = false;

  const schedule = () => {
    if (stopped) return;
    timer?.cancel();
    const next = storage.queue.nextVisibleAfter(ASYNC_QUEUE, clock.now());
    if (next !== undefined) timer = clock.at(next, drain);
  };

  function drain() {
    if (draining || stopped) return;
    draining = true;
    try {
      const now = clock.now();
      for (const row of storage.queue.visible(ASYNC_QUEUE, now, 100)) {
        const ev = JSON.parse(row.data) as AsyncEvent;
        storage.queue.update(ASYNC_QUEUE, row.id, now + IN_FLIGHT_MS);
        void runAsync(row.id, ev);
      }
    } finally {
      draining = false;
    }
    schedule();
  }

  const runAsync = async (id: string, ev: AsyncEvent) => {
    let failed = false;
    let retryAt: number | undefined;
    try {
      const f = repo.get(ev.accountId, ev.region, ev.name);
      if (!f) {
        storage.queue.remove(ASYNC_QUEUE, id);
        return;
      }
      const v = repo.resolve(f, ev.qualifier);
      const out = await run(f, v, functionArn(f, ev.qualifier), Buffer.from(ev.payload, 'base64'), ev.requestId);
      failed = out.functionError !== undefined;
    } catch (e) {
      if (e instanceof AwsError && e.code === 'TooManyRequestsException') retryAt = clock.now() + 1000;
      else failed = true;
    }
    if (stopped) return;
    if (retryAt !== undefined) {
      storage.queue.update(ASYNC_QUEUE, id, retryAt, JSON.stringify({ ...ev, dueAt: retryAt }));
    } else if (failed && ev.attempt < RETRY_DELAYS_MS.length) {
      const dueAt = clock.now() + RETRY_DELAYS_MS[ev.attempt];
      storage.queue.update(ASYNC_QUEUE, id, dueAt, JSON.stringify({ ...ev, attempt: ev.attempt + 1, dueAt }));
    } else {
      if (failed)
        deps.logger.warn(
          'asynchronous invocation failed after retries; discarded (no DLQ or on-failure destination yet)',
          { function: ev.name, requestId: ev.requestId },
        );
      storage.queue.remove(ASYNC_QUEUE, id);
    }
    schedule();
  };

  /** After a restart, in-flight events run again (at-least-once, as AWS). */
  const recover = () => {
    const now = clock.now();
    for (const row of storage.queue.visible(ASYNC_QUEUE, Number.MAX_SAFE_INTEGER, 10_000)) {
      const ev = JSON.parse(row.data) as AsyncEvent;
      if (row.visibleAt > ev.dueAt) storage.queue.update(ASYNC_QUEUE, row.id, Math.max(now, ev.dueAt));
    }
    schedule();
    queueMicrotask(drain);
  };

  const operation = async (
    input: {
      FunctionName: string;
      InvocationType?: string;
      LogType?: string;
      ClientContext?: string;
      Payload?: Buffer;
      Qualifier?: string;
      TenantId?: string;
      DurableExecutionName?: string;
    },
    ctx: RequestContext,
  ): Promise<InvokeResult> => {
    const payload = input.Payload ?? Buffer.from('{}');
    const type = input.InvocationType ?? 'RequestResponse';
    if (input.TenantId)
      throw invalidParam('TenantId (tenant isolation) is not supported by Eddy yet (see docs/services/lambda.md).');
    if (input.DurableExecutionName)
      throw invalidParam('Durable executions are not supported by Eddy yet (see docs/services/lambda.md).');
    if (type === 'RequestResponse' && payload.length > MAX_SYNC_PAYLOAD)
      throw tooLarge(`Request must be smaller than ${MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation`);
    if (type === 'Event' && payload.length > MAX_ASYNC_PAYLOAD)
      throw tooLarge(`Request must be smaller than ${MAX_ASYNC_PAYLOAD} bytes for the InvokeFunction operation`);
    const ref = parseFunctionName(input.FunctionName, ctx);
    if (ref.qualifier && input.Qualifier && ref.qualifier !== input.Qualifier)
      throw invalidParam('The derived qualifier from the function name does not match the specified qualifier.');
    const qualifier = input.Qualifier ?? ref.qualifier;
    const f = repo.require(ref, qualifier);
    const v = repo.resolve(f, qualifier);
    if (payload.length) {
      try {
        JSON.parse(payload.toString('utf8'));
      } catch {
        throw new AwsError(
          'InvalidRequestContentException',
          'Could not parse request body into json: Could not parse payload into json: Unexpected character: was expecting a JSON value',
          400,
        );
      }
    }
    if (type === 'DryRun') {
      spec(f, v);
      return { StatusCode: 204 };
    }
    if (type === 'Event') {
      spec(f, v);
      const now = clock.now();
      const ev: AsyncEvent = {
        accountId: f.accountId,
        region: f.region,
        name: f.name,
        qualifier,
        payload: payload.toString('base64'),
        requestId: ctx.requestId,
        attempt: 0,
        dueAt: now,
      };
      storage.tx(() => storage.queue.push(ASYNC_QUEUE, ctx.requestId, now, JSON.stringify(ev)));
      queueMicrotask(drain);
      return { StatusCode: 202 };
    }
    let clientContext: string | undefined;
    if (input.ClientContext) {
      if (input.ClientContext.length > 3583)
        throw invalidParam('Client context must be a base64-encoded JSON object of at most 3583 bytes.');
      clientContext = Buffer.from(input.ClientContext, 'base64').toString('utf8');
    }
    const out = await run(f, v, functionArn(f, qualifier), payload, ctx.requestId, clientContext);
    const result: InvokeResult = { StatusCode: 200, Payload: out.payload, ExecutedVersion: v.version };
    if (out.functionError) result.FunctionError = out.functionError;
    if (input.LogType === 'Tail') {
      const buf = Buffer.from(out.logText, 'utf8');
      result.LogResult = buf.subarray(Math.max(0, buf.length - 4096)).toString('base64');
    }
    return result;
  };

  return {
    operation,
    recover,
    /** For other services (event source mappings, destinations): invoke by ARN or name. */
    async invokeFunction(
      fn: string,
      payload: Buffer,
      opts: { accountId: string; region: string; qualifier?: string },
    ): Promise<InvokeResult> {
      const ref = parseFunctionName(fn, opts);
      const qualifier = opts.qualifier ?? ref.qualifier;
      const f = repo.require(ref, qualifier);
      const v = repo.resolve(f, qualifier);
      const out = await run(f, v, functionArn(f, qualifier), payload, randomUUID());
      return { StatusCode: 200, Payload: out.payload, FunctionError: out.functionError, ExecutedVersion: v.version };
    },
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}
