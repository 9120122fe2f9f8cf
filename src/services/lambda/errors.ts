import { AwsError } from '../../core/errors.ts';

/** Lambda's own exceptions, as it reports them (`{"Type":"User","Message":...}` bodies). */
export const notFound = (arn: string) => new AwsError('ResourceNotFoundException', `Function not found: ${arn}`, 404);
export const invalidParam = (message: string) => new AwsError('InvalidParameterValueException', message, 400);
export const conflict = (message: string) => new AwsError('ResourceConflictException', message, 409);
export const preconditionFailed = (message: string) => new AwsError('PreconditionFailedException', message, 412);
export const tooLarge = (message: string) => new AwsError('RequestTooLargeException', message, 413);
export const unsupported = (what: string) =>
  new AwsError(
    'InvalidParameterValueException',
    `${what} is not supported by Eddy yet (see docs/services/lambda.md).`,
    400,
  );

export function throttled(reason: string): AwsError {
  const e = new AwsError('TooManyRequestsException', 'Rate Exceeded.', 429, {
    extra: { retryAfterSeconds: '1', Reason: reason },
  });
  e.headers = { 'retry-after': '1' };
  return e;
}
