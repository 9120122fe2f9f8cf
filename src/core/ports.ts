/**
 * Typed ports between services. A service depends on these interfaces; `integrations/` implements
 * them. Services never import each other.
 */

import type { Storage } from '../storage/types.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';

/** What every service factory receives from the composition root. */
export interface ServiceDeps {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  /** The endpoint clients (and function processes) reach Eddy at; known once the server listens. */
  endpoint(): string;
}

/** A change to one DynamoDB item, reported inside the writing transaction (the Streams writer consumes it). */
export interface ItemChange {
  accountId: string;
  region: string;
  tableName: string;
  /** Key attributes of the item (AttributeValue map). */
  keys: Record<string, unknown>;
  oldImage?: Record<string, unknown>;
  newImage?: Record<string, unknown>;
  /** Set for changes made by the service itself (TTL expiry). */
  userIdentity?: { type: 'Service'; principalId: string };
}

export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

/** The table facts a stream needs. */
export interface StreamTableInfo {
  accountId: string;
  region: string;
  tableName: string;
  /** The table's KeySchema as DescribeTable shows it. */
  keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  viewType: StreamViewType;
}

/**
 * DynamoDB → DynamoDB Streams. DynamoDB calls these inside its own transactions, so a change and
 * its stream record commit together.
 */
export interface StreamsPort {
  /** A stream was enabled (CreateTable/UpdateTable): create it and return its ARN and label. */
  enableStream(table: StreamTableInfo, nowMs: number): { streamArn: string; streamLabel: string };
  /** The stream was disabled (UpdateTable) or its table deleted: close it (readable for 24 h). */
  disableStream(streamArn: string, nowMs: number): void;
  /** Append the record for one real change (callers never report no-op writes). */
  recordChange(streamArn: string, change: ItemChange, nowMs: number): void;
}

/** Services → CloudWatch Logs: append events to a group's stream, creating the group and stream as needed. */
export interface LogsPort {
  append(
    target: { accountId: string; region: string; group: string; stream: string },
    events: { timestamp: number; message: string }[],
  ): void;
}

/** Lambda → S3: read a deployment package (`Code.S3Bucket`/`S3Key`). Throws S3's AwsError (NoSuchBucket, NoSuchKey…). */
export interface ObjectsPort {
  getObject(target: {
    accountId: string;
    region: string;
    bucket: string;
    key: string;
    versionId?: string;
  }): Promise<Buffer>;
}

/** One metric datum as PutMetricData takes it (timestamps as clock ms or Date; default: now). */
export interface MetricDatum {
  MetricName: string;
  Dimensions?: { Name: string; Value: string }[];
  Timestamp?: number | Date;
  Value?: number;
  Values?: number[];
  Counts?: number[];
  StatisticValues?: { SampleCount: number; Sum: number; Minimum: number; Maximum: number };
  /** A CloudWatch StandardUnit ('Count', 'Milliseconds', ...); 'None' when absent. */
  Unit?: string;
  /** 1 (high resolution) or 60 (default). */
  StorageResolution?: number;
}

/**
 * Services → CloudWatch metrics (AWS/Lambda, AWS/SQS, AWS/SNS, AWS/DynamoDB ... and EMF log lines).
 * Trusted callers: `AWS/` namespaces are allowed here (PutMetricData refuses them). Call it inside the
 * caller's transaction when the metric belongs to a write; it never throws for bad data (it logs and drops).
 */
export interface MetricsPort {
  put(accountId: string, region: string, namespace: string, metricData: MetricDatum[]): void;
  /**
   * A gauge CloudWatch samples once a minute on the clock (at each minute boundary), as AWS samples
   * queue depths: e.g. SQS's ApproximateNumberOfMessagesVisible per QueueName. Returns a function that
   * removes the gauge.
   */
  addGauge?(sample: (nowMs: number) => GaugeSample[]): () => void;
  /**
   * One log line in Embedded Metric Format (`_aws.CloudWatchMetrics`) → its metrics, as CloudWatch Logs
   * extracts them; `timestampMs` is the log event's time (used when the line has no `_aws.Timestamp`).
   * Returns how many datums it recorded (0 for a line that is not EMF).
   */
  putEmf?(accountId: string, region: string, logLine: string, timestampMs: number): number;
}

/** One account/region/namespace worth of gauge readings. */
export interface GaugeSample {
  accountId: string;
  region: string;
  namespace: string;
  metricData: MetricDatum[];
}
