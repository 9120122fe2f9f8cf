/**
 * The `messages` table's items and the notifications made from them. Pure functions, no I/O.
 *
 * Item: message_id (S, partition key), author (S), content (S), timestamp (S, ISO-8601; sort key of
 * the author-index, partition key of the timestamp-index), reply_to_message_id (S, optional).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type DynamoDBStreamRecord, type Image, PoisonRecordError } from '../../shared/stream-event.ts';

export interface Message {
  message_id: string;
  author: string;
  content: string;
  timestamp?: string;
  reply_to_message_id?: string;
  [other: string]: unknown;
}

export type Parsed =
  | { action: 'notify'; message: Message; eventId: string; sequenceNumber: string }
  | { action: 'skip'; reason: string; sequenceNumber: string };

function str(image: Image, name: string, required: boolean): string | undefined {
  const v = image[name];
  if (v === undefined || v.NULL) {
    if (required) throw new PoisonRecordError(`message has no ${name}`);
    return undefined;
  }
  if (typeof v.S !== 'string' || (required && v.S.trim() === ''))
    throw new PoisonRecordError(`message ${name} must be a non-empty string (got ${JSON.stringify(v)})`);
  return v.S;
}

/** Any item image to a Message; throws PoisonRecordError when it is not one. */
export function messageFromImage(image: Image): Message {
  str(image, 'message_id', true);
  str(image, 'author', true);
  str(image, 'content', true);
  str(image, 'timestamp', false);
  const reply = str(image, 'reply_to_message_id', false);
  if (reply !== undefined && reply.trim() === '') throw new PoisonRecordError('reply_to_message_id is empty');
  try {
    return unmarshall(image as Record<string, AttributeValue>) as Message;
  } catch (e) {
    throw new PoisonRecordError(`message cannot be read: ${(e as Error).message}`);
  }
}

/** One notification per new message: INSERTs notify, edits and deletions do not. */
export function parseRecord(record: DynamoDBStreamRecord): Parsed {
  const sequenceNumber = record.dynamodb?.SequenceNumber;
  if (!sequenceNumber) throw new PoisonRecordError('stream record has no SequenceNumber');
  if (record.eventName === 'MODIFY' || record.eventName === 'REMOVE')
    return { action: 'skip', reason: `${record.eventName} is not a new message`, sequenceNumber };
  if (record.eventName !== 'INSERT')
    throw new PoisonRecordError(`unknown eventName ${JSON.stringify(record.eventName)}`);
  const image = record.dynamodb?.NewImage;
  if (!image) throw new PoisonRecordError('INSERT record has no NewImage');
  return {
    action: 'notify',
    message: messageFromImage(image),
    eventId: record.eventID ?? sequenceNumber,
    sequenceNumber,
  };
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

/**
 * The notification for a message. For a reply, `original` is the message it answers (null when it
 * no longer exists); the email text quotes it under the reply.
 */
export function notificationFor(message: Message, original: Message | null | undefined, eventId: string) {
  const isReply = message.reply_to_message_id !== undefined;
  const json = {
    type: isReply ? ('REPLY' as const) : ('NEW_MESSAGE' as const),
    message,
    ...(isReply ? { original: original ?? null } : {}),
    eventId,
  };
  const when = (m: Message) => (m.timestamp ? ` at ${m.timestamp}` : '');
  const lines = isReply
    ? [
        original
          ? `${message.author} replied to ${original.author}${when(message)}:`
          : `${message.author} replied${when(message)}:`,
        indent(message.content),
        '',
        original
          ? `In reply to ${original.author}${when(original)}:`
          : `In reply to message ${message.reply_to_message_id} (no longer available)`,
        ...(original ? [indent(original.content)] : []),
      ]
    : [`${message.author} wrote${when(message)}:`, indent(message.content)];
  lines.push('', `Message id: ${message.message_id}`);
  const subject = (
    isReply
      ? original
        ? `Reply from ${message.author} to ${original.author}`
        : `Reply from ${message.author}`
      : `New message from ${message.author}`
  )
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 100);
  return { json, text: lines.join('\n'), subject };
}
