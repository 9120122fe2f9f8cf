import type { Detected, RawRequest } from './types.ts';

/** X-Amz-Target prefixes of the JSON services, from the models' metadata.targetPrefix. */
export const TARGET_PREFIXES: Record<string, string> = {
  DynamoDB_20120810: 'dynamodb',
  DynamoDBStreams_20120810: 'dynamodbstreams',
  AmazonSQS: 'sqs',
  Logs_20140328: 'logs',
  Kinesis_20131202: 'kinesis',
  AWSEvents: 'events',
  GraniteServiceVersion20100801: 'cloudwatch',
};

/** The service named in a SigV4 credential scope: `AKID/20260101/us-east-1/sts/aws4_request`. */
export function credentialScope(
  req: RawRequest,
): { accessKeyId: string; date: string; region: string; service: string } | undefined {
  const auth = req.headers.authorization;
  let cred: string | undefined;
  if (auth) cred = /Credential=([^,\s]+)/.exec(auth)?.[1];
  else cred = req.query.get('X-Amz-Credential') ?? undefined;
  if (!cred) return undefined;
  const [accessKeyId, date, region, service] = cred.split('/');
  if (!service) return undefined;
  return { accessKeyId, date, region, service };
}

/** Which service and protocol a request speaks: X-Amz-Target, then the path, then the credential scope. */
export function detect(req: RawRequest): Detected | undefined {
  const target = req.headers['x-amz-target'];
  if (target) {
    const dot = target.lastIndexOf('.');
    const service = TARGET_PREFIXES[dot > 0 ? target.slice(0, dot) : target];
    if (service) return { service, protocol: 'json', operation: target.slice(dot + 1) };
    return { service: 'unknown', protocol: 'json' };
  }
  const cbor = /^\/service\/([^/]+)\/operation\/([^/]+)$/.exec(req.path);
  if (cbor && req.headers['smithy-protocol'] === 'rpc-v2-cbor') {
    const service = TARGET_PREFIXES[cbor[1]];
    if (service) return { service, protocol: 'rpc-v2-cbor', operation: cbor[2] };
  }
  const scope = credentialScope(req);
  const contentType = req.headers['content-type'] ?? '';
  const isForm = contentType.startsWith('application/x-www-form-urlencoded');
  if (scope && QUERY_SERVICES.has(scope.service) && (isForm || req.query.has('Action'))) {
    // CloudWatch signs as `monitoring` (its endpoint prefix); Eddy serves it as `cloudwatch`.
    return { service: scope.service === 'monitoring' ? 'cloudwatch' : scope.service, protocol: 'query' };
  }
  if (!scope && (isForm || req.query.has('Action'))) {
    // Unsigned query call (e.g. `aws sts ... --no-sign-request`): infer from the action.
    const action = req.query.get('Action') ?? new URLSearchParams(req.body.toString()).get('Action') ?? '';
    if (action === 'GetCallerIdentity' || action === 'AssumeRole') return { service: 'sts', protocol: 'query' };
  }
  if (
    scope?.service === 'lambda' ||
    req.path.startsWith('/2015-03-31/') ||
    req.path.startsWith('/2017-03-31/') ||
    req.path.startsWith('/2016-08-19/')
  ) {
    return { service: 'lambda', protocol: 'rest-json' };
  }
  if (scope?.service === 's3') return { service: 's3', protocol: 'rest-xml' };
  // Unsigned virtual-hosted S3 (`bucket.s3.localhost:4566/key`, `bucket.localhost:4566/key`).
  if (!scope && virtualHostBucket(req.host) !== undefined) return { service: 's3', protocol: 'rest-xml' };
  return undefined;
}

/**
 * The bucket a virtual-hosted S3 request names in its Host: `bucket.s3.amazonaws.com`,
 * `bucket.s3.us-east-1.amazonaws.com`, `bucket.s3.localhost.localstack.cloud`, `bucket.s3.localhost:4566`,
 * `bucket.localhost:4566` (what the SDKs send with `forcePathStyle: false` against `http://localhost:4566`).
 * IP addresses and bare hosts are path-style.
 */
export function virtualHostBucket(host: string): string | undefined {
  let h = host.toLowerCase();
  if (h.startsWith('[')) return undefined;
  const colon = h.lastIndexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(h)) return undefined;
  const s3 =
    /^(.+?)\.s3(?:[.-][a-z0-9-]+)*\.(?:amazonaws\.com|localhost(?:\.localstack\.cloud)?)$/.exec(h) ??
    /^(.+?)\.s3\.[a-z0-9.-]+$/.exec(h);
  let bucket = s3?.[1];
  for (const base of ['.localhost.localstack.cloud', '.localhost'])
    if (!bucket && h.endsWith(base)) bucket = h.slice(0, -base.length);
  // `s3.localhost`, `s3.us-east-1.localhost.localstack.cloud`: the service host itself, path-style.
  if (!bucket || bucket === 's3' || /^s3[.-]/.test(bucket)) return undefined;
  return bucket;
}

const QUERY_SERVICES = new Set(['sts', 'sns', 'sqs', 'cloudformation', 'monitoring', 'iam', 'cloudwatch']);
