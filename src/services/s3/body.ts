import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AwsError } from '../../core/errors.ts';
import { type ChecksumAlgorithm, type Hasher, hasher } from './checksum.ts';
import { badDigest, incompleteBody } from './errors.ts';

/**
 * `aws-chunked` bodies (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`):
 * `<hex size>[;chunk-signature=..]\r\n<data>\r\n ... 0\r\n<trailer>:<value>\r\n\r\n`. Emits the data;
 * trailers land in `trailers`.
 */
export class AwsChunkedDecoder extends Transform {
  readonly trailers: Record<string, string> = {};
  private buf = Buffer.alloc(0);
  private remaining = -1; // bytes of chunk data still to pass through; -1 while reading a header line
  private state: 'header' | 'data' | 'crlf' | 'trailer' | 'done' = 'header';

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    if (this.state !== 'done' && !(this.state === 'trailer' && this.buf.length === 0)) cb(incompleteBody());
    else cb();
  }

  private consume(chunk: Buffer): void {
    let data = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.buf = Buffer.alloc(0);
    while (data.length) {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, data.length);
        this.push(data.subarray(0, n));
        this.remaining -= n;
        data = data.subarray(n);
        if (this.remaining === 0) this.state = 'crlf';
        continue;
      }
      if (this.state === 'crlf') {
        if (data.length < 2) break;
        if (data[0] !== 13 || data[1] !== 10) throw invalidChunk();
        data = data.subarray(2);
        this.state = 'header';
        continue;
      }
      if (this.state === 'done') return;
      const eol = data.indexOf('\r\n');
      if (eol < 0) {
        if (data.length > 64 * 1024) throw invalidChunk();
        break;
      }
      const line = data.subarray(0, eol).toString('latin1');
      data = data.subarray(eol + 2);
      if (this.state === 'header') {
        const size = Number.parseInt(line.split(';')[0], 16);
        if (!Number.isFinite(size) || size < 0) throw invalidChunk();
        if (size === 0) this.state = 'trailer';
        else {
          this.remaining = size;
          this.state = 'data';
        }
      } else if (line === '') this.state = 'done';
      else {
        const colon = line.indexOf(':');
        if (colon > 0) this.trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
    }
    if (data.length) this.buf = Buffer.from(data);
  }
}

const invalidChunk = () =>
  new AwsError('InvalidChunkSizeError', 'Only the last chunk is allowed to have a size less than 8192 bytes', 400);

class Tap extends Transform {
  size = 0;
  constructor(private readonly hashers: Hasher[]) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    for (const h of this.hashers) h.update(chunk);
    cb(null, chunk);
  }
}

export interface ReceivedBody {
  size: number;
  md5: Buffer;
  /** The checksum S3 stores for the object, base64 (when one was asked for). */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  sha256Hex?: string;
}

export interface ReceiveOptions {
  headers: {
    contentEncoding?: string;
    contentSha256?: string;
    decodedLength?: number;
    contentLength?: number;
    contentMd5?: string;
    /** `x-amz-trailer` */
    trailer?: string;
  };
  /** The algorithm to compute (from x-amz-sdk-checksum-algorithm / an x-amz-checksum-* header / the trailer). */
  algorithm?: ChecksumAlgorithm;
  /** A checksum value the client sent in a header (base64), to verify. */
  expectedChecksum?: string;
  maxBytes: number;
}

/** Is the body aws-chunked (the SDKs' trailing-checksum and signed-chunk uploads)? */
export function isAwsChunked(contentEncoding: string | undefined, contentSha256: string | undefined): boolean {
  return (
    !!contentSha256?.startsWith('STREAMING-') || !!contentEncoding?.split(',').some((e) => e.trim() === 'aws-chunked')
  );
}

/**
 * Stream a request body into `path` (never whole in memory), decoding aws-chunked framing and
 * computing MD5 (the ETag) plus any requested checksum on the way; verify what the client declared.
 * On any failure the partial file is removed.
 */
export async function receiveBody(body: Readable | Buffer, path: string, opts: ReceiveOptions): Promise<ReceivedBody> {
  const h = opts.headers;
  const md5 = hasher('MD5');
  const alg = opts.algorithm;
  const sum = alg ? hasher(alg) : undefined;
  const wantSha = h.contentSha256 && /^[0-9a-f]{64}$/.test(h.contentSha256) ? hasher('SHA256') : undefined;
  const hashers = [md5, ...(sum ? [sum] : []), ...(wantSha ? [wantSha] : [])];
  const tap = new Tap(hashers);
  const chunked = isAwsChunked(h.contentEncoding, h.contentSha256);
  const decoder = chunked ? new AwsChunkedDecoder() : undefined;
  const src = Buffer.isBuffer(body) ? Readable.from(body.length ? [body] : []) : body;
  let over = false;
  const limit = new Transform({
    transform(chunk: Buffer, _e, cb) {
      if (tap.size > opts.maxBytes) {
        over = true;
        cb(new AwsError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400));
      } else cb(null, chunk);
    },
  });
  try {
    const out = createWriteStream(path);
    if (decoder) await pipeline(src, decoder, tap, limit, out);
    else await pipeline(src, tap, limit, out);
  } catch (e) {
    await rm(path, { force: true });
    if (over || e instanceof AwsError) throw e;
    throw incompleteBody();
  }
  const fail = async (err: AwsError) => {
    await rm(path, { force: true });
    return err;
  };
  const expectedSize = chunked ? h.decodedLength : h.contentLength;
  if (expectedSize !== undefined && expectedSize !== tap.size) throw await fail(incompleteBody());
  const md5d = md5.digest();
  if (h.contentMd5 !== undefined && h.contentMd5 !== md5d.toString('base64')) {
    throw await fail(
      new AwsError('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400, {
        extra: { ExpectedDigest: h.contentMd5, CalculatedDigest: md5d.toString('base64') },
      }),
    );
  }
  let sha256Hex: string | undefined;
  if (wantSha) {
    sha256Hex = wantSha.digest().toString('hex');
    if (sha256Hex !== h.contentSha256) {
      throw await fail(
        new AwsError(
          'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          400,
          {
            extra: { ClientComputedContentSHA256: h.contentSha256, S3ComputedContentSHA256: sha256Hex },
          },
        ),
      );
    }
  }
  let checksum: ReceivedBody['checksum'];
  if (alg && sum) {
    const value = sum.digest().toString('base64');
    const declared = opts.expectedChecksum ?? decoder?.trailers[`x-amz-checksum-${alg.toLowerCase()}`];
    if (declared !== undefined && declared !== value) throw await fail(badDigest(alg));
    checksum = { algorithm: alg, value };
  }
  return { size: tap.size, md5: md5d, checksum, sha256Hex };
}
