/**
 * The `message-stream-processor`: one SNS notification per new message on the `messages` table; for a
 * reply (`reply_to_message_id`), the original message is read from the table and included. Partial
 * batch failures let the event source mapping retry from the first failed record (bisect, retries,
 * then the on-failure SQS dead-letter queue).
 *
 * AWS SDK v3 only (provided by the nodejs22.x runtime); endpoint and credentials from the environment.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  type LambdaContext,
  Logger,
  Metrics,
  processStreamBatch,
  type StreamBatchResponse,
} from '../../shared/powertools.ts';
import { type DynamoDBStreamEvent, type DynamoDBStreamRecord, PoisonRecordError } from '../../shared/stream-event.ts';
import { type Message, messageFromImage, notificationFor, parseRecord } from './messages.ts';

export interface HandlerConfig {
  topicArn: string;
  tableName: string;
  serviceName: string;
  metricsNamespace: string;
}

export interface Deps {
  ddb: Pick<DynamoDBClient, 'send'>;
  sns: Pick<SNSClient, 'send'>;
  config: HandlerConfig;
  logger?: Logger;
  metrics?: Metrics;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): HandlerConfig {
  return {
    topicArn: required(env, 'SNS_TOPIC_ARN'),
    tableName: required(env, 'MESSAGES_TABLE'),
    serviceName: env.POWERTOOLS_SERVICE_NAME || 'message-notifications',
    metricsNamespace: env.POWERTOOLS_METRICS_NAMESPACE || 'MessageNotifications',
  };
}

export function createHandler(deps: Deps | (() => Deps)) {
  let resolved: Deps | undefined;
  return async function handler(event: DynamoDBStreamEvent, context?: LambdaContext): Promise<StreamBatchResponse> {
    resolved ??= typeof deps === 'function' ? deps() : deps;
    const { ddb, sns, config } = resolved;
    const logger = (resolved.logger ??= new Logger({ serviceName: config.serviceName }));
    const metrics = (resolved.metrics ??= new Metrics({
      namespace: config.metricsNamespace,
      serviceName: config.serviceName,
    }));
    logger.addContext(context);
    const records = event?.Records ?? [];
    let notified = 0;
    let skipped = 0;

    /** The message a reply answers, or null when it is gone (deleted, or never existed). */
    const original = async (id: string): Promise<Message | null> => {
      const out = await ddb.send(
        new GetItemCommand({ TableName: config.tableName, Key: { message_id: { S: id } }, ConsistentRead: true }),
      );
      if (!out.Item) return null;
      try {
        return messageFromImage(out.Item);
      } catch (e) {
        logger.warn('Original message is malformed; notifying without it', { originalId: id, error: String(e) });
        return null;
      }
    };

    const handleRecord = async (record: DynamoDBStreamRecord) => {
      const parsed = parseRecord(record);
      if (parsed.action === 'skip') {
        skipped++;
        logger.debug('Skipping record', { sequenceNumber: parsed.sequenceNumber, reason: parsed.reason });
        return;
      }
      const { message } = parsed;
      logger.info('Processing new message', {
        messageId: message.message_id,
        author: message.author,
        replyTo: message.reply_to_message_id,
        sequenceNumber: parsed.sequenceNumber,
      });
      const orig = message.reply_to_message_id ? await original(message.reply_to_message_id) : undefined;
      if (orig === null)
        logger.warn('Original message not found', {
          messageId: message.message_id,
          replyTo: message.reply_to_message_id,
        });
      const { json, text, subject } = notificationFor(message, orig, parsed.eventId);
      await sns.send(
        new PublishCommand({
          TopicArn: config.topicArn,
          Subject: subject,
          MessageStructure: 'json',
          Message: JSON.stringify({ default: JSON.stringify(json), email: text }),
          MessageAttributes: {
            type: { DataType: 'String', StringValue: json.type },
            author: { DataType: 'String', StringValue: message.author },
          },
        }),
      );
      notified++;
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
    metrics.flush();
    logger.info('Batch complete', {
      records: records.length,
      processed: outcome.processed,
      skipped,
      failed: outcome.failed,
      deferred: outcome.deferred,
      notified,
    });
    return outcome.response;
  };
}

/** The Lambda entry point (`index.handler` in the bundle): clients built once per environment. */
export const handler = createHandler(() => ({
  ddb: new DynamoDBClient({}),
  sns: new SNSClient({}),
  config: configFromEnv(),
}));
