import { describe, expect, it } from 'vitest';
import {
  type ChecksumAlgorithm,
  checksumOf,
  combineCrc,
  crc32c,
  crc64nvme,
  crcFromBase64,
  crcToBase64,
} from './checksum.ts';

describe('checksums', () => {
  it('match the catalogue check values', () => {
    const check = Buffer.from('123456789');
    expect(crc32c(check).toString(16)).toBe('e3069283');
    expect(crc64nvme(check).toString(16)).toBe('ae8b14860a799888');
    expect(checksumOf('CRC32', check)).toBe(Buffer.from('cbf43926', 'hex').toString('base64'));
  });

  it('combine part CRCs into the whole-object CRC', () => {
    const a = Buffer.from('first part '.repeat(999));
    const b = Buffer.from('second part'.repeat(123));
    for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as ChecksumAlgorithm[]) {
      const combined = combineCrc(alg, crcFromBase64(checksumOf(alg, a)), crcFromBase64(checksumOf(alg, b)), b.length);
      expect(crcToBase64(alg, combined), alg).toBe(checksumOf(alg, Buffer.concat([a, b])));
    }
  });
});
