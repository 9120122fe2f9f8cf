import { createHash, type Hash } from 'node:crypto';
import zlib from 'node:zlib';

/** The flexible checksums S3 computes and verifies (the newer SHA512/MD5/XXHASH ones are refused by name). */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
export const CHECKSUM_ALGORITHMS: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];
/** The CRCs, which can be combined into a full-object checksum of a multipart upload. */
export const CRC_ALGORITHMS: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

/** Checksums S3 knows but Eddy does not compute. */
export const UNSUPPORTED_CHECKSUMS = ['SHA512', 'MD5', 'XXHASH64', 'XXHASH3', 'XXHASH128'];

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

// CRC-64/NVME: reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all ones; kept as two 32-bit halves.
const CRC64_POLY = 0x9a6c9329ac4bc9b5n;
const crc64Tables = (() => {
  const lo = new Uint32Array(256);
  const hi = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? CRC64_POLY ^ (c >> 1n) : c >> 1n;
    lo[n] = Number(c & 0xffffffffn);
    hi[n] = Number(c >> 32n);
  }
  return { lo, hi };
})();

/** CRC-64/NVME over `buf`, continuing from a previous (finalized) value. */
export function crc64nvme(buf: Buffer, prev = 0n): bigint {
  const { lo: tlo, hi: thi } = crc64Tables;
  let lo = ~Number(prev & 0xffffffffn) >>> 0;
  let hi = ~Number(prev >> 32n) >>> 0;
  for (let i = 0; i < buf.length; i++) {
    const idx = (lo ^ buf[i]) & 0xff;
    lo = (((lo >>> 8) | ((hi & 0xff) << 24)) ^ tlo[idx]) >>> 0;
    hi = ((hi >>> 8) ^ thi[idx]) >>> 0;
  }
  return (BigInt(~hi >>> 0) << 32n) | BigInt(~lo >>> 0);
}

function crc64Hasher(): Hasher {
  let v = 0n;
  return {
    update(b) {
      v = crc64nvme(b, v);
    },
    digest() {
      const out = Buffer.alloc(8);
      out.writeBigUInt64BE(v);
      return out;
    },
  };
}

const REFLECTED_POLY: Record<string, { width: bigint; poly: bigint }> = {
  CRC32: { width: 32n, poly: 0xedb88320n },
  CRC32C: { width: 32n, poly: 0x82f63b78n },
  CRC64NVME: { width: 64n, poly: CRC64_POLY },
};

/**
 * The CRC of A‖B from crc(A), crc(B) and |B| (zlib's crc32_combine, for any reflected CRC with
 * all-ones init/xorout): how S3 derives a multipart upload's FULL_OBJECT checksum from its parts.
 */
export function combineCrc(alg: ChecksumAlgorithm, crc1: bigint, crc2: bigint, len2: number): bigint {
  const { width, poly } = REFLECTED_POLY[alg];
  const top = 1n << (width - 1n);
  const mult = (a: bigint, b0: bigint): bigint => {
    let m = top;
    let p = 0n;
    let b = b0;
    while (m) {
      if (a & m) p ^= b;
      m >>= 1n;
      b = b & 1n ? (b >> 1n) ^ poly : b >> 1n;
    }
    return p;
  };
  // x^(8 * len2) mod P by repeated squaring of x^(2^k).
  let p = top; // x^0
  let sq = top >> 1n; // x^1
  let n = BigInt(len2) * 8n;
  while (n) {
    if (n & 1n) p = mult(sq, p);
    sq = mult(sq, sq);
    n >>= 1n;
  }
  return mult(p, crc1) ^ crc2;
}

/** A base64 CRC as a number and back. */
export const crcFromBase64 = (s: string): bigint => BigInt(`0x${Buffer.from(s, 'base64').toString('hex') || '0'}`);
export function crcToBase64(alg: ChecksumAlgorithm, v: bigint): string {
  const bytes = alg === 'CRC64NVME' ? 8 : 4;
  return Buffer.from(v.toString(16).padStart(bytes * 2, '0'), 'hex').toString('base64');
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
    case 'CRC64NVME':
      return crc64Hasher();
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
