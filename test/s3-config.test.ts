import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCorsCommand,
  DeleteBucketEncryptionCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAccelerateConfigurationCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetBucketWebsiteCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VirtualClock } from '../src/core/clock.ts';
import { type Eddy, startEddy } from '../src/index.ts';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const DAY = 24 * 3600 * 1000;

async function fails(p: Promise<unknown>): Promise<S3ServiceException & Record<string, any>> {
  try {
    await p;
  } catch (e) {
    return e as S3ServiceException & Record<string, any>;
  }
  throw new Error('expected the call to fail');
}

const text = async (o: { Body?: unknown }) => (o.Body as { transformToString(): Promise<string> }).transformToString();

let eddy: Eddy;
let s3: S3Client;
beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, clock: 'virtual' });
  s3 = new S3Client({
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: creds,
    forcePathStyle: true,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  s3?.destroy();
  await eddy?.stop();
});
beforeEach(async () => {
  eddy.reset();
  await s3.send(new CreateBucketCommand({ Bucket: 'cfg' }));
});

describe('bucket configuration', () => {
  it('encryption: SSE-S3 by default, KMS when configured, back to default on delete', async () => {
    const def = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'cfg' }));
    expect(def.ServerSideEncryptionConfiguration?.Rules?.[0]).toEqual({
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
      BucketKeyEnabled: false,
    });
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'cfg',
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/my-key' },
              BucketKeyEnabled: true,
            },
          ],
        },
      }),
    );
    const put = await s3.send(new PutObjectCommand({ Bucket: 'cfg', Key: 'k', Body: 'x' }));
    expect(put).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/my-key', BucketKeyEnabled: true });
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'cfg', Key: 'k' }))).ServerSideEncryption).toBe('aws:kms');
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket: 'cfg' }));
    expect((await s3.send(new PutObjectCommand({ Bucket: 'cfg', Key: 'k2', Body: 'x' }))).ServerSideEncryption).toBe(
      'AES256',
    );
  });

  it('public access block, tagging and policy are stored and returned', async () => {
    expect((await fails(s3.send(new GetPublicAccessBlockCommand({ Bucket: 'cfg' })))).name).toBe(
      'NoSuchPublicAccessBlockConfiguration',
    );
    const pab = {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: false,
    };
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'cfg', PublicAccessBlockConfiguration: pab }));
    expect((await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'cfg' }))).PublicAccessBlockConfiguration).toEqual(
      pab,
    );
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'cfg' }));

    expect((await fails(s3.send(new GetBucketTaggingCommand({ Bucket: 'cfg' })))).name).toBe('NoSuchTagSet');
    await s3.send(
      new PutBucketTaggingCommand({ Bucket: 'cfg', Tagging: { TagSet: [{ Key: 'team', Value: 'audit' }] } }),
    );
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket: 'cfg' }))).TagSet).toEqual([
      { Key: 'team', Value: 'audit' },
    ]);
    await s3.send(new DeleteBucketTaggingCommand({ Bucket: 'cfg' }));

    const nsp = await fails(s3.send(new GetBucketPolicyCommand({ Bucket: 'cfg' })));
    expect(nsp.name).toBe('NoSuchBucketPolicy');
    expect(nsp.$metadata.httpStatusCode).toBe(404);
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::cfg/*' }],
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'cfg', Policy: policy }));
    expect((await s3.send(new GetBucketPolicyCommand({ Bucket: 'cfg' }))).Policy).toBe(policy);
    expect((await fails(s3.send(new PutBucketPolicyCommand({ Bucket: 'cfg', Policy: 'not json' })))).name).toBe(
      'MalformedPolicy',
    );
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'cfg' }));
  });

  it('CORS, website and ownership controls are stored and returned; ACLs follow ObjectOwnership', async () => {
    expect((await fails(s3.send(new GetBucketCorsCommand({ Bucket: 'cfg' })))).name).toBe('NoSuchCORSConfiguration');
    const rules = [
      {
        AllowedMethods: ['GET', 'PUT'],
        AllowedOrigins: ['*'],
        AllowedHeaders: ['*'],
        ExposeHeaders: ['ETag'],
        MaxAgeSeconds: 3000,
      },
    ];
    await s3.send(new PutBucketCorsCommand({ Bucket: 'cfg', CORSConfiguration: { CORSRules: rules } }));
    expect((await s3.send(new GetBucketCorsCommand({ Bucket: 'cfg' }))).CORSRules).toEqual(rules);
    await s3.send(new DeleteBucketCorsCommand({ Bucket: 'cfg' }));
    await s3.send(
      new PutBucketWebsiteCommand({
        Bucket: 'cfg',
        WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' }, ErrorDocument: { Key: 'error.html' } },
      }),
    );
    expect(await s3.send(new GetBucketWebsiteCommand({ Bucket: 'cfg' }))).toMatchObject({
      IndexDocument: { Suffix: 'index.html' },
      ErrorDocument: { Key: 'error.html' },
    });

    // New buckets enforce bucket ownership: ACLs other than bucket-owner-full-control are refused.
    expect((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'cfg' }))).OwnershipControls?.Rules).toEqual([
      { ObjectOwnership: 'BucketOwnerEnforced' },
    ]);
    const acl = await fails(s3.send(new PutObjectCommand({ Bucket: 'cfg', Key: 'k', Body: 'x', ACL: 'public-read' })));
    expect(acl.name).toBe('AccessControlListNotSupported');
    await s3.send(new PutObjectCommand({ Bucket: 'cfg', Key: 'k', Body: 'x', ACL: 'bucket-owner-full-control' }));
    const objectAcl = await s3.send(new GetObjectAclCommand({ Bucket: 'cfg', Key: 'k' }));
    expect(objectAcl.Grants).toEqual([
      {
        Grantee: { ID: objectAcl.Owner?.ID, DisplayName: objectAcl.Owner?.DisplayName, Type: 'CanonicalUser' },
        Permission: 'FULL_CONTROL',
      },
    ]);
    await s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: 'cfg',
        OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'cfg', Key: 'k2', Body: 'x', ACL: 'public-read' }));
    const bucketAcl = await fails(s3.send(new CreateBucketCommand({ Bucket: 'acl-bucket', ACL: 'public-read' })));
    expect(bucketAcl.name).toBe('InvalidBucketAclWithObjectOwnership');
  });

  it('refuses unimplemented configuration by name', async () => {
    const e = await fails(s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket: 'cfg' })));
    expect(e.name).toBe('NotImplemented');
    expect(e.message).toContain('GetBucketAccelerateConfiguration');
    expect(e.$metadata.httpStatusCode).toBe(501);
  });
});

describe('versioning', () => {
  it('keeps versions, delete markers and lists them', async () => {
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'cfg' }))).Status).toBeUndefined();
    await s3.send(new PutObjectCommand({ Bucket: 'cfg', Key: 'doc', Body: 'before versioning' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg', VersioningConfiguration: { Status: 'Enabled' } }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'cfg' }))).Status).toBe('Enabled');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: 'cfg', Key: 'doc', Body: 'one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: 'cfg', Key: 'doc', Body: 'two' }));
    expect(v1.VersionId).toMatch(/^[\w-]{32}$/);
    expect(v2.VersionId).not.toBe(v1.VersionId);
    expect(await text(await s3.send(new GetObjectCommand({ Bucket: 'cfg', Key: 'doc' })))).toBe('two');
    expect(
      await text(await s3.send(new GetObjectCommand({ Bucket: 'cfg', Key: 'doc', VersionId: v1.VersionId }))),
    ).toBe('one');
    expect(await text(await s3.send(new GetObjectCommand({ Bucket: 'cfg', Key: 'doc', VersionId: 'null' })))).toBe(
      'before versioning',
    );

    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'cfg', Key: 'doc' }));
    expect(del.DeleteMarker).toBe(true);
    expect(del.VersionId).toBeTruthy();
    const gone = await fails(s3.send(new GetObjectCommand({ Bucket: 'cfg', Key: 'doc' })));
    expect(gone.name).toBe('NoSuchKey');
    expect(gone.$response?.headers?.['x-amz-delete-marker'] ?? 'true').toBe('true');
    const onMarker = await fails(
      s3.send(new GetObjectCommand({ Bucket: 'cfg', Key: 'doc', VersionId: del.VersionId })),
    );
    expect(onMarker.$metadata.httpStatusCode).toBe(405);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'cfg' }))).KeyCount).toBe(0);

    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'cfg' }));
    expect(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([[del.VersionId, true]]);
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size])).toEqual([
      [v2.VersionId, false, 3],
      [v1.VersionId, false, 3],
      ['null', false, 17],
    ]);
    // Deleting the marker brings the object back.
    await s3.send(new DeleteObjectCommand({ Bucket: 'cfg', Key: 'doc', VersionId: del.VersionId }));
    expect(await text(await s3.send(new GetObjectCommand({ Bucket: 'cfg', Key: 'doc' })))).toBe('two');
    // Deleting a specific version removes it for good.
    await s3.send(
      new DeleteObjectsCommand({ Bucket: 'cfg', Delete: { Objects: [{ Key: 'doc', VersionId: v2.VersionId }] } }),
    );
    expect(await text(await s3.send(new GetObjectCommand({ Bucket: 'cfg', Key: 'doc' })))).toBe('one');
    const nsv = await fails(s3.send(new GetObjectCommand({ Bucket: 'cfg', Key: 'doc', VersionId: v2.VersionId })));
    expect(nsv.name).toBe('NoSuchVersion');

    // Suspended: writes replace the 'null' version.
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'cfg', VersioningConfiguration: { Status: 'Suspended' } }));
    const s1 = await s3.send(new PutObjectCommand({ Bucket: 'cfg', Key: 'doc', Body: 'suspended' }));
    expect(s1.VersionId).toBe('null');
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: 'cfg', Prefix: 'doc' }));
    expect(after.Versions?.map((v) => v.VersionId)).toEqual(['null', v1.VersionId]);
  });
});

describe('lifecycle', () => {
  it('stores rules and expires matching objects and stale uploads on the clock', async () => {
    const clock = eddy.clock as VirtualClock;
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'cfg',
        LifecycleConfiguration: {
          Rules: [
            { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 1 } },
            {
              ID: 'mpu',
              Status: 'Enabled',
              Filter: { Prefix: '' },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
            },
            { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'keep/' }, Expiration: { Days: 1 } },
          ],
        },
      }),
    );
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'cfg' }));
    expect(got.Rules?.map((r) => r.ID)).toEqual(['logs', 'mpu', 'off']);
    expect(got.Rules?.[0]).toMatchObject({ Expiration: { Days: 1 }, Filter: { Prefix: 'logs/' } });
    await s3.send(new PutObjectCommand({ Bucket: 'cfg', Key: 'logs/a', Body: 'a' }));
    await s3.send(new PutObjectCommand({ Bucket: 'cfg', Key: 'keep/b', Body: 'b' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'cfg', Key: 'big' }));
    await clock.advance(2 * DAY + 3600 * 1000);
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: 'cfg' }))).Contents?.map((c) => c.Key);
    expect(keys).toEqual(['keep/b']);
    await clock.advance(DAY);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'cfg' }))).Uploads).toBeUndefined();
    const bad = await fails(
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: 'cfg',
          LifecycleConfiguration: { Rules: [{ ID: 'x', Status: 'Enabled', Filter: { Prefix: '' } }] },
        }),
      ),
    );
    expect(bad.name).toBe('InvalidRequest');
  });
});

describe('durability', () => {
  it('keeps objects and bodies across a restart of a data dir; reset leaves no blobs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'eddy-s3-data-'));
    try {
      let e = await startEddy({ port: 0, dataDir });
      let c = new S3Client({
        endpoint: e.endpoint,
        region: 'us-east-1',
        credentials: creds,
        forcePathStyle: true,
        maxAttempts: 1,
      });
      await c.send(new CreateBucketCommand({ Bucket: 'durable' }));
      await c.send(new PutObjectCommand({ Bucket: 'durable', Key: 'a', Body: 'first' }));
      await c.send(new PutObjectCommand({ Bucket: 'durable', Key: 'a', Body: 'second' }));
      await c.send(new PutObjectCommand({ Bucket: 'durable', Key: 'b', Body: Buffer.alloc(3 * 1024 * 1024, 7) }));
      await c.send(new DeleteObjectCommand({ Bucket: 'durable', Key: 'b' }));
      c.destroy();
      await e.stop();
      // One blob file per live object: the overwritten and deleted bodies are gone.
      expect(readdirSync(join(dataDir, 'blobs')).length).toBe(1);
      e = await startEddy({ port: 0, dataDir });
      c = new S3Client({
        endpoint: e.endpoint,
        region: 'us-east-1',
        credentials: creds,
        forcePathStyle: true,
        maxAttempts: 1,
      });
      expect(await text(await c.send(new GetObjectCommand({ Bucket: 'durable', Key: 'a' })))).toBe('second');
      e.reset();
      expect((await fails(c.send(new GetObjectCommand({ Bucket: 'durable', Key: 'a' })))).name).toBe('NoSuchBucket');
      c.destroy();
      await e.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
