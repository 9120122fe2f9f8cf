import { AwsError } from '../core/errors.ts';
import type { Detected, RawRequest } from '../protocol/types.ts';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export type AuthMode = 'off' | 'sigv4';

// The signer is loaded on the first verified request: `--auth off` never pays for it at startup.
let signing:
  | Promise<{
      Sha256: typeof import('@aws-crypto/sha256-js').Sha256;
      HttpRequest: typeof import('@smithy/protocol-http').HttpRequest;
      SignatureV4: typeof import('@smithy/signature-v4').SignatureV4;
    }>
  | undefined;
const loadSigning = () =>
  (signing ??= Promise.all([
    import('@aws-crypto/sha256-js'),
    import('@smithy/protocol-http'),
    import('@smithy/signature-v4'),
  ]).then(([a, b, c]) => ({
    Sha256: a.Sha256,
    HttpRequest: b.HttpRequest,
    SignatureV4: c.SignatureV4,
  })));

/** How far a request's X-Amz-Date may be from the server's time (AWS allows 5 minutes). */
const MAX_SKEW_MS = 5 * 60 * 1000;

/**
 * `--auth sigv4`: re-sign the request with the secret we hold for its access key and compare.
 * Errors follow each protocol family: JSON services answer 400 with `InvalidSignatureException` and
 * friends; query/XML services answer 403 with `SignatureDoesNotMatch` and friends.
 */
export async function verifySigV4(
  req: RawRequest,
  detected: Detected,
  credentials: Credentials[],
  nowMs: number,
): Promise<void> {
  const json = detected.protocol === 'json' || detected.protocol === 'rest-json' || detected.protocol === 'rpc-v2-cbor';
  const fail = (jsonCode: string, queryCode: string, message: string, jsonStatus = 400) =>
    new AwsError(json ? jsonCode : queryCode, message, json ? jsonStatus : 403);

  const auth = req.headers.authorization;
  const presigned = req.query.get('X-Amz-Signature');
  if (!auth && !presigned)
    throw fail(
      'MissingAuthenticationTokenException',
      'MissingAuthenticationToken',
      'Request is missing Authentication Token',
    );

  let accessKeyId: string;
  let scopeDate: string;
  let region: string;
  let service: string;
  let signedHeaders: string[];
  let signature: string;
  let amzDate: string | undefined;
  if (auth) {
    const m = /^AWS4-HMAC-SHA256\s+Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)\s*$/.exec(auth);
    if (!m) {
      throw fail(
        'IncompleteSignatureException',
        'IncompleteSignature',
        `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${auth}`,
      );
    }
    [accessKeyId, scopeDate, region, service] = m[1].split('/');
    signedHeaders = m[2].split(';');
    signature = m[3];
    amzDate = req.headers['x-amz-date'];
  } else {
    [accessKeyId, scopeDate, region, service] = (req.query.get('X-Amz-Credential') ?? '').split('/');
    signedHeaders = (req.query.get('X-Amz-SignedHeaders') ?? '').split(';');
    signature = presigned!;
    amzDate = req.query.get('X-Amz-Date') ?? undefined;
  }

  const cred = credentials.find((c) => c.accessKeyId === accessKeyId);
  if (!cred) {
    throw fail(
      'UnrecognizedClientException',
      'InvalidClientTokenId',
      'The security token included in the request is invalid.',
    );
  }
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
    throw fail(
      'IncompleteSignatureException',
      'IncompleteSignature',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  const signedAt = Date.UTC(
    +amzDate.slice(0, 4),
    +amzDate.slice(4, 6) - 1,
    +amzDate.slice(6, 8),
    +amzDate.slice(9, 11),
    +amzDate.slice(11, 13),
    +amzDate.slice(13, 15),
  );
  const expires = presigned ? Number(req.query.get('X-Amz-Expires') ?? '0') * 1000 : 0;
  if (presigned ? nowMs > signedAt + expires : Math.abs(nowMs - signedAt) > MAX_SKEW_MS) {
    const now = isoBasic(nowMs);
    const msg = presigned
      ? 'Request has expired'
      : nowMs > signedAt
        ? `Signature expired: ${amzDate} is now earlier than ${isoBasic(nowMs - MAX_SKEW_MS)} (${now} - 5 min.)`
        : `Signature not yet current: ${amzDate} is still later than ${isoBasic(nowMs + MAX_SKEW_MS)} (${now} + 5 min.)`;
    throw fail('InvalidSignatureException', 'SignatureDoesNotMatch', msg);
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    throw fail(
      'InvalidSignatureException',
      'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }

  const headers: Record<string, string> = {};
  for (const h of signedHeaders) if (req.headers[h] !== undefined) headers[h] = req.headers[h];
  if (signedHeaders.includes('host') && !headers.host) headers.host = req.host;
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of req.query) {
    if (k === 'X-Amz-Signature') continue;
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  // S3 presigned URLs carry the payload hash as a hoisted header (`X-Amz-Content-Sha256=UNSIGNED-PAYLOAD`):
  // hand it back to the signer as the header it came from (the signer hoists it again).
  const hoistedSha = presigned ? query['X-Amz-Content-Sha256'] : undefined;
  if (typeof hoistedSha === 'string') {
    delete query['X-Amz-Content-Sha256'];
    headers['X-Amz-Content-Sha256'] = hoistedSha;
  }
  const { Sha256, HttpRequest, SignatureV4 } = await loadSigning();
  const request = new HttpRequest({
    method: req.method,
    hostname: req.host.split(':')[0],
    path: decodePath(req.path, service),
    query,
    headers,
    body: req.body,
  });
  const signer = new SignatureV4({
    credentials: cred,
    region,
    service,
    sha256: Sha256,
    uriEscapePath: service !== 's3',
    applyChecksum: false,
  });
  const signingDate = new Date(signedAt);
  let expected: string;
  if (presigned) {
    const signed = await signer.presign(request, {
      signingDate,
      expiresIn: expires / 1000,
      unsignableHeaders: new Set(),
      signableHeaders: new Set(signedHeaders),
    });
    expected = String(signed.query?.['X-Amz-Signature']);
  } else {
    const unsignable = new Set(Object.keys(headers).filter((h) => !signedHeaders.includes(h)));
    const signed = await signer.sign(request, {
      signingDate,
      unsignableHeaders: unsignable,
      signableHeaders: new Set(signedHeaders),
    });
    expected = /Signature=([0-9a-f]+)/.exec(signed.headers.authorization)?.[1] ?? '';
  }
  if (expected !== signature) {
    throw fail(
      'InvalidSignatureException',
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
}

/** The signer escapes the path itself (except for S3), so hand it the decoded path. */
function decodePath(path: string, service: string): string {
  if (service === 's3') return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function isoBasic(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
