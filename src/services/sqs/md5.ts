import { createHash } from 'node:crypto';

export interface AttributeValue {
  DataType: string;
  StringValue?: string;
  /** Normalised to a Buffer by the service before hashing. */
  BinaryValue?: Buffer;
  StringListValues?: string[];
  BinaryListValues?: Buffer[];
}

export const md5Hex = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

/**
 * MD5OfMessageAttributes exactly as SQS computes it: attributes sorted by name; for each, the
 * 4-byte big-endian length and UTF-8 bytes of the name and of the data type, a transport byte
 * (1 = String/Number, 2 = Binary), then the length-prefixed value bytes.
 */
export function md5OfAttributes(attrs: Record<string, AttributeValue>): string {
  const h = createHash('md5');
  const put = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    h.update(len);
    h.update(b);
  };
  for (const name of Object.keys(attrs).sort()) {
    const v = attrs[name];
    put(Buffer.from(name, 'utf8'));
    put(Buffer.from(v.DataType, 'utf8'));
    if (v.DataType.startsWith('Binary')) {
      h.update(Buffer.from([2]));
      put(v.BinaryValue ?? Buffer.alloc(0));
    } else {
      h.update(Buffer.from([1]));
      put(Buffer.from(v.StringValue ?? '', 'utf8'));
    }
  }
  return h.digest('hex');
}
