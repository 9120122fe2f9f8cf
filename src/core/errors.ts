/**
 * An error as AWS reports it. Services throw these; codecs turn them into each protocol's envelope.
 * `code` is the short AWS error code (e.g. `ValidationException`); `type` overrides the fully
 * qualified `__type` some JSON services send (DynamoDB uses `com.amazon.coral.validate#...`).
 */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  readonly sender: boolean;
  type?: string;
  /** Extra top-level members of the error body (e.g. CancellationReasons, Item). */
  extra?: Record<string, unknown>;
  /** Extra response headers (e.g. x-amzn-ErrorType). */
  headers?: Record<string, string>;

  constructor(
    code: string,
    message: string,
    status = 400,
    opts: { type?: string; extra?: Record<string, unknown>; sender?: boolean } = {},
  ) {
    super(message);
    this.code = code;
    this.status = status;
    this.sender = opts.sender ?? status < 500;
    this.type = opts.type;
    this.extra = opts.extra;
  }
}

/** The error every AWS service gives for a malformed or constraint-violating request. */
export const validation = (message: string) => new AwsError('ValidationException', message, 400);

export const serialization = (message: string) =>
  new AwsError('SerializationException', message, 400, { type: 'com.amazon.coral.service#SerializationException' });

export const unknownOperation = () =>
  new AwsError('UnknownOperationException', '', 400, { type: 'com.amazon.coral.service#UnknownOperationException' });

export const internalFailure = (
  message = 'The request processing has failed because of an unknown error, exception or failure.',
) => new AwsError('InternalFailure', message, 500);

export const isAwsError = (e: unknown): e is AwsError => e instanceof AwsError;
