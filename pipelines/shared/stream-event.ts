/** The DynamoDB Streams event Lambda delivers to a function (the shape AWS documents and sends). */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type Image = Record<string, AttributeValue>;

export interface DynamoDBStreamRecord {
  eventID?: string;
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventVersion?: string;
  eventSource?: string;
  awsRegion?: string;
  eventSourceARN?: string;
  /** Present on removals made by DynamoDB itself (TTL): `{ type: 'Service', principalId: 'dynamodb.amazonaws.com' }`. */
  userIdentity?: { type?: string; principalId?: string };
  dynamodb?: {
    /** Seconds since the epoch. */
    ApproximateCreationDateTime?: number;
    Keys?: Image;
    NewImage?: Image;
    OldImage?: Image;
    SequenceNumber?: string;
    SizeBytes?: number;
    StreamViewType?: 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
  };
}

export interface DynamoDBStreamEvent {
  Records: DynamoDBStreamRecord[];
}

/** A record that can never succeed, however often it is retried (bad shape or data). */
export class PoisonRecordError extends Error {
  override readonly name = 'PoisonRecordError';
}

/** `arn:aws:dynamodb:us-east-1:123456789012:table/NAME/stream/LABEL` -> `NAME`. */
export function tableNameFromStreamArn(arn: string | undefined): string | undefined {
  const m = /:table\/([^/]+)\/stream\//.exec(arn ?? '');
  return m?.[1];
}
