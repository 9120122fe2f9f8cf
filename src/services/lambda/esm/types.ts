/**
 * Event source mappings: the stored mapping, and the ports the engine reads sources and writes
 * destinations through. The ports are implemented in `integrations/esm-sources.ts` (services never
 * import each other); Kinesis plugs in later as another `StreamSource`.
 */

export type SourceKind = 'dynamodb' | 'kinesis' | 'sqs';
export type MappingState = 'Creating' | 'Enabling' | 'Enabled' | 'Disabling' | 'Disabled' | 'Updating' | 'Deleting';

/** One mapping as stored (kv `lambda.esm`, key = UUID). */
export interface MappingRecord {
  uuid: string;
  accountId: string;
  region: string;
  /** The function's ARN, with the qualifier when the mapping names one. */
  functionArn: string;
  eventSourceArn: string;
  kind: SourceKind;
  batchSize: number;
  windowSeconds: number;
  parallelization?: number;
  startingPosition?: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  startingPositionTimestamp?: number;
  onFailure?: string;
  maxRecordAge?: number;
  bisect?: boolean;
  maxRetry?: number;
  tumblingSeconds?: number;
  reportBatchItemFailures: boolean;
  /** FilterCriteria.Filters[].Pattern as given. */
  filters?: string[];
  maxConcurrency?: number;
  /** What the user asked for. */
  enabled: boolean;
  state: MappingState;
  stateReason: string;
  lastProcessingResult: string;
  lastModified: number;
  tags?: Record<string, string>;
}

/** Per-shard progress (kv `lambda.esm.cp`, key = `<uuid>\0<shardId>`). */
export interface Checkpoint {
  /** Next position to read (every record before it is processed, filtered out, or discarded). */
  next: string;
  /** The shard is closed and fully processed. */
  done?: boolean;
  /** Tumbling windows: per lane, the open window and the state the function returned. */
  windows?: Record<string, { start: number; state: unknown }>;
}

export interface ShardInfo {
  shardId: string;
  parents: string[];
  /** Set when the shard is closed: its last position. */
  endSeq?: bigint;
}

/** One record read from a stream, with the record as the function receives it. */
export interface SourceRecord {
  seq: bigint;
  /** Clock time the record was appended (ms). */
  at: number;
  /** The record as it appears in the event's `Records` (eventSourceARN included). */
  record: Record<string, unknown>;
  /** `record` serialized (the event is built from these) and its size in bytes. */
  json: string;
  size: number;
  /** Ordering key under ParallelizationFactor (item key / partition key). */
  key: string;
  /** Wire sequence number (itemIdentifier in batchItemFailures). */
  sequenceNumber: string;
}

/** A stream source (DynamoDB Streams now, Kinesis later) read straight from the ordered log. */
export interface StreamSource {
  kind: 'dynamodb' | 'kinesis';
  accepts(arn: string): boolean;
  exists(arn: string, now: number): boolean;
  /** The stream's shards, or undefined when the stream is gone. */
  shards(arn: string, now: number): ShardInfo[] | undefined;
  trimHorizon(arn: string, shardId: string, now: number): bigint | undefined;
  latest(arn: string, shardId: string): bigint | undefined;
  read(arn: string, shardId: string, from: bigint, limit: number, now: number): SourceRecord[];
  /** Wake the consumer on appends and shard closes (called after the writing transaction). */
  subscribe(arn: string, cb: (shardId: string) => void): () => void;
  /** Records older than this are gone from the stream (retention). */
  retentionMs: number;
}

/** A message received from a queue source, as the SQS API returns it. */
export interface QueueMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
}

/** A queue source (SQS), through the queue service's own receive/delete (its long polls, its redrive). */
export interface QueueSource {
  accepts(arn: string): boolean;
  exists(arn: string): boolean;
  isFifo(arn: string): boolean;
  /** The queue's VisibilityTimeout, seconds. */
  visibilityTimeout(arn: string): number;
  /** Receive up to 10 messages, long-polling up to `waitSeconds` (woken by sends). */
  receive(arn: string, max: number, waitSeconds: number): Promise<QueueMessage[]>;
  delete(arn: string, receiptHandles: string[]): void;
  /** Make messages visible again now (a stopping poller hands back what it has not invoked). */
  release(arn: string, receiptHandles: string[]): void;
}

/** On-failure destinations (the one delivery path). */
export interface DestinationPort {
  accepts(target: string): boolean;
  /** Deliver inside the caller's transaction; delivered after commit, at least once. */
  send(target: string, body: string, origin: Record<string, string>): void;
}

/** Object destinations (S3 buckets): the invocation record with the records themselves. */
export interface ObjectDestination {
  accepts(target: string): boolean;
  put(target: string, key: string, body: string, owner: { accountId: string; region: string }): Promise<void>;
}

/** CloudWatch metrics once they exist; a no-op until then. */
export interface EsmMetrics {
  iteratorAge(functionArn: string, uuid: string, ms: number): void;
  invocation(functionArn: string, uuid: string, ok: boolean): void;
}

export const noMetrics: EsmMetrics = { iteratorAge() {}, invocation() {} };

export interface EsmPorts {
  streams?: StreamSource[];
  queues?: QueueSource;
  destinations?: DestinationPort;
  objects?: ObjectDestination;
  metrics?: EsmMetrics;
}

export interface InvokeOutcome {
  StatusCode: number;
  Payload?: Buffer;
  FunctionError?: string;
  ExecutedVersion?: string;
}

export type Invoke = (
  functionArn: string,
  payload: Buffer,
  opts: { accountId: string; region: string },
) => Promise<InvokeOutcome>;
