import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { RequestContext } from '../../core/context.ts';
import { AwsError } from '../../core/errors.ts';
import { receiveBody } from './body.ts';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, UNSUPPORTED_CHECKSUMS } from './checksum.ts';
import * as E from './errors.ts';
import type { S3 } from './s3.ts';
import type { BucketRecord, ObjectRecord, Tag } from './store.ts';

export const MAX_PUT_BYTES = 5 * 1024 ** 3;

/** A new version id (S3's are 32 URL-safe characters). */
export function newVersionId(): string {
  return randomBytes(24).toString('base64url').slice(0, 32);
}

export const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;

export interface TransferInfo {
  contentSha256?: string;
  decodedLength?: number;
  trailer?: string;
  contentLength?: number;
  transferEncoding?: string;
}

/** The checksum algorithm a write asks for and the value it declares (header), refusing ones Eddy lacks. */
export function requestedChecksum(
  input: Record<string, any>,
  transfer?: TransferInfo,
): { algorithm?: ChecksumAlgorithm; value?: string } {
  for (const u of UNSUPPORTED_CHECKSUMS) {
    if (input[`Checksum${u}`] !== undefined) throw E.notImplementedHeader(`x-amz-checksum-${u.toLowerCase()}`);
  }
  for (const a of CHECKSUM_ALGORITHMS) {
    if (input[`Checksum${a}`] !== undefined) return { algorithm: a, value: String(input[`Checksum${a}`]) };
  }
  const trailer = transfer?.trailer?.toLowerCase();
  if (trailer) {
    const m = /^x-amz-checksum-([a-z0-9]+)$/.exec(trailer.trim());
    const alg = m?.[1].toUpperCase();
    if (alg && (CHECKSUM_ALGORITHMS as string[]).includes(alg)) return { algorithm: alg as ChecksumAlgorithm };
    if (alg) throw E.notImplementedHeader(trailer);
  }
  const sdk = input.ChecksumAlgorithm as string | undefined;
  if (sdk) {
    const a = sdk.toUpperCase();
    if ((CHECKSUM_ALGORITHMS as string[]).includes(a)) return { algorithm: a as ChecksumAlgorithm };
    if (UNSUPPORTED_CHECKSUMS.includes(a)) throw E.notImplementedHeader('x-amz-sdk-checksum-algorithm');
    throw E.invalidRequest('Value for x-amz-sdk-checksum-algorithm header is invalid.');
  }
  return {};
}

export function checksumMembers(c: ObjectRecord['checksum'] | undefined, withType = true): Record<string, string> {
  if (!c) return {};
  const out: Record<string, string> = { [`Checksum${c.algorithm}`]: c.value };
  if (withType) out.ChecksumType = c.type;
  return out;
}

const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  'EXPRESS_ONEZONE',
  'FSX_OPENZFS',
  'FSX_ONTAP',
]);

/** Refuse request features Eddy does not implement, by header name; check S3's limits on what it stores. */
export function refuseUnsupported(input: Record<string, any>): void {
  if (input.StorageClass !== undefined && !STORAGE_CLASSES.has(input.StorageClass)) {
    throw new AwsError('InvalidStorageClass', 'The storage class you specified is not valid', 400, {
      extra: { StorageClassRequested: input.StorageClass },
    });
  }
  if (input.Metadata) {
    let size = 0;
    for (const [k, v] of Object.entries(input.Metadata as Record<string, string>))
      size += Buffer.byteLength(k) + Buffer.byteLength(v);
    if (size > 2048) {
      throw new AwsError('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size', 400, {
        extra: { Size: size, MaxSizeAllowed: 2048 },
      });
    }
  }
  if (input.SSECustomerAlgorithm !== undefined || input.SSECustomerKey !== undefined) {
    throw E.notImplementedHeader('x-amz-server-side-encryption-customer-algorithm');
  }
  if (
    input.ObjectLockMode !== undefined ||
    input.ObjectLockRetainUntilDate !== undefined ||
    input.ObjectLockLegalHoldStatus !== undefined
  ) {
    throw E.notImplementedHeader('x-amz-object-lock-mode');
  }
  if (input.WriteOffsetBytes !== undefined) throw E.notImplementedHeader('x-amz-write-offset-bytes');
}

export function validateKey(key: string | undefined): string {
  if (key === undefined || key === '') throw E.invalidArgument('Key is required');
  const size = Buffer.byteLength(key);
  if (size > 1024) throw E.keyTooLong(size);
  return key;
}

/** `x-amz-tagging: a=b&c=d` → tags, with S3's limits. */
export function parseTaggingHeader(v: string | undefined): Tag[] | undefined {
  if (v === undefined) return undefined;
  const tags: Tag[] = [];
  for (const [k, val] of new URLSearchParams(v)) tags.push({ Key: k, Value: val });
  validateTags(tags, 10, true);
  return tags;
}

export function validateTags(tags: Tag[], max: number, object: boolean): void {
  if (tags.length > max)
    throw E.invalidTag(object ? 'Object tags cannot be greater than 10' : 'Bucket tag count cannot be greater than 50');
  const seen = new Set<string>();
  for (const t of tags) {
    if (t.Key === undefined || t.Key.length > 128 || t.Key.length < 1)
      throw E.invalidTag('The TagKey you have provided is invalid');
    if ((t.Value ?? '').length > 256) throw E.invalidTag('The TagValue you have provided is invalid');
    if (seen.has(t.Key)) throw E.invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(t.Key);
  }
}

/** Encryption an object gets: the request's header, else the bucket default (SSE-S3 on every new bucket). */
export function encryptionFor(
  bucket: BucketRecord,
  input: Record<string, any>,
): Pick<ObjectRecord, 'sse' | 'kmsKeyId' | 'bucketKeyEnabled'> {
  const req = input.ServerSideEncryption as string | undefined;
  if (req !== undefined) {
    if (req !== 'AES256' && req !== 'aws:kms' && req !== 'aws:kms:dsse')
      throw E.invalidArgument(
        'Server Side Encryption with provided algorithm is not supported.',
        'x-amz-server-side-encryption',
        req,
      );
    return {
      sse: req,
      kmsKeyId: req.startsWith('aws:kms') ? (input.SSEKMSKeyId ?? defaultKmsKey(bucket)) : undefined,
      bucketKeyEnabled: input.BucketKeyEnabled,
    };
  }
  const rule = bucket.encryption?.Rules?.[0];
  const def = rule?.ApplyServerSideEncryptionByDefault;
  if (!def) return { sse: 'AES256' };
  return {
    sse: def.SSEAlgorithm,
    kmsKeyId: String(def.SSEAlgorithm).startsWith('aws:kms')
      ? (def.KMSMasterKeyID ?? defaultKmsKey(bucket))
      : undefined,
    bucketKeyEnabled: rule?.BucketKeyEnabled || undefined,
  };
}

function defaultKmsKey(b: BucketRecord): string {
  return `arn:aws:kms:${b.region}:${b.account}:alias/aws/s3`;
}

export function sseMembers(r: Pick<ObjectRecord, 'sse' | 'kmsKeyId' | 'bucketKeyEnabled'>): Record<string, unknown> {
  return { ServerSideEncryption: r.sse, SSEKMSKeyId: r.kmsKeyId, BucketKeyEnabled: r.bucketKeyEnabled || undefined };
}

/** Response headers shared by GetObject and HeadObject. */
export function objectHeaders(r: ObjectRecord, versioned: boolean): Record<string, unknown> {
  return {
    AcceptRanges: 'bytes',
    LastModified: new Date(r.lastModified),
    ETag: r.etag,
    ContentType: r.contentType ?? 'binary/octet-stream',
    ContentEncoding: r.contentEncoding,
    ContentDisposition: r.contentDisposition,
    ContentLanguage: r.contentLanguage,
    CacheControl: r.cacheControl,
    ExpiresString: r.expires,
    Expires: r.expires,
    WebsiteRedirectLocation: r.websiteRedirect,
    Metadata: r.meta && Object.keys(r.meta).length ? r.meta : undefined,
    VersionId: versioned ? r.versionId : undefined,
    TagCount: r.tags?.length || undefined,
    StorageClass: r.storageClass && r.storageClass !== 'STANDARD' ? r.storageClass : undefined,
    PartsCount: undefined,
    ...sseMembers(r),
  };
}

const stripQuotes = (s: string) => s.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
function etagMatches(header: string, etag: string): boolean {
  const e = stripQuotes(etag);
  return header.split(',').some((h) => h.trim() === '*' || stripQuotes(h) === e);
}

/** If-Match / If-Unmodified-Since → 412; If-None-Match / If-Modified-Since → 304 (GET/HEAD, RFC 7232 order as S3 applies it). */
export function checkConditions(
  r: ObjectRecord,
  c: { IfMatch?: string; IfNoneMatch?: string; IfModifiedSince?: Date | string; IfUnmodifiedSince?: Date | string },
  copy = false,
): void {
  const date = (d: Date | string | undefined) => (d instanceof Date ? d.getTime() : undefined);
  const h = (n: string) => (copy ? `x-amz-copy-source-${n.toLowerCase()}` : n);
  if (c.IfMatch !== undefined) {
    if (!etagMatches(c.IfMatch, r.etag)) throw E.preconditionFailed(h('If-Match'));
  } else {
    const since = date(c.IfUnmodifiedSince);
    if (since !== undefined && r.lastModified > since) throw E.preconditionFailed(h('If-Unmodified-Since'));
  }
  if (c.IfNoneMatch !== undefined) {
    if (etagMatches(c.IfNoneMatch, r.etag)) {
      if (copy) throw E.preconditionFailed(h('If-None-Match'));
      throw E.notModified();
    }
  } else {
    const since = date(c.IfModifiedSince);
    if (since !== undefined && r.lastModified <= since && since <= Date.UTC(9999)) {
      if (copy) throw E.preconditionFailed(h('If-Modified-Since'));
      throw E.notModified();
    }
  }
}

/** `bytes=a-b` / `bytes=a-` / `bytes=-n` → inclusive [start, end]; undefined when the header is to be ignored. */
export function parseRange(range: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!range) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw E.invalidRange(range, size);
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  let end = m[2] === '' ? size - 1 : Number(m[2]);
  if (m[2] !== '' && end < start) return undefined;
  if (start >= size) throw E.invalidRange(range, size);
  end = Math.min(end, size - 1);
  return { start, end };
}

/** Write a body to a temp blob, verified; the caller commits it. */
export async function receiveObjectBody(
  s3: S3,
  input: Record<string, any>,
  maxBytes = MAX_PUT_BYTES,
  defaultAlgorithm?: ChecksumAlgorithm,
): Promise<{
  tmpId: string;
  size: number;
  etag: string;
  md5: Buffer;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}> {
  const transfer = input.$transfer as TransferInfo | undefined;
  const body = (input.Body ?? Buffer.alloc(0)) as Readable | Buffer;
  const requested = requestedChecksum(input, transfer);
  const algorithm = requested.algorithm ?? defaultAlgorithm;
  const value = requested.value;
  let contentMd5 = input.ContentMD5 as string | undefined;
  if (contentMd5 !== undefined && Buffer.from(contentMd5, 'base64').length !== 16)
    throw new AwsError('InvalidDigest', 'The Content-MD5 you specified is not valid.', 400, {
      extra: { 'Content-MD5': contentMd5 },
    });
  if (contentMd5 === '') contentMd5 = undefined;
  const declared = transfer?.decodedLength ?? transfer?.contentLength;
  if (declared !== undefined && declared > maxBytes) {
    throw new AwsError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400, {
      extra: { ProposedSize: declared, MaxSizeAllowed: maxBytes },
    });
  }
  const tmp = s3.store.tempBlob();
  const got = await receiveBody(body, tmp.path, {
    headers: {
      contentEncoding: input.ContentEncoding,
      contentSha256: transfer?.contentSha256,
      decodedLength: transfer?.decodedLength,
      contentLength: transfer?.decodedLength === undefined ? transfer?.contentLength : undefined,
      contentMd5,
      trailer: transfer?.trailer,
    },
    algorithm,
    expectedChecksum: value,
    maxBytes,
  });
  return { tmpId: tmp.id, size: got.size, etag: `"${got.md5.toString('hex')}"`, md5: got.md5, checksum: got.checksum };
}

/** Content-Encoding as stored: without the `aws-chunked` transfer coding. */
export function storedEncoding(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const rest = v
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x && x !== 'aws-chunked');
  return rest.length ? rest.join(',') : undefined;
}

/** Commit a new current version of `key` (versioning-aware) inside the caller's transaction; returns blobs to delete after commit. */
export function writeVersion(s3: S3, bucket: BucketRecord, record: ObjectRecord): { garbage: ObjectRecord[] } {
  const garbage: ObjectRecord[] = [];
  const st = s3.store;
  if (bucket.versioning !== 'Enabled') {
    // Unversioned / suspended: the new object replaces the 'null' version.
    const old = st.version(bucket.name, record.key, 'null');
    if (old) {
      st.deleteVersion(bucket.name, old);
      if (!old.deleteMarker) garbage.push(old);
    }
  }
  st.putVersion(bucket.name, record);
  st.setCurrent(bucket.name, record.key, record);
  return { garbage };
}

export function newRecordBase(
  s3: S3,
  bucket: BucketRecord,
  key: string,
  ctx: RequestContext,
): Pick<ObjectRecord, 'key' | 'versionId' | 'seq' | 'lastModified' | 'owner'> {
  return {
    key,
    versionId: bucket.versioning === 'Enabled' ? newVersionId() : 'null',
    seq: s3.store.nextSeq(bucket.name),
    lastModified: seconds(ctx.clock.now()),
    owner: ctx.accountId,
  };
}

export function md5Hex(parts: Buffer[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}
