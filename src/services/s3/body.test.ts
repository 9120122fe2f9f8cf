import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { receiveBody } from './body.ts';
import { checksumOf } from './checksum.ts';

const dir = mkdtempSync(join(tmpdir(), 'eddy-s3-body-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** aws-chunked framing, delivered to the decoder in awkward pieces. */
function chunked(data: Buffer, chunk: number, trailer: string, signed: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) {
    const c = data.subarray(i, i + chunk);
    parts.push(
      Buffer.from(`${c.length.toString(16)}${signed ? `;chunk-signature=${'a'.repeat(64)}` : ''}\r\n`),
      c,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`0${signed ? `;chunk-signature=${'b'.repeat(64)}` : ''}\r\n${trailer}\r\n`));
  return Buffer.concat(parts);
}

function pieces(b: Buffer, size: number): Readable {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return Readable.from(out);
}

describe('receiveBody', () => {
  const data = Buffer.from('x'.repeat(100_000) + 'tail');
  for (const split of [1, 7, 8192, 1 << 20]) {
    it(`decodes aws-chunked with a trailing checksum (pieces of ${split} bytes)`, async () => {
      const crc = checksumOf('CRC32', data);
      const body = chunked(data, 65536, `x-amz-checksum-crc32:${crc}\r\n`, false);
      const path = join(dir, `t-${split}`);
      const got = await receiveBody(pieces(body, split), path, {
        headers: {
          contentEncoding: 'aws-chunked',
          contentSha256: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          decodedLength: data.length,
          trailer: 'x-amz-checksum-crc32',
        },
        algorithm: 'CRC32',
        maxBytes: 1 << 30,
      });
      expect(got.size).toBe(data.length);
      expect(got.checksum).toEqual({ algorithm: 'CRC32', value: crc });
      expect(readFileSync(path).equals(data)).toBe(true);
    });
  }

  it('decodes signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', async () => {
    const body = chunked(data, 8192, '', true);
    const got = await receiveBody(pieces(body, 1000), join(dir, 'signed'), {
      headers: { contentSha256: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', decodedLength: data.length },
      maxBytes: 1 << 30,
    });
    expect(got.size).toBe(data.length);
  });

  it('refuses a wrong trailing checksum and a short body', async () => {
    const body = chunked(data, 65536, `x-amz-checksum-crc32:AAAAAA==\r\n`, false);
    await expect(
      receiveBody(pieces(body, 5000), join(dir, 'bad'), {
        headers: { contentEncoding: 'aws-chunked', decodedLength: data.length, trailer: 'x-amz-checksum-crc32' },
        algorithm: 'CRC32',
        maxBytes: 1 << 30,
      }),
    ).rejects.toMatchObject({ code: 'BadDigest' });
    await expect(
      receiveBody(Buffer.from('abc'), join(dir, 'short'), { headers: { contentLength: 10 }, maxBytes: 100 }),
    ).rejects.toMatchObject({ code: 'IncompleteBody' });
    await expect(
      receiveBody(Buffer.alloc(200), join(dir, 'big'), { headers: {}, maxBytes: 100 }),
    ).rejects.toMatchObject({ code: 'EntityTooLarge' });
  });
});
