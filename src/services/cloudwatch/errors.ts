import { AwsError } from '../../core/errors.ts';

/**
 * CloudWatch's errors. The service is awsQueryCompatible: JSON and CBOR bodies carry the shape id in
 * `__type` and the query code in `x-amzn-query-error` (`Code;Sender`), which the query codec uses.
 */
function cwError(shape: string, code: string, message: string, status = 400, sender = true): AwsError {
  const e = new AwsError(code, message, status, { type: `com.amazonaws.cloudwatch#${shape}`, sender });
  e.headers = { 'x-amzn-query-error': `${code};${sender ? 'Sender' : 'Receiver'}` };
  return e;
}

export const invalidParameterValue = (message: string) =>
  cwError('InvalidParameterValueException', 'InvalidParameterValue', message);
export const invalidParameterCombination = (message: string) =>
  cwError('InvalidParameterCombinationException', 'InvalidParameterCombination', message);
export const missingParameter = (message: string) =>
  cwError('MissingRequiredParameterException', 'MissingParameter', message);
export const resourceNotFound = (message: string) => cwError('ResourceNotFound', 'ResourceNotFound', message, 404);
export const dashboardNotFound = (message: string) =>
  cwError('DashboardNotFoundError', 'ResourceNotFound', message, 404);
export const dashboardInvalidInput = (message: string, details: { DataPath: string; Message: string }[]) => {
  const e = cwError('DashboardInvalidInputError', 'InvalidParameterInput', message);
  e.extra = { dashboardValidationMessages: details };
  return e;
};
export const invalidFormat = (message: string) => cwError('InvalidFormatFault', 'InvalidFormat', message);
export const invalidNextToken = (message = 'The service cannot process the NextToken.') =>
  cwError('InvalidNextToken', 'InvalidNextToken', message);
export const limitExceeded = (message: string) => cwError('LimitExceededFault', 'LimitExceeded', message);
/** Model constraint violations, as CloudWatch reports them (`ValidationError` in the query protocol). */
export const validationError = (message: string) => {
  const e = new AwsError('ValidationError', message, 400, { type: 'com.amazon.coral.validate#ValidationException' });
  e.headers = { 'x-amzn-query-error': 'ValidationError;Sender' };
  return e;
};
/** What Eddy does not implement, refused by name. */
export const unsupported = (what: string) =>
  invalidParameterValue(`${what} is not supported by Eddy's CloudWatch (see docs/services/cloudwatch.md).`);
