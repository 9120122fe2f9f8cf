/** AWS-shaped DynamoDB Streams events for the user-activity table, as Lambda delivers them. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent, DynamoDBStreamRecord, Image } from '../../shared/stream-event.ts';

export const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/user-activity';
export const STREAM_ARN = `${TABLE_ARN}/stream/2026-11-22T01:00:00.000`;
/** 2026-11-22T01:53:53Z */
export const EVENT_TIME = 1795312433;

let seq = 100000000000000000000n;

export function activity(userId: string, activityId: string, extra: Record<string, AttributeValue> = {}): Image {
  return { UserId: { S: userId }, ActivityId: { S: activityId }, ...extra };
}

export function streamRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  images: { old?: Image; new?: Image },
  opts: { ttl?: boolean; time?: number } = {},
): DynamoDBStreamRecord {
  const image = (images.new ?? images.old)!;
  seq += 1n;
  const sequence = String(seq);
  const record: DynamoDBStreamRecord = {
    eventID: `${sequence.slice(-8)}c0ffee${eventName.toLowerCase()}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: opts.time ?? EVENT_TIME,
      Keys: { UserId: image.UserId, ActivityId: image.ActivityId },
      ...(images.new ? { NewImage: images.new } : {}),
      ...(images.old ? { OldImage: images.old } : {}),
      SequenceNumber: sequence,
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: STREAM_ARN,
  };
  if (opts.ttl) record.userIdentity = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };
  return record;
}

export const batch = (...records: DynamoDBStreamRecord[]): DynamoDBStreamEvent => ({ Records: records });

export const context = (name = 'stream-processor-test') => ({
  awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
  functionName: name,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
  memoryLimitInMB: '256',
  getRemainingTimeInMillis: () => 60_000,
});
