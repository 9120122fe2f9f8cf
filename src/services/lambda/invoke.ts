import { randomUUID } from 'node:crypto';
import type { Clock, Timer } from '../../core/clock.ts';
import type { RequestContext } from '../../core/context.ts';
import { AwsError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { MetricDatum, MetricsPort } from '../../core/ports.ts';
import type { Storage } from '../../storage/types.ts';
import { taskRoot } from './code.ts';
import { type EventInvokeConfig, invokeConfigFor } from './config-ops.ts';
import { invalidParam, throttled, tooLarge } from './errors.ts';
import type { DestinationPort } from './esm/types.ts';
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
  UNRESERVED_MIN,
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
  enqueuedAt?: number;
}

export interface InvokeDeps {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  repo: FunctionRepo;
  pool: ProcessPool;
  metrics?: MetricsPort;
  /** SQS (and later SNS, EventBridge) destinations and DLQs, once wired. */
  destinations?: () => DestinationPort | undefined;
}

export function createInvoker(deps: InvokeDeps) {
  const { storage, clock, repo, pool } = deps;
  /** AWS/Lambda metrics (Invocations, Errors, Duration, Throttles by FunctionName), once CloudWatch is wired. */
  const metric = (f: FunctionRecord, data: MetricDatum[]) => {
    try {
      deps.metrics?.put(f.accountId, f.region, 'AWS/Lambda', data);
    } catch (e) {
      deps.logger.warn('lambda: could not record metrics', { error: e instanceof Error ? e.message : String(e) });
    }
  };

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
      logFormat: v.logFormat,
      applicationLogLevel: v.applicationLogLevel,
      systemLogLevel: v.systemLogLevel,
      functionArn: functionArn(f),
      watchDir: v.code.kind === 'local' ? v.code.dir : undefined,
    };
  };

  /** Admit one execution under the function's reserved concurrency (or the account's unreserved pool). */
  const admit = (f: FunctionRecord) => {
    if (f.reservedConcurrency !== undefined) {
      if (f.reservedConcurrency === 0 || pool.busyCount(f.accountId, f.region, f.name) >= f.reservedConcurrency)
        throw throttled('ReservedFunctionConcurrentInvocationLimitExceeded');
      return;
    }
    // The unreserved pool is never below UNRESERVED_MIN: only read the other functions' reservations near it.
    const busy = pool.totalBusy(f.accountId, f.region);
    if (busy < UNRESERVED_MIN) return;
    const reserved = repo.list(f.accountId, f.region).reduce((n, o) => n + (o.reservedConcurrency ?? 0), 0);
    if (busy >= ACCOUNT_CONCURRENCY - reserved) throw throttled('ConcurrentInvocationLimitExceeded');
  };

  /**
   * Invocations running now, by `account\0region\0function` and by `account\0region` (all functions,
   * and functions without reserved concurrency under `…\0*unreserved`): ConcurrentExecutions.
   */
  const running = new Map<string, number>();
  const bump = (k: string, by: number) => {
    const n = (running.get(k) ?? 0) + by;
    if (n > 0) running.set(k, n);
    else running.delete(k);
    return n;
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
    const dims = [{ Name: 'FunctionName', Value: f.name }];
    try {
      admit(f);
    } catch (e) {
      metric(f, [
        { MetricName: 'Throttles', Value: 1, Unit: 'Count', Dimensions: dims },
        { MetricName: 'Throttles', Value: 1, Unit: 'Count' },
      ]);
      throw e;
    }
    const scope = `${f.accountId}\0${f.region}`;
    const fnKey = `${scope}\0${f.name}`;
    const unreserved = f.reservedConcurrency === undefined;
    // AWS reports the most executions running at once in the period (statistic Maximum): the count
    // including this one, as each starts; per function and across the account's functions.
    const started: MetricDatum[] = [
      { MetricName: 'ConcurrentExecutions', Value: bump(fnKey, 1), Unit: 'Count', Dimensions: dims },
      { MetricName: 'ConcurrentExecutions', Value: bump(scope, 1), Unit: 'Count' },
    ];
    if (unreserved)
      started.push({
        MetricName: 'UnreservedConcurrentExecutions',
        Value: bump(`${scope}\0*unreserved`, 1),
        Unit: 'Count',
      });
    metric(f, started);
    let out: InvokeOutcome;
    try {
      out = await pool.invoke(spec(f, v), { requestId, payload, invokedArn, clientContext });
    } finally {
      bump(fnKey, -1);
      bump(scope, -1);
      if (unreserved) bump(`${scope}\0*unreserved`, -1);
    }
    const errors = out.functionError ? 1 : 0;
    const duration = Math.round(out.durationMs * 100) / 100;
    // By FunctionName, and without dimensions (AWS's aggregate across the account's functions).
    metric(f, [
      { MetricName: 'Invocations', Value: 1, Unit: 'Count', Dimensions: dims },
      { MetricName: 'Errors', Value: errors, Unit: 'Count', Dimensions: dims },
      { MetricName: 'Duration', Value: duration, Unit: 'Milliseconds', Dimensions: dims },
      { MetricName: 'Invocations', Value: 1, Unit: 'Count' },
      { MetricName: 'Errors', Value: errors, Unit: 'Count' },
      { MetricName: 'Duration', Value: duration, Unit: 'Milliseconds' },
    ]);
    return out;
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

  /** Enqueue an asynchronous invocation (Invoke with Event, and Lambda destinations). */
  const enqueue = (ev: Omit<AsyncEvent, 'attempt' | 'dueAt' | 'enqueuedAt'>) => {
    const now = clock.now();
    const row: AsyncEvent = { ...ev, attempt: 0, dueAt: now, enqueuedAt: now };
    storage.tx(() => storage.queue.push(ASYNC_QUEUE, ev.requestId, now, JSON.stringify(row)));
    queueMicrotask(drain);
  };

  /**
   * Send an invocation record to an on-success/on-failure destination (or the payload to a DLQ).
   * False when the record could not be handed to a delivery path.
   */
  const deliver = (target: string, body: string, origin: Record<string, string>): boolean => {
    const fn = /^arn:aws[\w-]*:lambda:([^:]+):(\d{12}):function:([^:]+)(?::(.+))?$/.exec(target);
    if (fn) {
      enqueue({
        accountId: fn[2],
        region: fn[1],
        name: fn[3],
        qualifier: fn[4],
        payload: Buffer.from(body).toString('base64'),
        requestId: randomUUID(),
      });
      return true;
    }
    const port = deps.destinations?.();
    if (port?.accepts(target)) {
      port.send(target, body, origin);
      return true;
    }
    deps.logger.error('lambda: destination type not supported yet; record dropped', { target, ...origin });
    return false;
  };

  const runAsync = async (id: string, ev: AsyncEvent) => {
    let failed = false;
    let retryAt: number | undefined;
    let out: InvokeOutcome | undefined;
    let errorPayload: string | undefined;
    let f: FunctionRecord | undefined;
    const enqueuedAt = ev.enqueuedAt ?? ev.dueAt;
    let cfg: EventInvokeConfig | undefined;
    let expired = false;
    try {
      f = repo.get(ev.accountId, ev.region, ev.name);
      if (!f) {
        storage.queue.remove(ASYNC_QUEUE, id);
        return;
      }
      cfg = invokeConfigFor(f, ev.qualifier);
      const maxAge = (cfg?.MaximumEventAgeInSeconds ?? 21_600) * 1000;
      if (clock.now() - enqueuedAt > maxAge) expired = true;
      else {
        const v = repo.resolve(f, ev.qualifier);
        out = await run(f, v, functionArn(f, ev.qualifier), Buffer.from(ev.payload, 'base64'), ev.requestId);
        failed = out.functionError !== undefined;
      }
    } catch (e) {
      if (e instanceof AwsError && e.code === 'TooManyRequestsException') retryAt = clock.now() + 1000;
      else {
        failed = true;
        errorPayload = JSON.stringify({
          errorType: e instanceof AwsError ? e.code : 'Error',
          errorMessage: e instanceof Error ? e.message : String(e),
        });
      }
    }
    if (stopped) return;
    const maxAttempts = cfg?.MaximumRetryAttempts ?? RETRY_DELAYS_MS.length;
    const maxAge = (cfg?.MaximumEventAgeInSeconds ?? 21_600) * 1000;
    if (retryAt !== undefined && retryAt - enqueuedAt <= maxAge) {
      storage.queue.update(ASYNC_QUEUE, id, retryAt, JSON.stringify({ ...ev, dueAt: retryAt }));
    } else if (
      !expired &&
      failed &&
      ev.attempt < maxAttempts &&
      clock.now() + RETRY_DELAYS_MS[ev.attempt] - enqueuedAt <= maxAge
    ) {
      const dueAt = clock.now() + RETRY_DELAYS_MS[ev.attempt];
      storage.queue.update(ASYNC_QUEUE, id, dueAt, JSON.stringify({ ...ev, attempt: ev.attempt + 1, dueAt }));
    } else {
      const ok = !failed && !expired && retryAt === undefined;
      const condition = ok ? 'Success' : expired || retryAt !== undefined ? 'EventAgeExceeded' : 'RetriesExhausted';
      const target = ok
        ? cfg?.DestinationConfig?.OnSuccess?.Destination
        : cfg?.DestinationConfig?.OnFailure?.Destination;
      const dlq = !ok && f ? repo.resolve(f, ev.qualifier).deadLetterTarget : undefined;
      storage.tx(() => {
        if (target && f) {
          const responsePayload = out
            ? safeJson(out.payload)
            : errorPayload
              ? safeJson(Buffer.from(errorPayload))
              : undefined;
          const record = {
            version: '1.0',
            timestamp: new Date(clock.now()).toISOString(),
            requestContext: {
              requestId: ev.requestId,
              functionArn: functionArn(f, ev.qualifier ?? '$LATEST'),
              condition,
              approximateInvokeCount: ev.attempt + (expired ? 0 : 1),
            },
            requestPayload: safeJson(Buffer.from(ev.payload, 'base64')),
            responseContext: out
              ? {
                  statusCode: 200,
                  executedVersion: repo.resolve(f, ev.qualifier).version,
                  functionError: out.functionError,
                }
              : undefined,
            responsePayload,
          };
          deliver(target, JSON.stringify(record), { requestId: ev.requestId, condition });
        }
        if (dlq && f) {
          const msg = out ? safeJson(out.payload) : undefined;
          let handed = false;
          try {
            // `deadLetterFor` lets the delivery path count DeadLetterErrors when the DLQ refuses it later.
            handed = deliver(dlq, Buffer.from(ev.payload, 'base64').toString('utf8'), {
              RequestID: ev.requestId,
              ErrorCode: '200',
              ErrorMessage: String((msg as { errorMessage?: string } | undefined)?.errorMessage ?? condition),
              deadLetterFor: functionArn(f),
            });
          } catch (e) {
            deps.logger.error('lambda: could not write the event to its dead-letter queue', {
              function: ev.name,
              dlq,
              error: e instanceof Error ? e.message : String(e),
            });
          }
          if (!handed)
            metric(f, [
              {
                MetricName: 'DeadLetterErrors',
                Value: 1,
                Unit: 'Count',
                Dimensions: [{ Name: 'FunctionName', Value: f.name }],
              },
            ]);
        }
        storage.queue.remove(ASYNC_QUEUE, id);
      });
      if (!ok && !target && !dlq) {
        deps.logger.warn('asynchronous invocation failed; discarded (no DLQ or on-failure destination configured)', {
          function: ev.name,
          requestId: ev.requestId,
          condition,
        });
      }
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
      enqueue({
        accountId: f.accountId,
        region: f.region,
        name: f.name,
        qualifier,
        payload: payload.toString('base64'),
        requestId: ctx.requestId,
      });
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

function safeJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return b.toString('utf8');
  }
}
