/** AWS-shaped DynamoDB Streams events for the `messages` table, as Lambda delivers them. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent, DynamoDBStreamRecord, Image } from '../../shared/stream-event.ts';

export const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/messages/stream/2026-11-22T01:00:00.000';

let seq = 200000000000000000000n;

export function messageItem(
  id: string,
  author: string,
  content: string,
  replyTo?: string,
  extra: Record<string, AttributeValue> = {},
): Image {
  return {
    message_id: { S: id },
    author: { S: author },
    content: { S: content },
    timestamp: { S: '2026-11-22T01:53:53.000Z' },
    ...(replyTo ? { reply_to_message_id: { S: replyTo } } : {}),
    ...extra,
  };
}

export function streamRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  images: { old?: Image; new?: Image },
): DynamoDBStreamRecord {
  const image = (images.new ?? images.old)!;
  seq += 1n;
  const sequence = String(seq);
  return {
    eventID: `${sequence.slice(-8)}beef${eventName.toLowerCase()}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: 1795312433,
      Keys: { message_id: image.message_id },
      ...(images.new ? { NewImage: images.new } : {}),
      ...(images.old ? { OldImage: images.old } : {}),
      SequenceNumber: sequence,
      SizeBytes: 120,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: STREAM_ARN,
  };
}

export const batch = (...records: DynamoDBStreamRecord[]): DynamoDBStreamEvent => ({ Records: records });

export const context = () => ({
  awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
  functionName: 'message-stream-processor',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:message-stream-processor',
  memoryLimitInMB: '256',
});
