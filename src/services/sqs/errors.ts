import { AwsError } from '../../core/errors.ts';

/**
 * SQS errors as AWS sends them over both protocols. The JSON protocol carries the modelled shape name
 * in `__type` plus the query-protocol code in `x-amzn-query-error: <code>;Sender` (awsQueryCompatible);
 * the query codec answers with that query code.
 */
const QUERY_CODES: Record<string, [string, number]> = {
  BatchEntryIdsNotDistinct: ['AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 400],
  BatchRequestTooLong: ['AWS.SimpleQueueService.BatchRequestTooLong', 400],
  EmptyBatchRequest: ['AWS.SimpleQueueService.EmptyBatchRequest', 400],
  InvalidAddress: ['InvalidAddress', 404],
  InvalidBatchEntryId: ['AWS.SimpleQueueService.InvalidBatchEntryId', 400],
  InvalidSecurity: ['InvalidSecurity', 403],
  MessageNotInflight: ['AWS.SimpleQueueService.MessageNotInflight', 400],
  OverLimit: ['OverLimit', 403],
  PurgeQueueInProgress: ['AWS.SimpleQueueService.PurgeQueueInProgress', 403],
  QueueDeletedRecently: ['AWS.SimpleQueueService.QueueDeletedRecently', 400],
  QueueDoesNotExist: ['AWS.SimpleQueueService.NonExistentQueue', 400],
  QueueNameExists: ['QueueAlreadyExists', 400],
  ReceiptHandleIsInvalid: ['ReceiptHandleIsInvalid', 404],
  RequestThrottled: ['RequestThrottled', 403],
  ResourceNotFoundException: ['ResourceNotFoundException', 404],
  TooManyEntriesInBatchRequest: ['AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 400],
  UnsupportedOperation: ['AWS.SimpleQueueService.UnsupportedOperation', 400],
};

export function sqsError(code: string, message: string): AwsError {
  const [queryCode, status] = QUERY_CODES[code] ?? [code, 400];
  const err = new AwsError(code, message, status);
  err.headers = { 'x-amzn-query-error': `${queryCode};Sender` };
  return err;
}

export const queueDoesNotExist = () => sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
export const invalidParameter = (message: string) => sqsError('InvalidParameterValue', message);
export const missingParameter = (name: string) =>
  sqsError('MissingParameter', `The request must contain the parameter ${name}.`);
export const invalidAttributeValue = (name: string) =>
  sqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
export const invalidAttributeName = (name: string) => sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
export const unsupported = (what: string) =>
  sqsError('UnsupportedOperation', `${what} is not supported by Eddy (see docs/services/sqs.md).`);
