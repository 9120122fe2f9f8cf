import type { RequestContext } from '../../core/context.ts';
import type { BucketRecord, ObjectRecord } from './store.ts';

/** Bucket event notifications: validated on PutBucketNotificationConfiguration, emitted inside the writing transaction. */
export interface S3Notifier {
  validate(cfg: Record<string, any>, bucket: BucketRecord): void;
  objectEvent(bucket: BucketRecord, event: string, record: ObjectRecord, ctx: RequestContext): void;
  forget(bucket: string): void;
}
