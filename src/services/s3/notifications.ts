import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../core/context.ts';
import * as E from './errors.ts';
import type { BucketRecord, ObjectRecord } from './store.ts';

/** Bucket event notifications: validated on PutBucketNotificationConfiguration, emitted inside the writing transaction. */
export interface S3Notifier {
  validate(cfg: Record<string, any>, bucket: BucketRecord, ctx?: RequestContext): void;
  objectEvent(bucket: BucketRecord, event: string, record: ObjectRecord, ctx: RequestContext): void;
  forget(bucket: string): void;
}

/**
 * The one delivery path as S3 sees it (the transactional outbox in integrations/; same shape as
 * the SNS delivery port): `deliver` inside the caller's transaction, delivered after commit.
 */
export interface S3DeliveryPort {
  deliver(target: string, message: { body: string; subject?: string; origin?: Record<string, string> }): void;
}

const EVENTS = [
  's3:ObjectCreated:*',
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:*',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
  's3:LifecycleExpiration:*',
  's3:LifecycleExpiration:Delete',
  's3:LifecycleExpiration:DeleteMarkerCreated',
  's3:ObjectTagging:*',
  's3:ObjectTagging:Put',
  's3:ObjectTagging:Delete',
  's3:ObjectRestore:*',
  's3:ObjectRestore:Post',
  's3:ObjectRestore:Completed',
  's3:ObjectRestore:Delete',
  's3:ReducedRedundancyLostObject',
  's3:Replication:*',
  's3:IntelligentTiering',
  's3:ObjectAcl:Put',
  's3:LifecycleTransition',
];

const KINDS = [
  { list: 'QueueConfigurations', arn: 'QueueArn', service: 'sqs' },
  { list: 'TopicConfigurations', arn: 'TopicArn', service: 'sns' },
  { list: 'LambdaFunctionConfigurations', arn: 'LambdaFunctionArn', service: 'lambda' },
] as const;

/** `ObjectCreated:Put` matches `s3:ObjectCreated:*` and `s3:ObjectCreated:Put`. */
function eventMatches(configured: string[], event: string): boolean {
  const full = `s3:${event}`;
  const family = `${full.slice(0, full.lastIndexOf(':'))}:*`;
  return configured.includes(full) || configured.includes(family);
}

function keyMatches(filter: Record<string, any> | undefined, key: string): boolean {
  for (const r of (filter?.Key?.FilterRules ?? []) as { Name: string; Value: string }[]) {
    const name = String(r.Name).toLowerCase();
    if (name === 'prefix' && !key.startsWith(r.Value ?? '')) return false;
    if (name === 'suffix' && !key.endsWith(r.Value ?? '')) return false;
  }
  return true;
}

/** Keys in event records are URL-encoded as S3 does (spaces as '+'). */
function encodeKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const invalidDestination = (arn: string, why: string) =>
  new E.AwsErrorAlias('InvalidArgument', 'Unable to validate the following destination configurations', 400, {
    extra: { ArgumentName1: arn, ArgumentValue1: why },
  });

export function createNotifier(delivery: S3DeliveryPort): S3Notifier {
  return {
    validate(cfg, bucket, ctx) {
      for (const kind of KINDS) {
        for (const c of (cfg[kind.list] ?? []) as Record<string, any>[]) {
          const arn = String(c[kind.arn] ?? '');
          if (!new RegExp(`^arn:aws[\\w-]*:${kind.service}:[\\w-]+:\\d{12}:[\\w.:$-]+$`).test(arn))
            throw invalidDestination(arn, 'The destination ARN is not valid');
          const events = (c.Events ?? []) as string[];
          if (!events.length) throw E.malformedXml();
          for (const e of events)
            if (!EVENTS.includes(e))
              throw new E.AwsErrorAlias('InvalidArgument', 'The event is not supported for notifications', 400, {
                extra: { ArgumentName: 'Event', ArgumentValue: e },
              });
          for (const r of (c.Filter?.Key?.FilterRules ?? []) as { Name: string }[]) {
            if (!['prefix', 'suffix'].includes(String(r.Name).toLowerCase())) {
              throw new E.AwsErrorAlias('InvalidArgument', 'filter rule name must be either prefix or suffix', 400, {
                extra: { ArgumentName: 'FilterRule.Name', ArgumentValue: r.Name },
              });
            }
          }
        }
      }
      // S3 sends a test event to each queue and topic destination when the configuration is set.
      const now = new Date(ctx?.clock.now() ?? 0).toISOString();
      const requestId = ctx?.requestId ?? randomBytes(8).toString('hex').toUpperCase();
      for (const kind of KINDS.slice(0, 2)) {
        for (const c of (cfg[kind.list] ?? []) as Record<string, any>[]) {
          const body = JSON.stringify({
            Service: 'Amazon S3',
            Event: 's3:TestEvent',
            Time: now,
            Bucket: bucket.name,
            RequestId: requestId,
            HostId: Buffer.from(requestId).toString('base64'),
          });
          delivery.deliver(String(c[kind.arn]), {
            body,
            subject: 'Amazon S3 Notification',
            origin: { source: 's3', bucket: bucket.name, event: 's3:TestEvent' },
          });
        }
      }
    },

    objectEvent(bucket, event, record, ctx) {
      const cfg = bucket.notification;
      if (!cfg) return;
      for (const kind of KINDS) {
        for (const c of (cfg[kind.list] ?? []) as Record<string, any>[]) {
          if (!eventMatches(c.Events ?? [], event) || !keyMatches(c.Filter, record.key)) continue;
          const removed = event.startsWith('ObjectRemoved') || event.startsWith('LifecycleExpiration');
          const lifecycle = event.startsWith('LifecycleExpiration');
          const object: Record<string, unknown> = { key: encodeKey(record.key) };
          if (!removed) {
            object.size = record.size;
            object.eTag = record.etag.replace(/"/g, '');
          }
          if (bucket.versioning && record.versionId !== 'null') object.versionId = record.versionId;
          object.sequencer = record.seq.toString(16).toUpperCase().padStart(18, '0');
          const requestId = ctx.requestId.replace(/-/g, '').slice(0, 16).toUpperCase();
          const body = JSON.stringify({
            Records: [
              {
                eventVersion: '2.1',
                eventSource: 'aws:s3',
                awsRegion: bucket.region,
                eventTime: new Date(ctx.clock.now()).toISOString(),
                eventName: event,
                userIdentity: {
                  principalId: lifecycle ? 's3.amazonaws.com' : `AWS:${ctx.accessKeyId ?? ctx.accountId}`,
                },
                requestParameters: { sourceIPAddress: lifecycle ? 's3.amazonaws.com' : '127.0.0.1' },
                responseElements: {
                  'x-amz-request-id': requestId,
                  'x-amz-id-2': Buffer.from(requestId).toString('base64'),
                },
                s3: {
                  s3SchemaVersion: '1.0',
                  configurationId: c.Id,
                  bucket: {
                    name: bucket.name,
                    ownerIdentity: { principalId: bucket.account },
                    arn: `arn:aws:s3:::${bucket.name}`,
                  },
                  object,
                },
              },
            ],
          });
          delivery.deliver(String(c[kind.arn]), {
            body,
            subject: 'Amazon S3 Notification',
            origin: { source: 's3', bucket: bucket.name, event },
          });
        }
      }
    },

    forget() {},
  };
}
