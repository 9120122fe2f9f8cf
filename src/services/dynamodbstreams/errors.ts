import { AwsError } from '../../core/errors.ts';

const NS = 'com.amazonaws.dynamodb.v20120810#';

const err = (code: string, message: string) => new AwsError(code, message, 400, { type: NS + code });

export const streamNotFound = (arn: string) =>
  err('ResourceNotFoundException', `Requested resource not found: Stream: ${arn} not found`);
export const shardNotFound = (shardId: string, arn: string) =>
  err('ResourceNotFoundException', `Requested resource not found: Shard: ${shardId} in Stream: ${arn} not found`);
export const expiredIterator = () =>
  err('ExpiredIteratorException', 'The provided iterator exceeds the maximum age allowed.');
export const trimmed = () => err('TrimmedDataAccessException', 'The data you are trying to access has been trimmed.');
export const limitExceeded = (message: string) => err('LimitExceededException', message);
export const validation = (message: string) =>
  new AwsError('ValidationException', message, 400, { type: 'com.amazon.coral.validate#ValidationException' });

/** AWS's wording for one failed constraint. */
export const constraint = (value: unknown, member: string, rule: string) =>
  validation(`1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${rule}`);
