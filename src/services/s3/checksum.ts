import { createHash, type Hash } from 'node:crypto';
import zlib from 'node:zlib';

/** The flexible checksums S3 computes and verifies (CRC64NVME and the newer ones are refused by name). */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'SHA1' | 'SHA256';
export const CHECKSUM_ALGORITHMS: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'SHA1', 'SHA256'];

/** Checksums S3 knows but Eddy does not compute. */
export const UNSUPPORTED_CHECKSUMS = ['CRC64NVME', 'SHA512', 'MD5', 'XXHASH64', 'XXHASH3', 'XXHASH128'];

export interface Hasher {
  update(b: Buffer): void;
  /** The digest as S3 shows it: base64 of the big-endian bytes. */
  digest(): Buffer;
}

const crc32cTable = (() => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC32C (Castagnoli), slicing-by-8. */
export function crc32c(buf: Buffer, prev = 0): number {
  const t = crc32cTable;
  let crc = ~prev;
  let i = 0;
  const n = buf.length;
  for (; i + 8 <= n; i += 8) {
    const a = (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)) ^ crc;
    crc =
      t[7 * 256 + (a & 0xff)] ^
      t[6 * 256 + ((a >>> 8) & 0xff)] ^
      t[5 * 256 + ((a >>> 16) & 0xff)] ^
      t[4 * 256 + (a >>> 24)] ^
      t[3 * 256 + buf[i + 4]] ^
      t[2 * 256 + buf[i + 5]] ^
      t[256 + buf[i + 6]] ^
      t[buf[i + 7]];
  }
  for (; i < n; i++) crc = t[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

function crcHasher(fn: (b: Buffer, prev: number) => number): Hasher {
  let v = 0;
  return {
    update(b) {
      v = fn(b, v);
    },
    digest() {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(v >>> 0);
      return out;
    },
  };
}

function cryptoHasher(h: Hash): Hasher {
  return { update: (b) => void h.update(b), digest: () => h.digest() };
}

export function hasher(alg: ChecksumAlgorithm | 'MD5'): Hasher {
  switch (alg) {
    case 'CRC32':
      return crcHasher((b, p) => zlib.crc32(b, p));
    case 'CRC32C':
      return crcHasher(crc32c);
    case 'SHA1':
      return cryptoHasher(createHash('sha1'));
    case 'SHA256':
      return cryptoHasher(createHash('sha256'));
    case 'MD5':
      return cryptoHasher(createHash('md5'));
  }
}

/** A checksum of a whole buffer, base64. */
export function checksumOf(alg: ChecksumAlgorithm, data: Buffer): string {
  const h = hasher(alg);
  h.update(data);
  return h.digest().toString('base64');
}

/** `x-amz-checksum-crc32` → `CRC32`. */
export function algorithmOfHeader(name: string): string | undefined {
  const m = /^x-amz-checksum-([a-z0-9]+)$/.exec(name.toLowerCase());
  return m && m[1] !== 'algorithm' && m[1] !== 'type' && m[1] !== 'mode' ? m[1].toUpperCase() : undefined;
}
