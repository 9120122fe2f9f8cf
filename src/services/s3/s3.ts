import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../core/context.ts';
import type { ServiceDeps } from '../../core/ports.ts';
import type { OperationHandler } from '../../gateway/service.ts';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  CRC_ALGORITHMS,
  combineCrc,
  crcFromBase64,
  crcToBase64,
  hasher,
} from './checksum.ts';
import * as E from './errors.ts';
import type { S3Notifier } from './notifications.ts';
import {
  checkConditions,
  checksumMembers,
  encryptionFor,
  md5Hex,
  newRecordBase,
  newVersionId,
  objectHeaders,
  parseRange,
  parseTaggingHeader,
  receiveObjectBody,
  refuseUnsupported,
  seconds,
  sseMembers,
  storedEncoding,
  validateKey,
  validateTags,
  writeVersion,
} from './objects.ts';
import {
  type BucketRecord,
  keyOfVersionRow,
  type ObjectRecord,
  type PartRecord,
  S3Store,
  type Tag,
  type UploadRecord,
} from './store.ts';

export const OWNER_DISPLAY = 'webfile';
const MIN_PART = 5 * 1024 * 1024;
const MAX_PART = 5 * 1024 ** 3;

const owner = (account: string) => ({ ID: canonicalId(account), DisplayName: OWNER_DISPLAY });
/** A stable 64-hex canonical user id per account. */
export function canonicalId(account: string): string {
  return Buffer.from(account.padEnd(32, '0')).toString('hex').slice(0, 64);
}

/** The S3 service: buckets, objects, multipart uploads and bucket configuration over `S3Store`. */
export class S3 {
  readonly store: S3Store;
  notifier?: S3Notifier;
  constructor(readonly deps: ServiceDeps) {
    this.store = new S3Store(deps.storage);
  }

  bucket(name: string | undefined): BucketRecord {
    if (!name) throw E.noSuchBucket('');
    const b = this.store.getBucket(name);
    if (!b) throw E.noSuchBucket(name);
    return b;
  }

  /** Remove blobs that a committed transaction no longer references. */
  collect(records: ObjectRecord[]): void {
    for (const r of records) this.store.removeBlobs(r.blobs);
  }

  operations(): Record<string, OperationHandler> {
    return {
      ListBuckets: (i, c) => this.listBuckets(i, c),
      CreateBucket: (i, c) => this.createBucket(i, c),
      HeadBucket: (i) => this.headBucket(i),
      DeleteBucket: (i) => this.deleteBucket(i),
      GetBucketLocation: (i) => {
        const b = this.bucket(i.Bucket);
        return { LocationConstraint: b.region === 'us-east-1' ? undefined : b.region };
      },
      PutObject: (i, c) => this.putObject(i, c),
      GetObject: (i, c) => this.getObject(i, c, false),
      HeadObject: (i, c) => this.getObject(i, c, true),
      DeleteObject: (i, c) => this.deleteObject(i, c),
      DeleteObjects: (i, c) => this.deleteObjects(i, c),
      CopyObject: (i, c) => this.copyObject(i, c),
      ListObjects: (i) => this.listObjects(i, 1),
      ListObjectsV2: (i) => this.listObjects(i, 2),
      ListObjectVersions: (i) => this.listObjectVersions(i),
      GetObjectTagging: (i) => {
        const r = this.objectFor(i);
        return { TagSet: r.tags ?? [], VersionId: this.versioned(i.Bucket) ? r.versionId : undefined };
      },
      PutObjectTagging: (i) => this.putObjectTagging(i, (i.Tagging?.TagSet ?? []) as Tag[]),
      DeleteObjectTagging: (i) => {
        const out = this.putObjectTagging(i, []);
        return { ...out, $status: 204 };
      },
      CreateMultipartUpload: (i, c) => this.createMultipartUpload(i, c),
      UploadPart: (i, c) => this.uploadPart(i, c),
      CompleteMultipartUpload: (i, c) => this.completeMultipartUpload(i, c),
      AbortMultipartUpload: (i) => this.abortMultipartUpload(i),
      ListParts: (i) => this.listParts(i),
      ListMultipartUploads: (i) => this.listMultipartUploads(i),
      // bucket configuration
      PutBucketEncryption: (i) => this.putBucketEncryption(i),
      GetBucketEncryption: (i) => {
        const b = this.bucket(i.Bucket);
        if (!b.encryption)
          throw E.noSuchConfig(
            'ServerSideEncryptionConfigurationNotFoundError',
            'The server side encryption configuration was not found',
            b.name,
          );
        return { ServerSideEncryptionConfiguration: b.encryption };
      },
      DeleteBucketEncryption: (i) => this.updateBucket(i.Bucket, (b) => void (b.encryption = defaultEncryption())),
      PutBucketVersioning: (i) => this.putBucketVersioning(i),
      GetBucketVersioning: (i) => {
        const b = this.bucket(i.Bucket);
        return { Status: b.versioning };
      },
      PutBucketLifecycleConfiguration: (i) => this.putBucketLifecycle(i),
      GetBucketLifecycleConfiguration: (i) => {
        const b = this.bucket(i.Bucket);
        if (!b.lifecycle)
          throw E.noSuchConfig('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', b.name);
        return { Rules: b.lifecycle.Rules, TransitionDefaultMinimumSize: 'all_storage_classes_128K' };
      },
      DeleteBucketLifecycle: (i) => this.updateBucket(i.Bucket, (b) => void delete b.lifecycle),
      PutPublicAccessBlock: (i) =>
        this.updateBucket(i.Bucket, (b) => void (b.publicAccessBlock = i.PublicAccessBlockConfiguration ?? {})),
      GetPublicAccessBlock: (i) => {
        const b = this.bucket(i.Bucket);
        if (!b.publicAccessBlock) {
          throw E.noSuchConfig(
            'NoSuchPublicAccessBlockConfiguration',
            'The public access block configuration was not found',
            b.name,
          );
        }
        return { PublicAccessBlockConfiguration: b.publicAccessBlock };
      },
      DeletePublicAccessBlock: (i) => this.updateBucket(i.Bucket, (b) => void delete b.publicAccessBlock),
      PutBucketTagging: (i) => {
        const tags = (i.Tagging?.TagSet ?? []) as Tag[];
        validateTags(tags, 50, false);
        return this.updateBucket(i.Bucket, (b) => void (b.tags = tags));
      },
      GetBucketTagging: (i) => {
        const b = this.bucket(i.Bucket);
        if (!b.tags) throw E.noSuchTagSet(b.name);
        return { TagSet: b.tags };
      },
      DeleteBucketTagging: (i) => this.updateBucket(i.Bucket, (b) => void delete b.tags),
      PutBucketPolicy: (i) => this.putBucketPolicy(i),
      GetBucketPolicy: (i) => {
        const b = this.bucket(i.Bucket);
        if (!b.policy) throw E.noSuchConfig('NoSuchBucketPolicy', 'The bucket policy does not exist', b.name);
        return { Policy: b.policy };
      },
      DeleteBucketPolicy: (i) => this.updateBucket(i.Bucket, (b) => void delete b.policy),
      PutBucketNotificationConfiguration: (i, c) => this.putBucketNotification(i, c),
      GetBucketNotificationConfiguration: (i) => {
        const b = this.bucket(i.Bucket);
        return b.notification ?? {};
      },
      GetBucketOwnershipControls: (i) => {
        const b = this.bucket(i.Bucket);
        if (b.ownership === 'none') {
          throw E.noSuchConfig(
            'OwnershipControlsNotFoundError',
            'The bucket ownership controls were not found',
            b.name,
          );
        }
        return { OwnershipControls: { Rules: [{ ObjectOwnership: b.ownership ?? 'BucketOwnerEnforced' }] } };
      },
      GetObjectAcl: (i) => {
        const r = this.objectFor(i);
        return {
          Owner: owner(r.owner),
          Grants: [{ Grantee: { ...owner(r.owner), Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }],
        };
      },
      PutBucketAcl: (i) => this.refuseAcl(i, 'PutBucketAcl'),
      PutObjectAcl: (i) => this.refuseAcl(i, 'PutObjectAcl'),
      PutBucketOwnershipControls: (i) => {
        const rule = i.OwnershipControls?.Rules?.[0]?.ObjectOwnership;
        if (!['BucketOwnerPreferred', 'ObjectWriter', 'BucketOwnerEnforced'].includes(rule)) throw E.malformedXml();
        return this.updateBucket(i.Bucket, (b) => void (b.ownership = rule));
      },
      DeleteBucketOwnershipControls: (i) => this.updateBucket(i.Bucket, (b) => void (b.ownership = 'none')),
      PutBucketCors: (i) => {
        const rules = (i.CORSConfiguration?.CORSRules ?? []) as Record<string, any>[];
        if (!rules.length || rules.length > 100) throw E.malformedXml();
        for (const r of rules) if (!r.AllowedMethods?.length || !r.AllowedOrigins?.length) throw E.malformedXml();
        for (const r of rules)
          for (const m of r.AllowedMethods as string[])
            if (!['GET', 'PUT', 'POST', 'DELETE', 'HEAD'].includes(m)) {
              throw E.invalidRequest(`Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
            }
        return this.updateBucket(i.Bucket, (b) => void (b.cors = rules));
      },
      GetBucketCors: (i) => {
        const b = this.bucket(i.Bucket);
        if (!b.cors) throw E.noSuchConfig('NoSuchCORSConfiguration', 'The CORS configuration does not exist', b.name);
        return { CORSRules: b.cors };
      },
      DeleteBucketCors: (i) => this.updateBucket(i.Bucket, (b) => void delete b.cors),
      PutBucketWebsite: (i) => {
        const w = i.WebsiteConfiguration;
        if (!w || (!w.IndexDocument && !w.RedirectAllRequestsTo)) throw E.malformedXml();
        return this.updateBucket(i.Bucket, (b) => void (b.website = w));
      },
      GetBucketWebsite: (i) => {
        const b = this.bucket(i.Bucket);
        if (!b.website)
          throw E.noSuchConfig(
            'NoSuchWebsiteConfiguration',
            'The specified bucket does not have a website configuration',
            b.name,
          );
        return b.website;
      },
      DeleteBucketWebsite: (i) => this.updateBucket(i.Bucket, (b) => void delete b.website),
      UploadPartCopy: (i, c) => this.uploadPartCopy(i, c),
      GetBucketAcl: (i) => {
        const b = this.bucket(i.Bucket);
        return {
          Owner: owner(b.account),
          Grants: [{ Grantee: { ...owner(b.account), Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }],
        };
      },
    };
  }

  private versioned(bucket: string): boolean {
    return this.store.getBucket(bucket)?.versioning !== undefined;
  }

  private updateBucket(name: string, fn: (b: BucketRecord) => void): Record<string, unknown> {
    this.deps.storage.tx(() => {
      const b = this.bucket(name);
      fn(b);
      this.store.putBucket(b);
    });
    return {};
  }

  // ---------------------------------------------------------------- buckets

  private listBuckets(i: any, ctx: RequestContext) {
    const max = i.MaxBuckets === undefined ? undefined : Number(i.MaxBuckets);
    if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > 10000))
      throw E.invalidArgument(
        'Argument max-buckets must be an integer between 1 and 10000',
        'max-buckets',
        i.MaxBuckets,
      );
    const after = i.ContinuationToken
      ? Buffer.from(String(i.ContinuationToken), 'base64url').toString('utf8')
      : undefined;
    const buckets: Record<string, unknown>[] = [];
    let next: string | undefined;
    for (const b of this.store.buckets()) {
      if (b.account !== ctx.accountId) continue;
      if (after !== undefined && b.name <= after) continue;
      if (i.Prefix && !b.name.startsWith(i.Prefix)) continue;
      if (i.BucketRegion && b.region !== i.BucketRegion) continue;
      if (max !== undefined && buckets.length >= max) {
        next = Buffer.from(String(buckets[buckets.length - 1].Name)).toString('base64url');
        break;
      }
      buckets.push({ Name: b.name, CreationDate: new Date(b.created), BucketRegion: b.region, BucketArn: undefined });
    }
    return { Buckets: buckets, Owner: owner(ctx.accountId), ContinuationToken: next, Prefix: i.Prefix };
  }

  private createBucket(i: any, ctx: RequestContext) {
    const name = String(i.Bucket ?? '');
    if (!validBucketName(name)) throw E.invalidBucketName(name);
    const cfg = i.CreateBucketConfiguration ?? {};
    if (cfg.Location || cfg.Bucket)
      throw E.notImplemented('CreateBucket for directory buckets (Location/Bucket configuration)');
    if (i.ObjectLockEnabledForBucket === true) throw E.notImplementedHeader('x-amz-bucket-object-lock-enabled');
    const ownership = i.ObjectOwnership ?? 'BucketOwnerEnforced';
    if (
      ownership === 'BucketOwnerEnforced' &&
      ((i.ACL !== undefined && i.ACL !== 'private' && i.ACL !== 'bucket-owner-full-control') || hasGrants(i))
    ) {
      throw new E.AwsErrorAlias(
        'InvalidBucketAclWithObjectOwnership',
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        400,
      );
    }
    const lc: string | undefined = cfg.LocationConstraint || undefined;
    let region = ctx.region;
    if (lc === undefined) {
      if (ctx.region !== 'us-east-1') {
        throw new E.AwsErrorAlias(
          'IllegalLocationConstraintException',
          'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
          400,
        );
      }
    } else if (lc === 'us-east-1' || !/^[a-z]{2}(-[a-z]+)+-\d$|^EU$/.test(lc)) {
      throw new E.AwsErrorAlias('InvalidLocationConstraint', 'The specified location-constraint is not valid', 400, {
        extra: { LocationConstraint: lc },
      });
    } else if (ctx.region !== 'us-east-1' && lc !== ctx.region) {
      throw new E.AwsErrorAlias(
        'IllegalLocationConstraintException',
        `The ${lc} location constraint is incompatible for the region specific endpoint this request was sent to.`,
        400,
      );
    } else region = lc === 'EU' ? 'eu-west-1' : lc;
    if (
      i.ObjectOwnership !== undefined &&
      !['BucketOwnerPreferred', 'ObjectWriter', 'BucketOwnerEnforced'].includes(i.ObjectOwnership)
    ) {
      throw E.invalidArgument('Invalid x-amz-object-ownership header', 'x-amz-object-ownership', i.ObjectOwnership);
    }
    this.deps.storage.tx(() => {
      const existing = this.store.getBucket(name);
      if (existing) {
        if (existing.account !== ctx.accountId) throw E.bucketAlreadyExists(name);
        // us-east-1 answers 200 to its owner re-creating a bucket there; every other region 409s.
        if (existing.region === 'us-east-1' && region === 'us-east-1') return;
        throw E.bucketAlreadyOwnedByYou(name);
      }
      this.store.putBucket({
        name,
        account: ctx.accountId,
        region,
        created: ctx.clock.now(),
        encryption: defaultEncryption(),
        ownership: i.ObjectOwnership,
      });
    });
    return { Location: `/${name}`, BucketArn: undefined };
  }

  private headBucket(i: any) {
    const b = this.store.getBucket(i.Bucket);
    if (!b) throw new E.AwsErrorAlias('NotFound', 'Not Found', 404);
    return { BucketRegion: b.region, AccessPointAlias: false };
  }

  private deleteBucket(i: any) {
    this.deps.storage.tx(() => {
      const b = this.bucket(i.Bucket);
      if (this.store.hasObjects(b.name)) throw E.bucketNotEmpty(b.name);
      this.store.deleteBucket(b.name);
    });
    this.notifier?.forget(i.Bucket);
    return {};
  }

  // ---------------------------------------------------------------- objects

  private async putObject(i: any, ctx: RequestContext) {
    const b = this.bucket(i.Bucket);
    const key = validateKey(i.Key);
    refuseUnsupported(i);
    checkObjectAcl(b, i);
    const tags = parseTaggingHeader(i.Tagging);
    const sse = encryptionFor(b, i);
    const preconditions = { IfMatch: i.IfMatch, IfNoneMatch: i.IfNoneMatch };
    this.checkWritePreconditions(b.name, key, preconditions);
    const body = await receiveObjectBody(this, i);
    let record!: ObjectRecord;
    let garbage: ObjectRecord[] = [];
    try {
      const blobId = await this.store.commitBlob(body.tmpId);
      try {
        this.deps.storage.tx(() => {
          const bucket = this.bucket(b.name);
          this.checkWritePreconditions(bucket.name, key, preconditions);
          record = {
            ...newRecordBase(this, bucket, key, ctx),
            size: body.size,
            etag: body.etag,
            blobs: [{ id: blobId, size: body.size }],
            contentType: i.ContentType,
            contentEncoding: storedEncoding(i.ContentEncoding),
            contentDisposition: i.ContentDisposition,
            contentLanguage: i.ContentLanguage,
            cacheControl: i.CacheControl,
            expires: i.Expires instanceof Date ? i.Expires.toUTCString() : i.Expires,
            websiteRedirect: i.WebsiteRedirectLocation,
            meta: i.Metadata,
            checksum: body.checksum ? { ...body.checksum, type: 'FULL_OBJECT' } : undefined,
            tags,
            storageClass: i.StorageClass,
            ...sse,
          };
          garbage = writeVersion(this, bucket, record).garbage;
          this.notifier?.objectEvent(bucket, 'ObjectCreated:Put', record, ctx);
        });
      } catch (e) {
        this.store.removeBlobs([{ id: blobId, size: 0 }]);
        throw e;
      }
    } catch (e) {
      await this.store.removeTemp(body.tmpId);
      throw e;
    }
    this.collect(garbage);
    return {
      ETag: record.etag,
      VersionId: b.versioning ? record.versionId : undefined,
      ...checksumMembers(record.checksum),
      ...sseMembers(record),
      Size: undefined,
    };
  }

  private checkWritePreconditions(bucket: string, key: string, c: { IfMatch?: string; IfNoneMatch?: string }): void {
    if (c.IfMatch === undefined && c.IfNoneMatch === undefined) return;
    const cur = this.store.current(bucket, key);
    if (c.IfNoneMatch !== undefined) {
      if (c.IfNoneMatch !== '*') throw E.notImplementedHeader('If-None-Match');
      if (cur) throw E.preconditionFailed('If-None-Match');
    }
    if (c.IfMatch !== undefined) {
      if (!cur) throw E.noSuchKey(key);
      const want = c.IfMatch.replace(/"/g, '');
      if (want !== '*' && want !== cur.etag.replace(/"/g, '')) throw E.preconditionFailed('If-Match');
    }
  }

  /** The object (or version) a read addresses, with S3's errors for missing keys, versions and delete markers. */
  objectFor(i: any): ObjectRecord {
    const b = this.bucket(i.Bucket);
    const key = String(i.Key ?? '');
    if (i.VersionId !== undefined) {
      const v = this.store.version(b.name, key, String(i.VersionId));
      if (!v) {
        if (i.VersionId !== 'null' && !/^[A-Za-z0-9._-]+$/.test(String(i.VersionId)))
          throw E.invalidArgument('Invalid version id specified', 'versionId', i.VersionId);
        throw E.noSuchVersion(key, String(i.VersionId));
      }
      if (v.deleteMarker) {
        const err = new E.AwsErrorAlias(
          'MethodNotAllowed',
          'The specified method is not allowed against this resource.',
          405,
          { extra: { Method: 'GET', ResourceType: 'DeleteMarker' } },
        );
        err.headers = {
          'x-amz-delete-marker': 'true',
          'x-amz-version-id': v.versionId,
          'last-modified': new Date(v.lastModified).toUTCString(),
        };
        throw err;
      }
      return v;
    }
    const r = this.store.current(b.name, key);
    if (!r) {
      const err = E.noSuchKey(key);
      const latest = b.versioning ? this.store.latestVersion(b.name, key) : undefined;
      if (latest?.deleteMarker) err.headers = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': latest.versionId };
      throw err;
    }
    return r;
  }

  private getObject(i: any, _ctx: RequestContext, head: boolean) {
    refuseUnsupported(i);
    if (i.PartNumber !== undefined) throw E.notImplemented('GetObject/HeadObject with partNumber');
    let r: ObjectRecord;
    try {
      r = this.objectFor(i);
    } catch (e) {
      // HEAD answers carry no body: the SDK reports a bare 404 as NotFound.
      if (head && e instanceof E.AwsErrorAlias && e.code === 'NoSuchKey') {
        const err = new E.AwsErrorAlias('NotFound', 'Not Found', 404);
        err.headers = e.headers;
        throw err;
      }
      throw e;
    }
    if (!head && (r.storageClass === 'GLACIER' || r.storageClass === 'DEEP_ARCHIVE')) {
      // Archived objects need RestoreObject (not implemented) before a GET, as on AWS.
      throw new E.AwsErrorAlias(
        'InvalidObjectState',
        "The operation is not valid for the object's storage class",
        403,
        { extra: { StorageClass: r.storageClass } },
      );
    }
    checkConditions(r, i);
    const versioned = this.versioned(i.Bucket);
    const out: Record<string, unknown> = { ...objectHeaders(r, versioned) };
    if (i.ChecksumMode === 'ENABLED' && r.checksum) Object.assign(out, checksumMembers(r.checksum));
    if (r.parts) out.PartsCount = undefined;
    const overrides: Record<string, string> = {
      ResponseContentType: 'ContentType',
      ResponseContentLanguage: 'ContentLanguage',
      ResponseExpires: 'ExpiresString',
      ResponseCacheControl: 'CacheControl',
      ResponseContentDisposition: 'ContentDisposition',
      ResponseContentEncoding: 'ContentEncoding',
    };
    for (const [from, to] of Object.entries(overrides)) {
      if (i[from] !== undefined) out[to] = i[from] instanceof Date ? (i[from] as Date).toUTCString() : i[from];
    }
    if (out.ExpiresString !== undefined) out.Expires = out.ExpiresString;
    delete out.ExpiresString;
    const range = parseRange(i.Range, r.size);
    if (range) {
      out.ContentRange = `bytes ${range.start}-${range.end}/${r.size}`;
      out.ContentLength = range.end - range.start + 1;
      delete out.ChecksumCRC32;
      delete out.ChecksumCRC32C;
      delete out.ChecksumSHA1;
      delete out.ChecksumSHA256;
      delete out.ChecksumType;
      out.$status = 206;
    } else out.ContentLength = r.size;
    if (!head) out.Body = this.store.read(r.blobs, range?.start ?? 0, range?.end ?? r.size - 1);
    else if (range) out.$status = 206;
    return out;
  }

  private deleteObject(i: any, ctx: RequestContext) {
    const b = this.bucket(i.Bucket);
    const key = String(i.Key ?? '');
    const res = this.deleteOne(b, key, i.VersionId === undefined ? undefined : String(i.VersionId), ctx);
    return { DeleteMarker: res.DeleteMarker || undefined, VersionId: res.VersionId ?? res.DeleteMarkerVersionId };
  }

  private deleteOne(
    b: BucketRecord,
    key: string,
    versionId: string | undefined,
    ctx: RequestContext,
  ): { DeleteMarker?: boolean; VersionId?: string; DeleteMarkerVersionId?: string } {
    const garbage: ObjectRecord[] = [];
    let out: { DeleteMarker?: boolean; VersionId?: string; DeleteMarkerVersionId?: string } = {};
    this.deps.storage.tx(() => {
      const bucket = this.bucket(b.name);
      const st = this.store;
      if (versionId !== undefined) {
        const v = st.version(bucket.name, key, versionId);
        if (!v) {
          if (versionId !== 'null' && !/^[A-Za-z0-9._-]+$/.test(versionId))
            throw E.invalidArgument('Invalid version id specified', 'versionId', versionId);
          out = { VersionId: versionId };
          return;
        }
        st.deleteVersion(bucket.name, v);
        st.refreshCurrent(bucket.name, key);
        if (!v.deleteMarker) garbage.push(v);
        out = { VersionId: versionId, DeleteMarker: v.deleteMarker };
        this.notifier?.objectEvent(bucket, 'ObjectRemoved:Delete', v, ctx);
        return;
      }
      if (!bucket.versioning) {
        const cur = st.current(bucket.name, key);
        if (cur) {
          st.deleteVersion(bucket.name, cur);
          st.setCurrent(bucket.name, key, undefined);
          garbage.push(cur);
          this.notifier?.objectEvent(bucket, 'ObjectRemoved:Delete', cur, ctx);
        }
        return;
      }
      // Versioned: a delete marker becomes the current version (suspended: the 'null' one).
      const marker: ObjectRecord = {
        key,
        versionId: bucket.versioning === 'Enabled' ? newVersionId() : 'null',
        seq: st.nextSeq(bucket.name),
        deleteMarker: true,
        size: 0,
        etag: '',
        lastModified: seconds(ctx.clock.now()),
        blobs: [],
        owner: ctx.accountId,
      };
      if (bucket.versioning === 'Suspended') {
        const old = st.version(bucket.name, key, 'null');
        if (old) {
          st.deleteVersion(bucket.name, old);
          if (!old.deleteMarker) garbage.push(old);
        }
      }
      st.putVersion(bucket.name, marker);
      st.setCurrent(bucket.name, key, undefined);
      out = { DeleteMarker: true, DeleteMarkerVersionId: marker.versionId };
      this.notifier?.objectEvent(bucket, 'ObjectRemoved:DeleteMarkerCreated', marker, ctx);
    });
    this.collect(garbage);
    return out;
  }

  private deleteObjects(i: any, ctx: RequestContext) {
    const b = this.bucket(i.Bucket);
    const objects = (i.Delete?.Objects ?? []) as { Key: string; VersionId?: string }[];
    if (!i.Delete || objects.length === 0 || objects.length > 1000) throw E.malformedXml();
    const Deleted: Record<string, unknown>[] = [];
    const Errors: Record<string, unknown>[] = [];
    for (const o of objects) {
      try {
        const res = this.deleteOne(b, String(o.Key ?? ''), o.VersionId, ctx);
        if (!i.Delete.Quiet) {
          Deleted.push({
            Key: o.Key,
            VersionId: o.VersionId,
            DeleteMarker: res.DeleteMarker || undefined,
            DeleteMarkerVersionId:
              res.DeleteMarkerVersionId ?? (res.DeleteMarker && o.VersionId ? o.VersionId : undefined),
          });
        }
      } catch (e) {
        const err = e as E.AwsErrorAlias;
        Errors.push({ Key: o.Key, VersionId: o.VersionId, Code: err.code ?? 'InternalError', Message: err.message });
      }
    }
    return { Deleted: Deleted.length ? Deleted : undefined, Errors: Errors.length ? Errors : undefined };
  }

  private async copyObject(i: any, ctx: RequestContext) {
    const b = this.bucket(i.Bucket);
    const key = validateKey(i.Key);
    refuseUnsupported(i);
    checkObjectAcl(b, i);
    if (i.CopySourceSSECustomerAlgorithm !== undefined)
      throw E.notImplementedHeader('x-amz-copy-source-server-side-encryption-customer-algorithm');
    const src = parseCopySource(String(i.CopySource ?? ''));
    const source = this.objectFor({ Bucket: src.bucket, Key: src.key, VersionId: src.versionId });
    checkConditions(
      source,
      {
        IfMatch: i.CopySourceIfMatch,
        IfNoneMatch: i.CopySourceIfNoneMatch,
        IfModifiedSince: i.CopySourceIfModifiedSince,
        IfUnmodifiedSince: i.CopySourceIfUnmodifiedSince,
      },
      true,
    );
    const replace = i.MetadataDirective === 'REPLACE';
    if (i.MetadataDirective !== undefined && i.MetadataDirective !== 'COPY' && !replace)
      throw E.invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', i.MetadataDirective);
    const sameObject = src.bucket === b.name && src.key === key && src.versionId === undefined;
    if (
      sameObject &&
      !replace &&
      i.ServerSideEncryption === undefined &&
      i.StorageClass === undefined &&
      i.WebsiteRedirectLocation === undefined
    ) {
      throw E.invalidRequest(
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    let tags = source.tags;
    if (i.TaggingDirective === 'REPLACE') tags = parseTaggingHeader(i.Tagging) ?? [];
    const sse = encryptionFor(b, i);
    const blobs: { id: string; size: number }[] = [];
    for (const blob of source.blobs) blobs.push({ id: await this.store.copyBlob(blob.id), size: blob.size });
    let record!: ObjectRecord;
    let garbage: ObjectRecord[] = [];
    try {
      this.deps.storage.tx(() => {
        const bucket = this.bucket(b.name);
        record = {
          ...newRecordBase(this, bucket, key, ctx),
          size: source.size,
          etag: source.etag,
          blobs,
          parts: source.parts,
          contentType: replace ? i.ContentType : source.contentType,
          contentEncoding: replace ? i.ContentEncoding : source.contentEncoding,
          contentDisposition: replace ? i.ContentDisposition : source.contentDisposition,
          contentLanguage: replace ? i.ContentLanguage : source.contentLanguage,
          cacheControl: replace ? i.CacheControl : source.cacheControl,
          expires: replace ? (i.Expires instanceof Date ? i.Expires.toUTCString() : i.Expires) : source.expires,
          meta: replace ? i.Metadata : source.meta,
          websiteRedirect: i.WebsiteRedirectLocation,
          checksum: source.checksum,
          tags,
          storageClass: i.StorageClass,
          ...sse,
        };
        garbage = writeVersion(this, bucket, record).garbage;
        this.notifier?.objectEvent(bucket, 'ObjectCreated:Copy', record, ctx);
      });
    } catch (e) {
      this.store.removeBlobs(blobs);
      throw e;
    }
    this.collect(garbage);
    return {
      CopyObjectResult: {
        ETag: record.etag,
        LastModified: new Date(record.lastModified),
        ...checksumMembers(record.checksum),
      },
      VersionId: b.versioning ? record.versionId : undefined,
      CopySourceVersionId: this.versioned(src.bucket) ? source.versionId : undefined,
      ...sseMembers(record),
    };
  }

  private putObjectTagging(i: any, tags: Tag[]) {
    validateTags(tags, 10, true);
    let versionId = '';
    this.deps.storage.tx(() => {
      const r = this.objectFor(i);
      r.tags = tags.length ? tags : undefined;
      this.store.putVersion(i.Bucket, r);
      const cur = this.store.current(i.Bucket, r.key);
      if (cur && cur.versionId === r.versionId) this.store.setCurrent(i.Bucket, r.key, r);
      versionId = r.versionId;
    });
    return { VersionId: this.versioned(i.Bucket) ? versionId : undefined };
  }

  // ---------------------------------------------------------------- listing

  private listObjects(i: any, v: 1 | 2) {
    const b = this.bucket(i.Bucket);
    const prefix = String(i.Prefix ?? '');
    const delimiter = i.Delimiter ? String(i.Delimiter) : '';
    const maxKeys = i.MaxKeys === undefined ? 1000 : Number(i.MaxKeys);
    if (!Number.isInteger(maxKeys) || maxKeys < 0)
      throw E.invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', i.MaxKeys);
    if (i.EncodingType !== undefined && i.EncodingType !== 'url')
      throw E.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', i.EncodingType);
    const url = i.EncodingType === 'url';
    const e = (s: string | undefined) => (s === undefined ? undefined : url ? urlEncodeKey(s) : s);
    let marker: string | undefined;
    if (v === 2) {
      if (i.ContinuationToken !== undefined) {
        const t = String(i.ContinuationToken);
        marker = decodeToken(t);
        if (marker === undefined)
          throw E.invalidArgument('The continuation token provided is incorrect', 'continuation-token', t);
      } else marker = i.StartAfter || undefined;
    } else marker = i.Marker || undefined;
    const page =
      maxKeys === 0
        ? { contents: [], prefixes: [], truncated: false, last: undefined }
        : this.scan(b.name, prefix, delimiter, marker, Math.min(maxKeys, 1000));
    const contents = page.contents.map((r) => ({
      Key: e(r.key),
      LastModified: new Date(r.lastModified),
      ETag: r.etag,
      ChecksumAlgorithm: r.checksum ? [r.checksum.algorithm] : undefined,
      ChecksumType: r.checksum ? r.checksum.type : undefined,
      Size: r.size,
      StorageClass: r.storageClass ?? 'STANDARD',
      Owner: v === 1 || i.FetchOwner === true ? owner(r.owner) : undefined,
    }));
    const common = page.prefixes.map((p) => ({ Prefix: e(p) }));
    const base = {
      Name: b.name,
      Prefix: e(prefix),
      Delimiter: delimiter ? e(delimiter) : undefined,
      MaxKeys: maxKeys,
      EncodingType: i.EncodingType,
      IsTruncated: page.truncated,
      Contents: contents.length ? contents : undefined,
      CommonPrefixes: common.length ? common : undefined,
    };
    if (v === 1) {
      return { ...base, Marker: e(i.Marker ?? ''), NextMarker: page.truncated && delimiter ? e(page.last) : undefined };
    }
    return {
      ...base,
      KeyCount: contents.length + common.length,
      ContinuationToken: i.ContinuationToken,
      NextContinuationToken: page.truncated && page.last !== undefined ? encodeToken(page.last) : undefined,
      StartAfter: e(i.StartAfter),
    };
  }

  /** One page of current objects: keys and common prefixes in UTF-8 order after `marker`. */
  private scan(bucket: string, prefix: string, delimiter: string, marker: string | undefined, max: number) {
    const contents: ObjectRecord[] = [];
    const prefixes: string[] = [];
    let last: string | undefined;
    let truncated = false;
    let after: Buffer | undefined = marker !== undefined ? skipAfter(marker, prefix, delimiter) : undefined;
    let gte: Buffer | undefined = prefix ? Buffer.from(prefix) : undefined;
    if (after && gte && Buffer.compare(after, gte) < 0) after = undefined;
    else if (after) gte = undefined;
    outer: for (;;) {
      for (const [k, v] of this.store.objects(bucket, after, gte)) {
        const key = k.toString('utf8');
        if (prefix && !key.startsWith(prefix)) {
          if (key > prefix) break outer;
          continue;
        }
        if (delimiter) {
          const at = key.indexOf(delimiter, prefix.length);
          if (at >= 0) {
            const cp = key.slice(0, at + delimiter.length);
            if (contents.length + prefixes.length >= max) {
              truncated = true;
              break outer;
            }
            prefixes.push(cp);
            last = cp;
            // Jump past every key under this common prefix.
            after = Buffer.concat([Buffer.from(cp), Buffer.from([0xff])]);
            gte = undefined;
            continue outer;
          }
        }
        if (contents.length + prefixes.length >= max) {
          truncated = true;
          break outer;
        }
        contents.push(JSON.parse(v) as ObjectRecord);
        last = key;
      }
      break;
    }
    return { contents, prefixes, truncated, last };
  }

  private listObjectVersions(i: any) {
    const b = this.bucket(i.Bucket);
    const prefix = String(i.Prefix ?? '');
    const delimiter = i.Delimiter ? String(i.Delimiter) : '';
    const maxKeys = i.MaxKeys === undefined ? 1000 : Math.min(Number(i.MaxKeys), 1000);
    const url = i.EncodingType === 'url';
    const e = (s: string | undefined) => (s === undefined ? undefined : url ? urlEncodeKey(s) : s);
    const keyMarker: string | undefined = i.KeyMarker || undefined;
    const versionMarker: string | undefined = i.VersionIdMarker || undefined;
    const versions: Record<string, unknown>[] = [];
    const markers: Record<string, unknown>[] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let nextKey: string | undefined;
    let nextVersion: string | undefined;
    let prevKey: string | undefined;
    let passedVersionMarker = versionMarker === undefined;
    let skipPrefix: string | undefined;
    for (const [k, v] of this.store.versions(b.name, prefix ? Buffer.from(prefix) : undefined)) {
      const key = keyOfVersionRow(k);
      if (prefix && !key.startsWith(prefix)) {
        if (key > prefix) break;
        continue;
      }
      const r = JSON.parse(v) as ObjectRecord;
      const isLatest = key !== prevKey;
      prevKey = key;
      if (keyMarker !== undefined) {
        if (key < keyMarker) continue;
        if (key === keyMarker) {
          if (!passedVersionMarker) {
            if (r.versionId === versionMarker) passedVersionMarker = true;
            continue;
          }
          if (versionMarker === undefined) continue;
        }
      }
      if (skipPrefix !== undefined && key.startsWith(skipPrefix)) continue;
      if (delimiter) {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) {
          const cp = key.slice(0, at + delimiter.length);
          if (versions.length + markers.length + prefixes.length >= maxKeys) {
            truncated = true;
            break;
          }
          prefixes.push(cp);
          skipPrefix = cp;
          nextKey = cp;
          nextVersion = undefined;
          continue;
        }
      }
      if (versions.length + markers.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (r.deleteMarker) {
        markers.push({
          Owner: owner(r.owner),
          Key: e(key),
          VersionId: r.versionId,
          IsLatest: isLatest,
          LastModified: new Date(r.lastModified),
        });
      } else {
        versions.push({
          ETag: r.etag,
          ChecksumAlgorithm: r.checksum ? [r.checksum.algorithm] : undefined,
          ChecksumType: r.checksum?.type,
          Size: r.size,
          StorageClass: r.storageClass ?? 'STANDARD',
          Key: e(key),
          VersionId: r.versionId,
          IsLatest: isLatest,
          LastModified: new Date(r.lastModified),
          Owner: owner(r.owner),
        });
      }
      nextKey = key;
      nextVersion = r.versionId;
    }
    return {
      IsTruncated: truncated,
      KeyMarker: e(keyMarker ?? ''),
      VersionIdMarker: versionMarker ?? '',
      NextKeyMarker: truncated ? e(nextKey) : undefined,
      NextVersionIdMarker: truncated ? nextVersion : undefined,
      Versions: versions.length ? versions : undefined,
      DeleteMarkers: markers.length ? markers : undefined,
      Name: b.name,
      Prefix: e(prefix),
      Delimiter: delimiter ? e(delimiter) : undefined,
      MaxKeys: maxKeys,
      CommonPrefixes: prefixes.length ? prefixes.map((p) => ({ Prefix: e(p) })) : undefined,
      EncodingType: i.EncodingType,
    };
  }

  // ---------------------------------------------------------------- multipart

  private createMultipartUpload(i: any, ctx: RequestContext) {
    const b = this.bucket(i.Bucket);
    const key = validateKey(i.Key);
    refuseUnsupported(i);
    checkObjectAcl(b, i);
    const alg = i.ChecksumAlgorithm ? (String(i.ChecksumAlgorithm).toUpperCase() as ChecksumAlgorithm) : undefined;
    if (alg && !CHECKSUM_ALGORITHMS.includes(alg)) throw E.notImplementedHeader('x-amz-checksum-algorithm');
    let type = i.ChecksumType as 'FULL_OBJECT' | 'COMPOSITE' | undefined;
    if (type !== undefined && type !== 'FULL_OBJECT' && type !== 'COMPOSITE')
      throw E.invalidRequest('Value for x-amz-checksum-type header is invalid.');
    if (type && !alg)
      throw E.invalidRequest(
        'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
      );
    if (alg) type ??= alg === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
    if (alg && type === 'FULL_OBJECT' && !CRC_ALGORITHMS.includes(alg)) {
      throw E.invalidRequest(
        `The FULL_OBJECT checksum type cannot be used with the ${alg.toLowerCase()} checksum algorithm.`,
      );
    }
    if (alg === 'CRC64NVME' && type === 'COMPOSITE')
      throw E.invalidRequest('The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.');
    const upload: UploadRecord = {
      uploadId: randomBytes(48).toString('base64url'),
      key,
      initiated: ctx.clock.now(),
      owner: ctx.accountId,
      contentType: i.ContentType,
      contentEncoding: storedEncoding(i.ContentEncoding),
      contentDisposition: i.ContentDisposition,
      contentLanguage: i.ContentLanguage,
      cacheControl: i.CacheControl,
      expires: i.Expires instanceof Date ? i.Expires.toUTCString() : i.Expires,
      meta: i.Metadata,
      tags: parseTaggingHeader(i.Tagging),
      storageClass: i.StorageClass,
      checksumAlgorithm: alg as UploadRecord['checksumAlgorithm'],
      checksumType: type,
      ...encryptionFor(b, i),
    };
    this.deps.storage.tx(() => this.store.putUpload(b.name, upload));
    return {
      Bucket: b.name,
      Key: key,
      UploadId: upload.uploadId,
      ChecksumAlgorithm: upload.checksumAlgorithm,
      ChecksumType: upload.checksumType,
      ...sseMembers(upload),
    };
  }

  private upload(bucket: string, uploadId: string | undefined): UploadRecord {
    const u = uploadId ? this.store.getUpload(bucket, uploadId) : undefined;
    if (!u) throw E.noSuchUpload(String(uploadId ?? ''));
    return u;
  }

  private async uploadPart(i: any, ctx: RequestContext) {
    const b = this.bucket(i.Bucket);
    const partNumber = Number(i.PartNumber);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      throw E.invalidArgument(
        'Part number must be an integer between 1 and 10000, inclusive',
        'partNumber',
        i.PartNumber,
      );
    }
    refuseUnsupported(i);
    const u = this.upload(b.name, i.UploadId);
    if (u.key !== i.Key) throw E.noSuchUpload(String(i.UploadId));
    const body = await receiveObjectBody(this, i, MAX_PART, u.checksumAlgorithm);
    if (u.checksumAlgorithm && body.checksum?.algorithm !== u.checksumAlgorithm) {
      await this.store.removeTemp(body.tmpId);
      throw E.invalidRequest(
        `Checksum Type mismatch occurred, expected checksum Type: ${u.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${String(body.checksum?.algorithm).toLowerCase()}`,
      );
    }
    let old: PartRecord | undefined;
    let blobId: string;
    try {
      blobId = await this.store.commitBlob(body.tmpId);
    } catch (e) {
      await this.store.removeTemp(body.tmpId);
      throw e;
    }
    const part: PartRecord = {
      partNumber,
      etag: body.etag,
      size: body.size,
      lastModified: seconds(ctx.clock.now()),
      blob: { id: blobId, size: body.size },
      md5: body.md5.toString('hex'),
      checksum: body.checksum,
    };
    try {
      this.deps.storage.tx(() => {
        this.upload(b.name, i.UploadId);
        old = this.store.getPart(u.uploadId, partNumber);
        this.store.putPart(u.uploadId, part);
      });
    } catch (e) {
      this.store.removeBlobs([part.blob]);
      throw e;
    }
    if (old) this.store.removeBlobs([old.blob]);
    return {
      ETag: part.etag,
      ...checksumMembers(part.checksum ? { ...part.checksum, type: u.checksumType ?? 'COMPOSITE' } : undefined, false),
      ...sseMembers(u),
    };
  }

  private completeMultipartUpload(i: any, ctx: RequestContext) {
    const b = this.bucket(i.Bucket);
    const listed = (i.MultipartUpload?.Parts ?? []) as { PartNumber: number; ETag: string; [k: string]: unknown }[];
    if (!i.MultipartUpload) throw E.malformedXml();
    if (listed.length === 0) throw new E.AwsErrorAlias('InvalidRequest', 'You must specify at least one part', 400);
    let record!: ObjectRecord;
    let garbage: ObjectRecord[] = [];
    const unused: PartRecord[] = [];
    let u!: UploadRecord;
    this.deps.storage.tx(() => {
      const bucket = this.bucket(b.name);
      u = this.upload(bucket.name, i.UploadId);
      if (u.key !== i.Key) throw E.noSuchUpload(String(i.UploadId));
      const parts: PartRecord[] = [];
      let prev = 0;
      for (const p of listed) {
        const n = Number(p.PartNumber);
        if (!(n > prev)) throw E.invalidPartOrder();
        prev = n;
        const stored = this.store.getPart(u.uploadId, n);
        const etag = String(p.ETag ?? '').replace(/"/g, '');
        if (!stored || etag !== stored.etag.replace(/"/g, '')) throw E.invalidPart(n, p.ETag);
        if (u.checksumAlgorithm) {
          const given = p[`Checksum${u.checksumAlgorithm}`];
          if (given !== undefined && stored.checksum && given !== stored.checksum.value) throw E.invalidPart(n, p.ETag);
        }
        parts.push(stored);
      }
      for (let k = 0; k < parts.length - 1; k++) {
        if (parts[k].size < MIN_PART) throw E.entityTooSmall(parts[k].size, parts[k].partNumber, parts[k].etag);
      }
      const used = new Set(parts.map((p) => p.partNumber));
      for (const p of this.store.parts(u.uploadId)) if (!used.has(p.partNumber)) unused.push(p);
      const etag = `"${md5Hex(parts.map((p) => Buffer.from(p.md5, 'hex')))}-${parts.length}"`;
      let checksum: ObjectRecord['checksum'];
      const alg = u.checksumAlgorithm;
      if (alg && parts.every((p) => p.checksum?.algorithm === alg)) {
        if (u.checksumType === 'FULL_OBJECT') {
          let crc = crcFromBase64(parts[0].checksum!.value);
          for (const p of parts.slice(1)) crc = combineCrc(alg, crc, crcFromBase64(p.checksum!.value), p.size);
          const value = crcToBase64(alg, crc);
          const declared = i[`Checksum${alg}`];
          if (declared !== undefined && declared !== value) throw E.badDigest(alg);
          checksum = { algorithm: alg, value, type: 'FULL_OBJECT' };
        } else {
          const h = compositeChecksum(
            alg,
            parts.map((p) => Buffer.from(p.checksum!.value, 'base64')),
          );
          checksum = { algorithm: alg, value: `${h}-${parts.length}`, type: 'COMPOSITE' };
        }
      }
      record = {
        ...newRecordBase(this, bucket, u.key, ctx),
        size: parts.reduce((s, p) => s + p.size, 0),
        etag,
        blobs: parts.map((p) => p.blob),
        parts: parts.map((p) => p.size),
        contentType: u.contentType,
        contentEncoding: u.contentEncoding,
        contentDisposition: u.contentDisposition,
        contentLanguage: u.contentLanguage,
        cacheControl: u.cacheControl,
        expires: u.expires,
        meta: u.meta,
        tags: u.tags,
        storageClass: u.storageClass,
        checksum,
        sse: u.sse,
        kmsKeyId: u.kmsKeyId,
        bucketKeyEnabled: u.bucketKeyEnabled,
      };
      if (i.IfNoneMatch !== undefined || i.IfMatch !== undefined)
        this.checkWritePreconditions(bucket.name, u.key, { IfMatch: i.IfMatch, IfNoneMatch: i.IfNoneMatch });
      garbage = writeVersion(this, bucket, record).garbage;
      this.store.deleteUpload(bucket.name, u.uploadId);
      this.notifier?.objectEvent(bucket, 'ObjectCreated:CompleteMultipartUpload', record, ctx);
    });
    this.collect(garbage);
    this.store.removeBlobs(unused.map((p) => p.blob));
    return {
      Location: `${ctx.endpoint}/${b.name}/${encodeURIComponent(record.key).replace(/%2F/g, '/')}`,
      Bucket: b.name,
      Key: record.key,
      ETag: record.etag,
      ...checksumMembers(record.checksum),
      VersionId: b.versioning ? record.versionId : undefined,
      ...sseMembers(record),
    };
  }

  private abortMultipartUpload(i: any) {
    const b = this.bucket(i.Bucket);
    const blobs: PartRecord['blob'][] = [];
    this.deps.storage.tx(() => {
      const u = this.upload(b.name, i.UploadId);
      for (const p of this.store.parts(u.uploadId)) blobs.push(p.blob);
      this.store.deleteUpload(b.name, u.uploadId);
    });
    this.store.removeBlobs(blobs);
    return {};
  }

  private listParts(i: any) {
    const b = this.bucket(i.Bucket);
    const u = this.upload(b.name, i.UploadId);
    const max = i.MaxParts === undefined ? 1000 : Math.min(Number(i.MaxParts), 1000);
    const marker = Number(i.PartNumberMarker ?? 0) || 0;
    const parts: Record<string, unknown>[] = [];
    let truncated = false;
    for (const p of this.store.parts(u.uploadId, marker)) {
      if (parts.length >= max) {
        truncated = true;
        break;
      }
      parts.push({
        PartNumber: p.partNumber,
        LastModified: new Date(p.lastModified),
        ETag: p.etag,
        Size: p.size,
        ...checksumMembers(p.checksum ? { ...p.checksum, type: u.checksumType ?? 'COMPOSITE' } : undefined, false),
      });
    }
    return {
      Bucket: b.name,
      Key: u.key,
      UploadId: u.uploadId,
      PartNumberMarker: marker,
      NextPartNumberMarker: parts.length ? parts[parts.length - 1].PartNumber : undefined,
      MaxParts: max,
      IsTruncated: truncated,
      Parts: parts.length ? parts : undefined,
      Initiator: owner(u.owner),
      Owner: owner(u.owner),
      StorageClass: u.storageClass ?? 'STANDARD',
      ChecksumAlgorithm: u.checksumAlgorithm,
      ChecksumType: u.checksumType,
    };
  }

  private listMultipartUploads(i: any) {
    const b = this.bucket(i.Bucket);
    const prefix = String(i.Prefix ?? '');
    const max = i.MaxUploads === undefined ? 1000 : Math.min(Number(i.MaxUploads), 1000);
    const all = [...this.store.uploads(b.name)]
      .filter((u) => u.key.startsWith(prefix))
      .sort((a, c) => (a.key < c.key ? -1 : a.key > c.key ? 1 : a.initiated - c.initiated));
    const keyMarker: string | undefined = i.KeyMarker || undefined;
    const idMarker: string | undefined = i.UploadIdMarker || undefined;
    let start = 0;
    if (keyMarker !== undefined) {
      start = all.findIndex(
        (u) => u.key > keyMarker || (idMarker !== undefined && u.key === keyMarker && u.uploadId === idMarker),
      );
      if (start < 0) start = all.length;
      else if (idMarker !== undefined && all[start].uploadId === idMarker) start++;
    }
    const page = all.slice(start, start + max);
    const truncated = start + max < all.length;
    return {
      Bucket: b.name,
      KeyMarker: keyMarker ?? '',
      UploadIdMarker: idMarker ?? '',
      NextKeyMarker: truncated ? page[page.length - 1]?.key : undefined,
      NextUploadIdMarker: truncated ? page[page.length - 1]?.uploadId : undefined,
      Prefix: i.Prefix,
      MaxUploads: max,
      IsTruncated: truncated,
      Uploads: page.length
        ? page.map((u) => ({
            UploadId: u.uploadId,
            Key: u.key,
            Initiated: new Date(u.initiated),
            StorageClass: u.storageClass ?? 'STANDARD',
            Owner: owner(u.owner),
            Initiator: owner(u.owner),
            ChecksumAlgorithm: u.checksumAlgorithm,
            ChecksumType: u.checksumType,
          }))
        : undefined,
    };
  }

  private refuseAcl(i: any, op: string): never {
    const b = this.bucket(i.Bucket);
    if ((b.ownership ?? 'BucketOwnerEnforced') === 'BucketOwnerEnforced') throw aclNotSupported();
    throw E.notImplemented(`The ${op} operation`);
  }

  private async uploadPartCopy(i: any, ctx: RequestContext) {
    const b = this.bucket(i.Bucket);
    const partNumber = Number(i.PartNumber);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      throw E.invalidArgument(
        'Part number must be an integer between 1 and 10000, inclusive',
        'partNumber',
        i.PartNumber,
      );
    }
    refuseUnsupported(i);
    if (i.CopySourceSSECustomerAlgorithm !== undefined)
      throw E.notImplementedHeader('x-amz-copy-source-server-side-encryption-customer-algorithm');
    const u = this.upload(b.name, i.UploadId);
    if (u.key !== i.Key) throw E.noSuchUpload(String(i.UploadId));
    const src = parseCopySource(String(i.CopySource ?? ''));
    const source = this.objectFor({ Bucket: src.bucket, Key: src.key, VersionId: src.versionId });
    checkConditions(
      source,
      {
        IfMatch: i.CopySourceIfMatch,
        IfNoneMatch: i.CopySourceIfNoneMatch,
        IfModifiedSince: i.CopySourceIfModifiedSince,
        IfUnmodifiedSince: i.CopySourceIfUnmodifiedSince,
      },
      true,
    );
    let start = 0;
    let end = source.size - 1;
    if (i.CopySourceRange !== undefined) {
      const m = /^bytes=(\d+)-(\d+)$/.exec(String(i.CopySourceRange));
      if (!m)
        throw E.invalidArgument(
          'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
          'x-amz-copy-source-range',
          i.CopySourceRange,
        );
      start = Number(m[1]);
      end = Number(m[2]);
      if (end < start || end >= source.size)
        throw new E.AwsErrorAlias('InvalidRange', 'The requested range is not satisfiable', 416, {
          extra: { RangeRequested: i.CopySourceRange, ActualObjectSize: source.size },
        });
    }
    if (end - start + 1 > MAX_PART)
      throw E.invalidRequest(
        'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120',
      );
    const input = { Body: source.size === 0 ? Buffer.alloc(0) : this.store.read(source.blobs, start, end) };
    const body = await receiveObjectBody(this, input, MAX_PART, u.checksumAlgorithm);
    let blobId: string;
    try {
      blobId = await this.store.commitBlob(body.tmpId);
    } catch (e) {
      await this.store.removeTemp(body.tmpId);
      throw e;
    }
    const part: PartRecord = {
      partNumber,
      etag: body.etag,
      size: body.size,
      lastModified: seconds(ctx.clock.now()),
      blob: { id: blobId, size: body.size },
      md5: body.md5.toString('hex'),
      checksum: body.checksum,
    };
    let old: PartRecord | undefined;
    try {
      this.deps.storage.tx(() => {
        this.upload(b.name, i.UploadId);
        old = this.store.getPart(u.uploadId, partNumber);
        this.store.putPart(u.uploadId, part);
      });
    } catch (e) {
      this.store.removeBlobs([part.blob]);
      throw e;
    }
    if (old) this.store.removeBlobs([old.blob]);
    return {
      CopyPartResult: {
        ETag: part.etag,
        LastModified: new Date(part.lastModified),
        ...checksumMembers(part.checksum ? { ...part.checksum, type: 'COMPOSITE' } : undefined, false),
      },
      CopySourceVersionId: this.versioned(src.bucket) ? source.versionId : undefined,
      ...sseMembers(u),
    };
  }

  // ---------------------------------------------------------------- configuration

  private putBucketEncryption(i: any) {
    const cfg = i.ServerSideEncryptionConfiguration;
    const rules = cfg?.Rules as Record<string, any>[] | undefined;
    if (rules?.length !== 1) throw E.malformedXml();
    const def = rules[0].ApplyServerSideEncryptionByDefault;
    if (!def || !['AES256', 'aws:kms', 'aws:kms:dsse'].includes(def.SSEAlgorithm)) throw E.malformedXml();
    if (def.SSEAlgorithm === 'AES256' && def.KMSMasterKeyID) {
      throw E.invalidArgument(
        'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
        'ApplyServerSideEncryptionByDefault',
      );
    }
    return this.updateBucket(
      i.Bucket,
      (b) =>
        void (b.encryption = {
          Rules: [{ ApplyServerSideEncryptionByDefault: def, BucketKeyEnabled: rules[0].BucketKeyEnabled ?? false }],
        }),
    );
  }

  private putBucketVersioning(i: any) {
    const status = i.VersioningConfiguration?.Status;
    if (i.VersioningConfiguration?.MFADelete === 'Enabled') throw E.notImplemented('MFA delete');
    if (status !== 'Enabled' && status !== 'Suspended') throw E.malformedXml();
    return this.updateBucket(i.Bucket, (b) => void (b.versioning = status));
  }

  private putBucketLifecycle(i: any) {
    const rules = (i.LifecycleConfiguration?.Rules ?? []) as Record<string, any>[];
    if (!i.LifecycleConfiguration || rules.length === 0 || rules.length > 1000) throw E.malformedXml();
    const ids = new Set<string>();
    for (const r of rules) {
      if (r.Status !== 'Enabled' && r.Status !== 'Disabled') throw E.malformedXml();
      if (r.ID !== undefined) {
        if (String(r.ID).length > 255)
          throw E.invalidArgument('ID length should not exceed allowed limit of 255', 'ID', r.ID);
        if (ids.has(r.ID))
          throw E.invalidArgument('Rule ID must be unique. Found same ID for more than one rule', 'ID', r.ID);
        ids.add(r.ID);
      }
      const actions = [
        'Expiration',
        'Transitions',
        'NoncurrentVersionTransitions',
        'NoncurrentVersionExpiration',
        'AbortIncompleteMultipartUpload',
      ];
      if (!actions.some((a) => r[a] !== undefined))
        throw E.invalidRequest('At least one action needs to be specified in a rule');
      if (r.Expiration?.Days !== undefined && !(Number(r.Expiration.Days) > 0))
        throw E.invalidArgument("'Days' for Expiration action must be a positive integer", 'Days', r.Expiration.Days);
      if (r.ID === undefined)
        r.ID = randomBytes(24)
          .toString('base64')
          .replace(/[^A-Za-z0-9]/g, '')
          .slice(0, 48);
    }
    this.updateBucket(i.Bucket, (b) => void (b.lifecycle = { Rules: rules }));
    return { TransitionDefaultMinimumSize: 'all_storage_classes_128K' };
  }

  private putBucketPolicy(i: any) {
    const text = String(i.Policy ?? '');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new E.AwsErrorAlias('MalformedPolicy', "Policies must be valid JSON and the first byte must be '{'", 400);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !text.trimStart().startsWith('{')) {
      throw new E.AwsErrorAlias('MalformedPolicy', "Policies must be valid JSON and the first byte must be '{'", 400);
    }
    const stmts = (doc as Record<string, unknown>).Statement;
    if (stmts === undefined) throw new E.AwsErrorAlias('MalformedPolicy', 'Missing required field Statement', 400);
    return this.updateBucket(i.Bucket, (b) => void (b.policy = text));
  }

  private putBucketNotification(i: any, ctx: RequestContext) {
    const cfg = i.NotificationConfiguration ?? {};
    if (cfg.EventBridgeConfiguration !== undefined) throw E.notImplemented('S3 event notifications to EventBridge');
    for (const list of ['TopicConfigurations', 'QueueConfigurations', 'LambdaFunctionConfigurations']) {
      for (const c of (cfg[list] ?? []) as Record<string, any>[]) if (!c.Id) c.Id = randomBytes(16).toString('hex');
    }
    const empty = !['TopicConfigurations', 'QueueConfigurations', 'LambdaFunctionConfigurations'].some(
      (k) => cfg[k]?.length,
    );
    if (!empty && !this.notifier) throw E.notImplemented('Event notifications (no delivery path in this build)');
    // Validation and the s3:TestEvent deliveries commit with the configuration.
    return this.updateBucket(i.Bucket, (b) => {
      if (empty) delete b.notification;
      else {
        this.notifier?.validate(cfg, b, ctx);
        b.notification = cfg;
      }
    });
  }
}

const aclNotSupported = () =>
  new E.AwsErrorAlias('AccessControlListNotSupported', 'The bucket does not allow ACLs', 400);

function hasGrants(i: any): boolean {
  return ['GrantFullControl', 'GrantRead', 'GrantReadACP', 'GrantWrite', 'GrantWriteACP'].some(
    (g) => i[g] !== undefined,
  );
}

/** Object ACLs: with BucketOwnerEnforced (the default) only `bucket-owner-full-control` is accepted, as AWS does; otherwise they are accepted and not enforced. */
function checkObjectAcl(b: BucketRecord, i: any): void {
  if ((b.ownership ?? 'BucketOwnerEnforced') !== 'BucketOwnerEnforced') return;
  if ((i.ACL !== undefined && i.ACL !== 'bucket-owner-full-control') || hasGrants(i)) throw aclNotSupported();
}

export function defaultEncryption(): BucketRecord['encryption'] {
  return { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }] };
}

/** S3's bucket naming rules (general purpose buckets). */
export function validBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) return false;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return false;
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name) || /(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name))
    return false;
  return true;
}

function parseCopySource(v: string): { bucket: string; key: string; versionId?: string } {
  let s = v;
  let versionId: string | undefined;
  const q = s.indexOf('?');
  if (q >= 0) {
    versionId = new URLSearchParams(s.slice(q + 1)).get('versionId') ?? undefined;
    s = s.slice(0, q);
  }
  try {
    s = decodeURIComponent(s);
  } catch {
    throw E.invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', v);
  }
  if (s.startsWith('/')) s = s.slice(1);
  const slash = s.indexOf('/');
  if (slash <= 0 || slash === s.length - 1)
    throw E.invalidArgument('Invalid copy source object key', 'x-amz-copy-source', v);
  if (s.startsWith('arn:')) throw E.notImplemented('Copy sources given as access point ARNs');
  return { bucket: s.slice(0, slash), key: s.slice(slash + 1), versionId };
}

/** Keys in listings with `encoding-type=url`, as S3 encodes them (spaces as '+', '/' kept). */
export function urlEncodeKey(s: string): string {
  return encodeURIComponent(s)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function encodeToken(last: string): string {
  return Buffer.from(`1:${last}`, 'utf8').toString('base64');
}
function decodeToken(t: string): string | undefined {
  const s = Buffer.from(t, 'base64').toString('utf8');
  return s.startsWith('1:') ? s.slice(2) : undefined;
}

/** Where a listing resumes after `marker`: past the whole common prefix when the marker is one. */
function skipAfter(marker: string, prefix: string, delimiter: string): Buffer {
  const m = Buffer.from(marker, 'utf8');
  if (
    delimiter &&
    marker.endsWith(delimiter) &&
    marker.startsWith(prefix) &&
    marker.indexOf(delimiter, prefix.length) === marker.length - delimiter.length
  ) {
    return Buffer.concat([m, Buffer.from([0xff])]);
  }
  return m;
}

/** Composite checksum: the algorithm over the concatenated binary part checksums, base64. */
function compositeChecksum(alg: ChecksumAlgorithm, parts: Buffer[]): string {
  const h = hasher(alg);
  for (const p of parts) h.update(p);
  return h.digest().toString('base64');
}
