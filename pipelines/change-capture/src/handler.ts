/**
 * The user-activity stream processor: for every change on the table, write one JSON audit record to S3
 * (date-partitioned under `audit-logs/`), publish an SNS notification for the changes that matter, and
 * report partial batch failures so the event source mapping retries from the first failed record
 * (bisect, MaximumRetryAttempts, then the on-failure SQS dead-letter queue).
 *
 * AWS SDK v3 only (provided by the nodejs22.x runtime); endpoints and credentials come from the
 * environment, so the same bundle runs on AWS and on a local runtime that sets AWS_ENDPOINT_URL.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  type LambdaContext,
  Logger,
  Metrics,
  processStreamBatch,
  type StreamBatchResponse,
} from '../../shared/powertools.ts';
import { type DynamoDBStreamEvent, type DynamoDBStreamRecord, PoisonRecordError } from '../../shared/stream-event.ts';
import {
  auditKey,
  auditRecord,
  DEFAULT_SECURITY_ACTIVITY_TYPES,
  decideNotification,
  notificationPayload,
  parseChange,
} from './change.ts';

export interface HandlerConfig {
  topicArn: string;
  bucket: string;
  auditPrefix: string;
  securityTypes: ReadonlySet<string>;
  serviceName: string;
  metricsNamespace: string;
}

export interface Deps {
  s3: Pick<S3Client, 'send'>;
  sns: Pick<SNSClient, 'send'>;
  config: HandlerConfig;
  logger?: Logger;
  metrics?: Metrics;
  now?: () => Date;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): HandlerConfig {
  const types = env.NOTIFY_ACTIVITY_TYPES?.trim()
    ? env.NOTIFY_ACTIVITY_TYPES.split(',')
    : DEFAULT_SECURITY_ACTIVITY_TYPES;
  return {
    topicArn: required(env, 'TOPIC_ARN'),
    bucket: required(env, 'AUDIT_BUCKET'),
    auditPrefix: env.AUDIT_PREFIX || 'audit-logs',
    securityTypes: new Set(types.map((t) => t.trim().toUpperCase()).filter(Boolean)),
    serviceName: env.POWERTOOLS_SERVICE_NAME || 'change-capture',
    metricsNamespace: env.POWERTOOLS_METRICS_NAMESPACE || 'ChangeCapture',
  };
}

/** Sets become arrays and binary becomes base64, so audit JSON keeps every attribute. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Set) return [...value];
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function createHandler(deps: Deps | (() => Deps)) {
  let resolved: Deps | undefined;
  return async function handler(event: DynamoDBStreamEvent, context?: LambdaContext): Promise<StreamBatchResponse> {
    resolved ??= typeof deps === 'function' ? deps() : deps;
    const { s3, sns, config } = resolved;
    const now = resolved.now ?? (() => new Date());
    const logger = (resolved.logger ??= new Logger({ serviceName: config.serviceName }));
    const metrics = (resolved.metrics ??= new Metrics({
      namespace: config.metricsNamespace,
      serviceName: config.serviceName,
    }));
    logger.addContext(context);
    const records = event?.Records ?? [];
    logger.debug('Received batch', { records: records.length });
    let notified = 0;

    const handleRecord = async (record: DynamoDBStreamRecord) => {
      const change = parseChange(record, now);
      const decision = decideNotification(change, config.securityTypes);
      logger.info(`Processing ${change.eventName} record`, {
        eventId: change.eventId,
        sequenceNumber: change.sequenceNumber,
        userId: change.userId,
        activityId: change.activityId,
        activityType: change.activityType,
        notify: decision?.reason ?? null,
      });
      const key = auditKey(change, config.auditPrefix);
      const audit = auditRecord(change, decision, now());
      await s3.send(
        new PutObjectCommand({
          Bucket: config.bucket,
          Key: key,
          Body: JSON.stringify(audit, jsonReplacer),
          ContentType: 'application/json',
        }),
      );
      if (decision) {
        const { json, text, subject } = notificationPayload(change, decision, `s3://${config.bucket}/${key}`);
        const attrs: Record<string, { DataType: string; StringValue: string }> = {
          reason: { DataType: 'String', StringValue: decision.reason },
          severity: { DataType: 'String', StringValue: decision.severity },
          eventName: { DataType: 'String', StringValue: change.eventName },
        };
        if (change.activityType) attrs.activityType = { DataType: 'String', StringValue: change.activityType };
        await sns.send(
          new PublishCommand({
            TopicArn: config.topicArn,
            Subject: subject,
            MessageStructure: 'json',
            Message: JSON.stringify({ default: JSON.stringify(json), email: text }),
            MessageAttributes: attrs,
          }),
        );
        notified++;
      }
    };

    const outcome = await processStreamBatch(records, handleRecord, (record, error, deferred) => {
      logger.error(error instanceof PoisonRecordError ? 'Poison record' : 'Failed to process record', {
        eventId: record.eventID,
        eventName: record.eventName,
        sequenceNumber: record.dynamodb?.SequenceNumber,
        deferred,
        error,
      });
    });
    metrics.add('ProcessedEvents', 'Count', outcome.processed);
    metrics.add('FailedEvents', 'Count', outcome.failed);
    metrics.add('NotificationsPublished', 'Count', notified);
    metrics.flush(now().getTime());
    logger.info('Batch complete', {
      records: records.length,
      processed: outcome.processed,
      failed: outcome.failed,
      deferred: outcome.deferred,
      notified,
    });
    return outcome.response;
  };
}

/** The Lambda entry point (`index.handler` in the bundle): clients built once per environment. */
export const handler = createHandler(() => ({
  s3: new S3Client({}),
  sns: new SNSClient({}),
  config: configFromEnv(),
}));
