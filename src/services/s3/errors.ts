import { AwsError } from '../../core/errors.ts';

export { AwsError as AwsErrorAlias };

/** S3's errors, with the codes, messages, statuses and extra elements AWS sends. */
const e = (code: string, message: string, status: number, extra?: Record<string, unknown>) =>
  new AwsError(code, message, status, { extra });

export const noSuchBucket = (bucket: string) =>
  e('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });
export const noSuchKey = (key: string) => e('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
export const noSuchVersion = (key: string, versionId: string) =>
  e('NoSuchVersion', 'The specified version does not exist.', 404, { Key: key, VersionId: versionId });
export const bucketAlreadyExists = (bucket: string) =>
  e(
    'BucketAlreadyExists',
    'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
    409,
    { BucketName: bucket },
  );
export const bucketAlreadyOwnedByYou = (bucket: string) =>
  e(
    'BucketAlreadyOwnedByYou',
    'Your previous request to create the named bucket succeeded and you already own it.',
    409,
    { BucketName: bucket },
  );
export const bucketNotEmpty = (bucket: string) =>
  e('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { BucketName: bucket });
export const invalidBucketName = (bucket: string) =>
  e('InvalidBucketName', 'The specified bucket is not valid.', 400, { BucketName: bucket });
export const invalidArgument = (message: string, name?: string, value?: unknown) =>
  e(
    'InvalidArgument',
    message,
    400,
    name === undefined
      ? undefined
      : { ArgumentName: name, ArgumentValue: value === undefined ? undefined : String(value) },
  );
export const invalidRequest = (message: string) => e('InvalidRequest', message, 400);
export const invalidRange = (range: string, size: number) =>
  e('InvalidRange', 'The requested range is not satisfiable', 416, { RangeRequested: range, ActualObjectSize: size });
export const preconditionFailed = (condition: string) =>
  e('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, {
    Condition: condition,
  });
export const notModified = () => e('NotModified', 'Not Modified', 304);
export const noSuchUpload = (uploadId: string) =>
  e(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    404,
    {
      UploadId: uploadId,
    },
  );
export const invalidPart = (partNumber: number, etag?: string) =>
  e(
    'InvalidPart',
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    400,
    { PartNumber: partNumber, ETag: etag },
  );
export const invalidPartOrder = () =>
  e('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', 400);
export const entityTooSmall = (size: number, partNumber: number, etag: string) =>
  e('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', 400, {
    ProposedSize: size,
    MinSizeAllowed: 5 * 1024 * 1024,
    PartNumber: partNumber,
    ETag: etag.replace(/"/g, ''),
  });
export const badDigest = (alg: string) =>
  e('BadDigest', `The ${alg} you specified did not match the calculated checksum.`, 400);
export const incompleteBody = () =>
  e('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header', 400);
export const malformedXml = () =>
  e('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
export const notImplemented = (what: string) =>
  e('NotImplemented', `${what} is not implemented by Eddy (see docs/services/s3.md)`, 501);
export const notImplementedHeader = (header: string) =>
  e('NotImplemented', 'A header you provided implies functionality that is not implemented', 501, { Header: header });
export const keyTooLong = (size: number) =>
  e('KeyTooLongError', 'Your key is too long', 400, { MaxSizeAllowed: 1024, Size: size });
export const noSuchTagSet = (bucket: string) =>
  e('NoSuchTagSet', 'The TagSet does not exist', 404, { BucketName: bucket });
export const noSuchConfig = (code: string, message: string, bucket: string) =>
  e(code, message, 404, { BucketName: bucket });
export const invalidTag = (message: string) => e('InvalidTag', message, 400);
