/**
 * Powertools-style helpers, small enough to read in one sitting: a structured JSON logger, CloudWatch
 * Embedded Metric Format (EMF) metrics, and partial-batch processing for stream event sources.
 *
 * Everything here writes whole JSON lines to stdout with `process.stdout.write`, which the Lambda
 * runtime forwards to CloudWatch Logs unchanged (console.log would prefix them with a timestamp and
 * request id, which breaks EMF extraction). No dependency beyond Node itself.
 */

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const LEVELS: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

/** The part of the Lambda context object the helpers use. */
export interface LambdaContext {
  awsRequestId: string;
  functionName: string;
  functionVersion?: string;
  invokedFunctionArn?: string;
  memoryLimitInMB?: string;
  getRemainingTimeInMillis?(): number;
}

export type Sink = (line: string) => void;
const stdoutSink: Sink = (line) => {
  process.stdout.write(`${line}\n`);
};

function parseLevel(value: string | undefined, fallback: LogLevel): LogLevel {
  const v = value?.toUpperCase();
  return v && v in LEVELS ? (v as LogLevel) : fallback;
}

function errorFields(e: unknown): Record<string, unknown> {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { message: String(e) };
}

/** Powertools' log shape: level, message, timestamp, service, plus Lambda context keys once added. */
export class Logger {
  readonly serviceName: string;
  private readonly level: number;
  private readonly sink: Sink;
  private persistent: Record<string, unknown> = {};
  private coldStart = true;

  constructor(opts: { serviceName: string; level?: LogLevel; sink?: Sink }) {
    this.serviceName = opts.serviceName;
    this.level = LEVELS[opts.level ?? parseLevel(process.env.POWERTOOLS_LOG_LEVEL ?? process.env.LOG_LEVEL, 'INFO')];
    this.sink = opts.sink ?? stdoutSink;
  }

  /** Call once per invocation: request id, function name/ARN/memory and cold start go on every line. */
  addContext(ctx: LambdaContext | undefined): void {
    this.persistent = {
      cold_start: this.coldStart,
      function_name: ctx?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME,
      function_arn: ctx?.invokedFunctionArn,
      function_memory_size: ctx?.memoryLimitInMB ?? process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      function_request_id: ctx?.awsRequestId,
      xray_trace_id: process.env._X_AMZN_TRACE_ID,
    };
    this.coldStart = false;
  }

  debug(message: string, extra?: Record<string, unknown>): void {
    this.log('DEBUG', message, extra);
  }
  info(message: string, extra?: Record<string, unknown>): void {
    this.log('INFO', message, extra);
  }
  warn(message: string, extra?: Record<string, unknown>): void {
    this.log('WARN', message, extra);
  }
  error(message: string, extra?: Record<string, unknown> & { error?: unknown }): void {
    const { error, ...rest } = extra ?? {};
    this.log('ERROR', message, error === undefined ? rest : { ...rest, error: errorFields(error) });
  }

  private log(level: LogLevel, message: string, extra?: Record<string, unknown>): void {
    if (LEVELS[level] < this.level) return;
    const entry: Record<string, unknown> = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.serviceName,
      ...this.persistent,
      ...extra,
    };
    this.sink(JSON.stringify(entry, (_k, v) => (v === undefined ? undefined : v)));
  }
}

export type MetricUnit = 'Count' | 'Milliseconds' | 'Bytes' | 'None';

/**
 * Metrics in CloudWatch Embedded Metric Format: one JSON log line per flush, which CloudWatch Logs turns
 * into metrics in `namespace` with the `service` dimension (plus any default dimensions).
 */
export class Metrics {
  private readonly namespace: string;
  private readonly dimensions: Record<string, string>;
  private readonly sink: Sink;
  private values = new Map<string, { unit: MetricUnit; value: number }>();

  constructor(opts: {
    namespace: string;
    serviceName: string;
    defaultDimensions?: Record<string, string>;
    sink?: Sink;
  }) {
    this.namespace = opts.namespace;
    this.dimensions = { service: opts.serviceName, ...opts.defaultDimensions };
    this.sink = opts.sink ?? stdoutSink;
  }

  add(name: string, unit: MetricUnit, value: number): void {
    const prev = this.values.get(name);
    this.values.set(name, { unit, value: (prev?.value ?? 0) + value });
  }

  /** Write the EMF line and start over. Returns the document written (tests read it). */
  flush(now = Date.now()): Record<string, unknown> | undefined {
    if (this.values.size === 0) return undefined;
    const doc: Record<string, unknown> = {
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [
          {
            Namespace: this.namespace,
            Dimensions: [Object.keys(this.dimensions)],
            Metrics: [...this.values].map(([Name, m]) => ({ Name, Unit: m.unit })),
          },
        ],
      },
      ...this.dimensions,
    };
    for (const [name, m] of this.values) doc[name] = m.value;
    this.values = new Map();
    this.sink(JSON.stringify(doc));
    return doc;
  }
}

/** The response shape Lambda reads when the mapping has FunctionResponseTypes: ReportBatchItemFailures. */
export interface StreamBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export interface BatchOutcome {
  response: StreamBatchResponse;
  processed: number;
  failed: number;
  /** Records after the failure, left for Lambda's retry from the failed sequence number. */
  deferred: number;
}

/**
 * Process stream records in order, one at a time. On the first failure, stop: report that record's
 * sequence number and leave the rest unprocessed. Lambda checkpoints everything before it and retries
 * from it (with bisect, retries and the on-failure destination configured on the mapping), so per-key
 * order is kept and records after the failure are not applied twice. A record with no sequence number
 * fails the whole batch (an empty itemIdentifier means exactly that to Lambda).
 */
export async function processStreamBatch<R extends { dynamodb?: { SequenceNumber?: string } }>(
  records: readonly R[],
  handle: (record: R, index: number) => Promise<void>,
  onFailure: (record: R, error: unknown, deferred: number) => void,
): Promise<BatchOutcome> {
  let processed = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    try {
      await handle(record, i);
      processed++;
    } catch (error) {
      const deferred = records.length - i - 1;
      onFailure(record, error, deferred);
      return {
        response: { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] },
        processed,
        failed: 1,
        deferred,
      };
    }
  }
  return { response: { batchItemFailures: [] }, processed, failed: 0, deferred: 0 };
}
