import http from 'node:http';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Eddy, startEddy } from '../src/index.ts';

let eddy: Eddy;
let s3: S3Client;
const creds = { accessKeyId: 'test', secretAccessKey: 'test' };

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true });
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
beforeEach(() => eddy.reset());

async function fails(p: Promise<unknown>): Promise<S3ServiceException & Record<string, any>> {
  try {
    await p;
  } catch (e) {
    return e as S3ServiceException & Record<string, any>;
  }
  throw new Error('expected the call to fail');
}

const text = async (o: { Body?: unknown }) => (o.Body as { transformToString(): Promise<string> }).transformToString();

describe('buckets', () => {
  it('creates, heads, lists, locates and deletes buckets', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'alpha-bucket' }));
    const c = await s3.send(new CreateBucketCommand({ Bucket: 'beta.bucket' }));
    expect(c.Location).toBe('/beta.bucket');
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'alpha-bucket' }));
    expect(head.BucketRegion).toBe('us-east-1');
    const list = await s3.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toEqual(['alpha-bucket', 'beta.bucket']);
    expect(list.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
    expect(
      (await s3.send(new GetBucketLocationCommand({ Bucket: 'alpha-bucket' }))).LocationConstraint,
    ).toBeUndefined();
    await s3.send(new DeleteBucketCommand({ Bucket: 'alpha-bucket' }));
    const err = await fails(s3.send(new HeadBucketCommand({ Bucket: 'alpha-bucket' })));
    expect(err.name).toBe('NotFound');
    expect(err.$metadata.httpStatusCode).toBe(404);
  });

  it('applies LocationConstraint rules', async () => {
    await s3.send(
      new CreateBucketCommand({ Bucket: 'eu-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }),
    );
    expect((await s3.send(new GetBucketLocationCommand({ Bucket: 'eu-bucket' }))).LocationConstraint).toBe('eu-west-1');
    // The SDK drops an explicit us-east-1 constraint; a raw request shows S3's answer.
    const raw = await fetch(`${eddy.endpoint}/use1-bucket`, {
      method: 'PUT',
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
      },
      body: '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>',
    });
    expect(raw.status).toBe(400);
    expect(await raw.text()).toContain('<Code>InvalidLocationConstraint</Code>');
    const west = new S3Client({
      endpoint: eddy.endpoint,
      region: 'us-west-2',
      credentials: creds,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    const mismatch = await fails(
      west.send(
        new CreateBucketCommand({
          Bucket: 'west-bucket',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      ),
    );
    expect(mismatch.name).toBe('IllegalLocationConstraintException');
    await west.send(new CreateBucketCommand({ Bucket: 'west-bucket' })); // the SDK adds LocationConstraint: us-west-2
    expect((await west.send(new GetBucketLocationCommand({ Bucket: 'west-bucket' }))).LocationConstraint).toBe(
      'us-west-2',
    );
    // Owner re-creating: 409 outside us-east-1, 200 in us-east-1.
    const again = await fails(
      west.send(
        new CreateBucketCommand({
          Bucket: 'west-bucket',
          CreateBucketConfiguration: { LocationConstraint: 'us-west-2' },
        }),
      ),
    );
    expect(again.name).toBe('BucketAlreadyOwnedByYou');
    expect(again.$metadata.httpStatusCode).toBe(409);
    await s3.send(new CreateBucketCommand({ Bucket: 'east-bucket' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'east-bucket' }));
    west.destroy();
  });

  it('refuses another account, bad names and non-empty deletes', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'taken-bucket' }));
    const other = new S3Client({
      endpoint: eddy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: '111122223333', secretAccessKey: 'x' },
      forcePathStyle: true,
      maxAttempts: 1,
    });
    const taken = await fails(other.send(new CreateBucketCommand({ Bucket: 'taken-bucket' })));
    expect(taken.name).toBe('BucketAlreadyExists');
    expect(taken.$metadata.httpStatusCode).toBe(409);
    expect((await other.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
    other.destroy();
    for (const name of ['ab', 'UPPER', 'a..b', '192.168.1.1', 'xn--abc', '-abc', 'abc-']) {
      const e = await fails(s3.send(new CreateBucketCommand({ Bucket: name })));
      expect(e.name, name).toBe('InvalidBucketName');
      expect(e.BucketName).toBe(name);
    }
    await s3.send(new PutObjectCommand({ Bucket: 'taken-bucket', Key: 'k', Body: 'x' }));
    const notEmpty = await fails(s3.send(new DeleteBucketCommand({ Bucket: 'taken-bucket' })));
    expect(notEmpty.name).toBe('BucketNotEmpty');
    expect(notEmpty.$metadata.httpStatusCode).toBe(409);
    const missing = await fails(s3.send(new DeleteBucketCommand({ Bucket: 'no-such-bucket' })));
    expect(missing.name).toBe('NoSuchBucket');
    expect(missing.message).toBe('The specified bucket does not exist');
  });
});

describe('objects', () => {
  beforeEach(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'objects' }));
  });

  it('puts and gets with metadata, content headers, ETag, SSE and the default CRC32 checksum', async () => {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'objects',
        Key: 'dir/hello world+é.txt',
        Body: 'hello world',
        ContentType: 'text/plain',
        CacheControl: 'max-age=60',
        ContentDisposition: 'attachment',
        ContentLanguage: 'en',
        Metadata: { owner: 'me', 'x-two': 'b' },
      }),
    );
    expect(put.ETag).toBe('"5eb63bbbe01eeed093cb22bb8f5acdc3"');
    expect(put.ServerSideEncryption).toBe('AES256');
    expect(put.ChecksumCRC32).toBe('DUoRhQ==');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/hello world+é.txt' }));
    expect(await text(got)).toBe('hello world');
    expect(got).toMatchObject({
      ETag: put.ETag,
      ContentType: 'text/plain',
      CacheControl: 'max-age=60',
      ContentDisposition: 'attachment',
      ContentLanguage: 'en',
      ContentLength: 11,
      Metadata: { owner: 'me', 'x-two': 'b' },
      ServerSideEncryption: 'AES256',
      AcceptRanges: 'bytes',
    });
    expect(got.ChecksumCRC32).toBe('DUoRhQ=='); // checksum mode is on by default in current SDKs
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'dir/hello world+é.txt' }));
    expect(head.ContentLength).toBe(11);
    expect(head.LastModified?.getTime()).toBe(got.LastModified?.getTime());
  });

  it('verifies explicit checksums and Content-MD5', async () => {
    for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
      const r = await s3.send(
        new PutObjectCommand({ Bucket: 'objects', Key: `sum-${alg}`, Body: 'checksum me', ChecksumAlgorithm: alg }),
      );
      expect(r[`Checksum${alg}`]).toBeTruthy();
      const h = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: `sum-${alg}`, ChecksumMode: 'ENABLED' }));
      expect(h[`Checksum${alg}`]).toBe(r[`Checksum${alg}`]);
    }
    const bad = await fails(
      s3.send(
        new PutObjectCommand({
          Bucket: 'objects',
          Key: 'bad',
          Body: 'data',
          ChecksumSHA256: Buffer.alloc(32).toString('base64'),
        }),
      ),
    );
    expect(bad.name).toBe('BadDigest');
    const md5 = await fails(
      s3.send(
        new PutObjectCommand({
          Bucket: 'objects',
          Key: 'bad',
          Body: 'data',
          ContentMD5: Buffer.alloc(16).toString('base64'),
        }),
      ),
    );
    expect(md5.name).toBe('BadDigest');
    expect(await fails(s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'bad' })))).toMatchObject({
      name: 'NotFound',
    });
  });

  it('answers ranges with 206 and unsatisfiable ones with InvalidRange', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'r', Body: '0123456789' }));
    const cases: [string, string, string][] = [
      ['bytes=2-5', '2345', 'bytes 2-5/10'],
      ['bytes=7-', '789', 'bytes 7-9/10'],
      ['bytes=-3', '789', 'bytes 7-9/10'],
      ['bytes=8-100', '89', 'bytes 8-9/10'],
    ];
    for (const [range, body, cr] of cases) {
      const r = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'r', Range: range }));
      expect(r.$metadata.httpStatusCode).toBe(206);
      expect(r.ContentRange).toBe(cr);
      expect(await text(r)).toBe(body);
    }
    const e = await fails(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'r', Range: 'bytes=10-20' })));
    expect(e.name).toBe('InvalidRange');
    expect(e.$metadata.httpStatusCode).toBe(416);
    expect(e.ActualObjectSize).toBe('10');
  });

  it('evaluates conditional headers (304 / 412)', async () => {
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'c', Body: 'v1' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'c' }));
    const lm = head.LastModified!;
    expect(await text(await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'c', IfMatch: ETag })))).toBe('v1');
    const pf = await fails(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'c', IfMatch: '"nope"' })));
    expect(pf.name).toBe('PreconditionFailed');
    expect(pf.$metadata.httpStatusCode).toBe(412);
    expect(pf.Condition).toBe('If-Match');
    const nm = await fails(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'c', IfNoneMatch: ETag })));
    expect(nm.$metadata.httpStatusCode).toBe(304);
    const ims = await fails(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'c', IfModifiedSince: lm })));
    expect(ims.$metadata.httpStatusCode).toBe(304);
    expect(
      await text(
        await s3.send(
          new GetObjectCommand({ Bucket: 'objects', Key: 'c', IfModifiedSince: new Date(lm.getTime() - 5000) }),
        ),
      ),
    ).toBe('v1');
    const ius = await fails(
      s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'c', IfUnmodifiedSince: new Date(lm.getTime() - 5000) })),
    );
    expect(ius.name).toBe('PreconditionFailed');
    // Conditional writes: If-None-Match: * refuses to overwrite.
    const exists = await fails(
      s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'c', Body: 'v2', IfNoneMatch: '*' })),
    );
    expect(exists.name).toBe('PreconditionFailed');
  });

  it('reports NoSuchKey / NoSuchBucket as S3 does', async () => {
    const e = await fails(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'missing/key' })));
    expect(e.name).toBe('NoSuchKey');
    expect(e.message).toBe('The specified key does not exist.');
    expect(e.Key).toBe('missing/key');
    expect(e.$metadata.httpStatusCode).toBe(404);
    const b = await fails(s3.send(new GetObjectCommand({ Bucket: 'nobucket', Key: 'k' })));
    expect(b.name).toBe('NoSuchBucket');
    expect(b.BucketName).toBe('nobucket');
  });

  it('deletes one and many objects', async () => {
    for (const k of ['a', 'b', 'c']) await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: k, Body: k }));
    expect((await s3.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'a' }))).$metadata.httpStatusCode).toBe(
      204,
    );
    await s3.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'never-there' }));
    const many = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'objects', Delete: { Objects: [{ Key: 'b' }, { Key: 'c' }, { Key: 'zz' }] } }),
    );
    expect(many.Deleted?.map((d) => d.Key)).toEqual(['b', 'c', 'zz']);
    const quiet = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'objects', Delete: { Objects: [{ Key: 'q' }], Quiet: true } }),
    );
    expect(quiet.Deleted).toBeUndefined();
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'objects' }))).KeyCount).toBe(0);
  });

  it('copies with COPY and REPLACE metadata directives', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'objects',
        Key: 'src key',
        Body: 'payload',
        ContentType: 'text/x-src',
        Metadata: { a: '1' },
        Tagging: 't=1',
      }),
    );
    const copy = await s3.send(
      new CopyObjectCommand({ Bucket: 'objects', Key: 'copy', CopySource: 'objects/src%20key' }),
    );
    expect(copy.CopyObjectResult?.ETag).toBe('"321c3cf486ed509164edec1e1981fec8"');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'copy' }));
    expect(got.ContentType).toBe('text/x-src');
    expect(got.Metadata).toEqual({ a: '1' });
    expect(got.TagCount).toBe(1);
    expect(await text(got)).toBe('payload');
    await s3.send(
      new CopyObjectCommand({
        Bucket: 'objects',
        Key: 'copy',
        CopySource: '/objects/src%20key',
        MetadataDirective: 'REPLACE',
        ContentType: 'text/y',
        Metadata: { b: '2' },
      }),
    );
    const h = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'copy' }));
    expect(h.ContentType).toBe('text/y');
    expect(h.Metadata).toEqual({ b: '2' });
    const self = await fails(
      s3.send(new CopyObjectCommand({ Bucket: 'objects', Key: 'copy', CopySource: 'objects/copy' })),
    );
    expect(self.name).toBe('InvalidRequest');
    const missing = await fails(
      s3.send(new CopyObjectCommand({ Bucket: 'objects', Key: 'x', CopySource: 'objects/none' })),
    );
    expect(missing.name).toBe('NoSuchKey');
    const cond = await fails(
      s3.send(
        new CopyObjectCommand({ Bucket: 'objects', Key: 'x', CopySource: 'objects/copy', CopySourceIfMatch: '"nope"' }),
      ),
    );
    expect(cond.name).toBe('PreconditionFailed');
  });

  it('tags objects', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 't', Body: 'x', Tagging: 'a=1&b=two%20words' }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: 'objects', Key: 't' }))).TagSet).toEqual([
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: 'two words' },
    ]);
    await s3.send(
      new PutObjectTaggingCommand({ Bucket: 'objects', Key: 't', Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }),
    );
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 't' }))).TagCount).toBe(1);
    expect((await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 't' }))).TagCount).toBe(1);
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: 'objects', Key: 't' }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: 'objects', Key: 't' }))).TagSet).toEqual([]);
    const tooMany = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    const e = await fails(
      s3.send(new PutObjectTaggingCommand({ Bucket: 'objects', Key: 't', Tagging: { TagSet: tooMany } })),
    );
    expect(e.name).toBe('InvalidTag');
  });

  it('streams a 50 MB object in and out (single PUT)', async () => {
    const size = 50 * 1024 * 1024;
    const body = Buffer.alloc(size, 'eddy-');
    const put = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'big', Body: body }));
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'big' }));
    const bytes = await got.Body!.transformToByteArray();
    expect(bytes.length).toBe(size);
    expect(Buffer.from(bytes).equals(body)).toBe(true);
  });

  it('checks x-amz-expected-bucket-owner and the integrity of XML bodies', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: 'objects', Key: 'k', Body: 'x', ExpectedBucketOwner: '000000000000' }),
    );
    const denied = await fails(
      s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'k', ExpectedBucketOwner: '111122223333' })),
    );
    expect(denied.name).toBe('AccessDenied');
    expect(denied.$metadata.httpStatusCode).toBe(403);
    const body = '<Delete><Object><Key>k</Key></Object></Delete>';
    const res = await fetch(`${eddy.endpoint}/objects?delete`, {
      method: 'POST',
      body,
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
        'x-amz-checksum-crc32': 'AAAAAA==',
      },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>BadDigest</Code>');
  });

  it('refuses unsupported operations and headers by name', async () => {
    const e = await fails(
      s3.send(
        new PutObjectCommand({
          Bucket: 'objects',
          Key: 'k',
          Body: 'x',
          SSECustomerAlgorithm: 'AES256',
          SSECustomerKey: Buffer.alloc(32).toString('base64'),
        }),
      ),
    );
    expect(e.name).toBe('NotImplemented');
    expect(e.$metadata.httpStatusCode).toBe(501);
    const sc = await fails(
      s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'k', Body: 'x', StorageClass: 'NOPE' as never })),
    );
    expect(sc.name).toBe('InvalidStorageClass');
    const meta = await fails(
      s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'k', Body: 'x', Metadata: { big: 'x'.repeat(2100) } })),
    );
    expect(meta.name).toBe('MetadataTooLarge');
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'cold', Body: 'x', StorageClass: 'GLACIER' }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'cold' }))).StorageClass).toBe('GLACIER');
    const cold = await fails(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'cold' })));
    expect(cold.name).toBe('InvalidObjectState');
    expect(cold.$metadata.httpStatusCode).toBe(403);
  });
});

describe('listing', () => {
  const keys = [
    'a.txt',
    'audit-logs/2024/01/x.json',
    'audit-logs/2024/02/y.json',
    'audit-logs/z.json',
    'b/c d.txt',
    'b/e.txt',
    'zeta',
  ];
  beforeEach(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'listing' }));
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: 'listing', Key: k, Body: k }));
  });

  it('lists V2 with prefix, delimiter and common prefixes', async () => {
    const all = await s3.send(new ListObjectsV2Command({ Bucket: 'listing' }));
    expect(all.Contents?.map((c) => c.Key)).toEqual(keys);
    expect(all.KeyCount).toBe(keys.length);
    expect(all.Contents?.[0]).toMatchObject({ Size: 5, StorageClass: 'STANDARD', ETag: expect.stringMatching(/^"/) });
    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/' }));
    expect(top.Contents?.map((c) => c.Key)).toEqual(['a.txt', 'zeta']);
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['audit-logs/', 'b/']);
    const sub = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'audit-logs/', Delimiter: '/' }));
    expect(sub.Contents?.map((c) => c.Key)).toEqual(['audit-logs/z.json']);
    expect(sub.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['audit-logs/2024/']);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', StartAfter: 'b/c d.txt' }));
    expect(after.Contents?.map((c) => c.Key)).toEqual(['b/e.txt', 'zeta']);
  });

  it('pages with continuation tokens, counting common prefixes', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: 'listing', MaxKeys: 2, Delimiter: '/', ContinuationToken: token }),
      );
      pages++;
      seen.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      token = page.NextContinuationToken;
      expect(page.IsTruncated).toBe(!!token);
    } while (token);
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual(['a.txt', 'audit-logs/', 'b/', 'zeta']);
    const bad = await fails(s3.send(new ListObjectsV2Command({ Bucket: 'listing', ContinuationToken: 'garbage' })));
    expect(bad.name).toBe('InvalidArgument');
  });

  it('url-encodes keys on request and lists V1 with markers', async () => {
    const enc = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'b/', EncodingType: 'url' }));
    // S3 encodes spaces as '+' and keeps '/'; the SDK hands the encoded keys over as they are.
    expect(enc.Contents?.map((c) => c.Key)).toEqual(['b/c+d.txt', 'b/e.txt']);
    expect(enc.EncodingType).toBe('url');
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'listing', MaxKeys: 3 }));
    expect(v1.Contents?.map((c) => c.Key)).toEqual(keys.slice(0, 3));
    expect(v1.IsTruncated).toBe(true);
    const next = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Marker: keys[2] }));
    expect(next.Contents?.map((c) => c.Key)).toEqual(keys.slice(3));
    expect(v1.Contents?.[0].Owner?.ID).toBeTruthy();
  });
});

describe('addressing', () => {
  it('accepts virtual-hosted requests (bucket.localhost, bucket.s3.localhost)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'vhost' }));
    await s3.send(new PutObjectCommand({ Bucket: 'vhost', Key: 'dir/file.txt', Body: 'via vhost' }));
    const port = eddy.port;
    const get = (host: string, path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path, headers: { host: `${host}:${port}` } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get('vhost.localhost', '/dir/file.txt')).toEqual({ status: 200, body: 'via vhost' });
    expect(await get('vhost.s3.localhost', '/dir/file.txt')).toEqual({ status: 200, body: 'via vhost' });
    const list = await get('vhost.s3.us-east-1.localhost.localstack.cloud', '/?list-type=2');
    expect(list.body).toContain('<Key>dir/file.txt</Key>');
    expect(list.body).toContain('<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">');
    const missing = await get('vhost.localhost', '/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatch(
      /<Error><Code>NoSuchKey<\/Code><Message>The specified key does not exist.<\/Message><Key>nope<\/Key><RequestId>/,
    );
  });

  it('works with the SDK in virtual-host mode against a custom endpoint', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'vhost-sdk' }));
    // The SDK puts the bucket in the host (vhost-sdk.localhost); resolve every host to 127.0.0.1.
    const { NodeHttpHandler } = await import('@smithy/node-http-handler');
    const agent = new http.Agent({
      lookup: (_h, opts, cb) =>
        (opts as { all?: boolean }).all
          ? cb(null, [{ address: '127.0.0.1', family: 4 }] as never)
          : cb(null, '127.0.0.1', 4),
    });
    const vh = new S3Client({
      endpoint: `http://localhost:${eddy.port}`,
      region: 'us-east-1',
      credentials: creds,
      forcePathStyle: false,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpAgent: agent }),
    });
    await vh.send(new PutObjectCommand({ Bucket: 'vhost-sdk', Key: 'a/b', Body: 'vh' }));
    expect(await text(await vh.send(new GetObjectCommand({ Bucket: 'vhost-sdk', Key: 'a/b' })))).toBe('vh');
    expect((await vh.send(new ListObjectsV2Command({ Bucket: 'vhost-sdk' }))).Contents?.map((c) => c.Key)).toEqual([
      'a/b',
    ]);
    vh.destroy();
    agent.destroy();
  });
});
