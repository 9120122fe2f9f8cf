import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Eddy, startEddy } from '../src/index.ts';

const MB = 1024 * 1024;
const creds = { accessKeyId: 'test', secretAccessKey: 'test' };

async function fails(p: Promise<unknown>): Promise<S3ServiceException & Record<string, any>> {
  try {
    await p;
  } catch (e) {
    return e as S3ServiceException & Record<string, any>;
  }
  throw new Error('expected the call to fail');
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest();

describe('multipart uploads', () => {
  let eddy: Eddy;
  let s3: S3Client;
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
  beforeEach(async () => {
    eddy.reset();
    await s3.send(new CreateBucketCommand({ Bucket: 'mpu' }));
  });

  it('uploads 3 parts by hand with the multipart ETag and lists parts and uploads', async () => {
    const parts = [Buffer.alloc(5 * MB, 'a'), Buffer.alloc(5 * MB, 'b'), Buffer.from('tail')];
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: 'mpu',
        Key: 'big/file',
        ContentType: 'application/x-big',
        Metadata: { m: '1' },
      }),
    );
    expect(UploadId).toBeTruthy();
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: 'mpu', Key: 'big/file', UploadId, PartNumber: i + 1, Body: body }),
      );
      expect(r.ETag).toBe(`"${md5(body).toString('hex')}"`);
      etags.push(r.ETag!);
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'big/file', UploadId }));
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([
      [1, 5 * MB],
      [2, 5 * MB],
      [3, 4],
    ]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu' }));
    expect(uploads.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([['big/file', UploadId]]);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'mpu',
        Key: 'big/file',
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const expected = `"${createHash('md5')
      .update(Buffer.concat(parts.map(md5)))
      .digest('hex')}-3"`;
    expect(done.ETag).toBe(expected);
    expect(done.Key).toBe('big/file');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key: 'big/file' }));
    expect(head).toMatchObject({
      ETag: expected,
      ContentLength: 10 * MB + 4,
      ContentType: 'application/x-big',
      Metadata: { m: '1' },
    });
    // A range across the part boundary.
    const r = await s3.send(
      new GetObjectCommand({ Bucket: 'mpu', Key: 'big/file', Range: `bytes=${5 * MB - 2}-${5 * MB + 1}` }),
    );
    expect(await r.Body!.transformToString()).toBe('aabb');
    const all = Buffer.from(
      await (await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big/file' }))).Body!.transformToByteArray(),
    );
    expect(all.equals(Buffer.concat(parts))).toBe(true);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu' }))).Uploads).toBeUndefined();
  });

  it('refuses small parts, wrong ETags, bad order and unknown uploads', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'k' }));
    const p1 = await s3.send(
      new UploadPartCommand({ Bucket: 'mpu', Key: 'k', UploadId, PartNumber: 1, Body: Buffer.alloc(1024, 1) }),
    );
    const p2 = await s3.send(
      new UploadPartCommand({ Bucket: 'mpu', Key: 'k', UploadId, PartNumber: 2, Body: Buffer.alloc(1024, 2) }),
    );
    const small = await fails(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'mpu',
          Key: 'k',
          UploadId,
          MultipartUpload: {
            Parts: [
              { ETag: p1.ETag, PartNumber: 1 },
              { ETag: p2.ETag, PartNumber: 2 },
            ],
          },
        }),
      ),
    );
    expect(small.name).toBe('EntityTooSmall');
    expect(small.$metadata.httpStatusCode).toBe(400);
    const order = await fails(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'mpu',
          Key: 'k',
          UploadId,
          MultipartUpload: {
            Parts: [
              { ETag: p2.ETag, PartNumber: 2 },
              { ETag: p1.ETag, PartNumber: 1 },
            ],
          },
        }),
      ),
    );
    expect(order.name).toBe('InvalidPartOrder');
    const wrong = await fails(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'mpu',
          Key: 'k',
          UploadId,
          MultipartUpload: { Parts: [{ ETag: '"0000"', PartNumber: 1 }] },
        }),
      ),
    );
    expect(wrong.name).toBe('InvalidPart');
    // A single small last part is fine.
    const one = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'mpu',
        Key: 'k',
        UploadId,
        MultipartUpload: { Parts: [{ ETag: p1.ETag, PartNumber: 1 }] },
      }),
    );
    expect(one.ETag).toMatch(/-1"$/);
    const gone = await fails(
      s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'k', UploadId, PartNumber: 3, Body: 'x' })),
    );
    expect(gone.name).toBe('NoSuchUpload');
    expect(gone.$metadata.httpStatusCode).toBe(404);
    const { UploadId: u2 } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'k2' }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'k2', UploadId: u2 }));
    expect((await fails(s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'k2', UploadId: u2 })))).name).toBe(
      'NoSuchUpload',
    );
  });

  it('FULL_OBJECT (CRC32, CRC64NVME) and COMPOSITE (SHA256) multipart checksums', async () => {
    const parts = [Buffer.alloc(5 * MB, 'x'), Buffer.from('the end')];
    const whole = Buffer.concat(parts);
    const cases = [
      { alg: 'CRC32', type: 'FULL_OBJECT' },
      { alg: 'CRC64NVME', type: undefined },
      { alg: 'SHA256', type: undefined },
    ] as const;
    for (const { alg, type } of cases) {
      const key = `sum-${alg}`;
      const { UploadId, ChecksumType } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: key, ChecksumAlgorithm: alg, ChecksumType: type }),
      );
      expect(ChecksumType).toBe(alg === 'SHA256' ? 'COMPOSITE' : 'FULL_OBJECT');
      const done: { ETag?: string; PartNumber: number; [k: string]: unknown }[] = [];
      for (const [n, body] of parts.entries()) {
        const r = await s3.send(
          new UploadPartCommand({
            Bucket: 'mpu',
            Key: key,
            UploadId,
            PartNumber: n + 1,
            Body: body,
            ChecksumAlgorithm: alg,
          }),
        );
        done.push({ ETag: r.ETag, PartNumber: n + 1, [`Checksum${alg}`]: r[`Checksum${alg}`] });
      }
      const c = await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: key, UploadId, MultipartUpload: { Parts: done } }),
      );
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key: key, ChecksumMode: 'ENABLED' }));
      if (alg === 'SHA256') {
        expect(head.ChecksumType).toBe('COMPOSITE');
        expect(head.ChecksumSHA256).toMatch(/-2$/);
      } else {
        // The full-object CRC equals the CRC of the whole body, as a single PUT would give.
        const single = await s3.send(
          new PutObjectCommand({ Bucket: 'mpu', Key: `${key}-single`, Body: whole, ChecksumAlgorithm: alg }),
        );
        expect(head.ChecksumType).toBe('FULL_OBJECT');
        expect(head[`Checksum${alg}`]).toBe(single[`Checksum${alg}`]);
        expect(c[`Checksum${alg}`]).toBe(single[`Checksum${alg}`]);
      }
    }
    const bad = await fails(
      s3.send(
        new CreateMultipartUploadCommand({
          Bucket: 'mpu',
          Key: 'x',
          ChecksumAlgorithm: 'SHA1',
          ChecksumType: 'FULL_OBJECT',
        }),
      ),
    );
    expect(bad.name).toBe('InvalidRequest');
  });

  it('UploadPartCopy copies byte ranges of another object into parts', async () => {
    const src = Buffer.alloc(6 * MB);
    for (let i = 0; i < src.length; i += 4) src.writeUInt32BE(i, i);
    await s3.send(new PutObjectCommand({ Bucket: 'mpu', Key: 'source', Body: src }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'copied' }));
    const p1 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: 'mpu',
        Key: 'copied',
        UploadId,
        PartNumber: 1,
        CopySource: 'mpu/source',
        CopySourceRange: `bytes=0-${5 * MB - 1}`,
      }),
    );
    const p2 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: 'mpu',
        Key: 'copied',
        UploadId,
        PartNumber: 2,
        CopySource: 'mpu/source',
        CopySourceRange: `bytes=${5 * MB}-${6 * MB - 1}`,
      }),
    );
    expect(p1.CopyPartResult?.ETag).toBe(`"${md5(src.subarray(0, 5 * MB)).toString('hex')}"`);
    const bad = await fails(
      s3.send(
        new UploadPartCopyCommand({
          Bucket: 'mpu',
          Key: 'copied',
          UploadId,
          PartNumber: 3,
          CopySource: 'mpu/source',
          CopySourceRange: `bytes=0-${7 * MB}`,
        }),
      ),
    );
    expect(bad.name).toBe('InvalidRange');
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'mpu',
        Key: 'copied',
        UploadId,
        MultipartUpload: {
          Parts: [
            { ETag: p1.CopyPartResult?.ETag, PartNumber: 1 },
            { ETag: p2.CopyPartResult?.ETag, PartNumber: 2 },
          ],
        },
      }),
    );
    const got = Buffer.from(
      await (await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'copied' }))).Body!.transformToByteArray(),
    );
    expect(got.equals(src)).toBe(true);
  });

  it('lib-storage Upload: 3 x 8 MB parts with CRC32 checksums', async () => {
    const body = Buffer.alloc(20 * MB);
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i);
    const up = new Upload({
      client: s3,
      params: { Bucket: 'mpu', Key: 'lib/storage.bin', Body: body },
      partSize: 8 * MB,
      queueSize: 2,
    });
    const res = await up.done();
    expect(res.ETag).toMatch(/^"[0-9a-f]{32}-3"$/);
    const got = Buffer.from(
      await (
        await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'lib/storage.bin' }))
      ).Body!.transformToByteArray(),
    );
    expect(got.equals(body)).toBe(true);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: 'mpu', Key: 'lib/storage.bin', ChecksumMode: 'ENABLED' }),
    );
    expect(head.ContentLength).toBe(20 * MB);
  });

  it('lib-storage Upload of a small body falls back to one PutObject', async () => {
    const res = await new Upload({ client: s3, params: { Bucket: 'mpu', Key: 'small', Body: 'tiny' } }).done();
    expect(res.ETag).toBe(`"${md5(Buffer.from('tiny')).toString('hex')}"`);
  });
});

describe('presigned URLs', () => {
  for (const auth of ['off', 'sigv4'] as const) {
    it(`GET and PUT through presigned URLs (--auth ${auth})`, async () => {
      const eddy = await startEddy({ port: 0, memory: true, auth, credentials: [creds] });
      const s3 = new S3Client({
        endpoint: eddy.endpoint,
        region: 'us-east-1',
        credentials: creds,
        forcePathStyle: true,
        maxAttempts: 1,
      });
      try {
        await s3.send(new CreateBucketCommand({ Bucket: 'presign' }));
        const putUrl = await getSignedUrl(
          s3,
          new PutObjectCommand({ Bucket: 'presign', Key: 'up/loaded.txt', ContentType: 'text/plain' }),
          { expiresIn: 300 },
        );
        expect(putUrl).toContain('X-Amz-Signature=');
        const put = await fetch(putUrl, {
          method: 'PUT',
          body: 'presigned body',
          headers: { 'content-type': 'text/plain' },
        });
        expect(put.status).toBe(200);
        expect(put.headers.get('etag')).toBe(`"${md5(Buffer.from('presigned body')).toString('hex')}"`);
        const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'presign', Key: 'up/loaded.txt' }), {
          expiresIn: 300,
        });
        const get = await fetch(getUrl);
        expect(get.status).toBe(200);
        expect(get.headers.get('content-type')).toBe('text/plain');
        expect(await get.text()).toBe('presigned body');
        if (auth === 'sigv4') {
          const tampered = getUrl.replace('loaded.txt', 'other.txt');
          const bad = await fetch(tampered);
          expect(bad.status).toBe(403);
          expect(await bad.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
          const wrongKey = new S3Client({
            endpoint: eddy.endpoint,
            region: 'us-east-1',
            credentials: { accessKeyId: 'test', secretAccessKey: 'nope' },
            forcePathStyle: true,
          });
          const badSecret = await fetch(
            await getSignedUrl(wrongKey, new GetObjectCommand({ Bucket: 'presign', Key: 'up/loaded.txt' })),
          );
          expect(badSecret.status).toBe(403);
          wrongKey.destroy();
          // Signed SDK calls (aws-chunked bodies with trailing checksums) pass verification too.
          await s3.send(new PutObjectCommand({ Bucket: 'presign', Key: 'signed', Body: 'signed body' }));
          expect(
            await (await s3.send(new GetObjectCommand({ Bucket: 'presign', Key: 'signed' }))).Body!.transformToString(),
          ).toBe('signed body');
        }
      } finally {
        s3.destroy();
        await eddy.stop();
      }
    });
  }
});
