import type { AttributeValue, Item, KeyDef, ScalarKeyType } from './types.ts';
import { encodeNumberKey, parseDecimalLoose, ZERO } from './values/numbers.ts';

/**
 * Storage keys whose byte order is DynamoDB's order. A stored key is
 *   [2-byte hash of the partition key][partition key][sort key]
 * Each part is self-delimiting, so a partition's items are one contiguous range sorted by sort key,
 * and the leading hash spreads partitions like DynamoDB does: Scan walks hash order and a parallel
 * scan's segment is a contiguous hash range, as on AWS.
 */

/** Bytes of one key attribute: order-preserving and prefix-free. */
export function encodeKeyPart(v: AttributeValue, type: ScalarKeyType): Buffer {
  if (type === 'N') return encodeNumberKey(parseDecimalLoose(v.N!) ?? ZERO);
  const raw = type === 'S' ? Buffer.from(v.S!, 'utf8') : Buffer.from(v.B!, 'base64');
  return escapeTerminate(raw);
}

/** Like encodeKeyPart without the terminator: every value starting with `v` has these bytes as prefix. */
export function encodeKeyPrefix(v: AttributeValue, type: 'S' | 'B'): Buffer {
  const raw = type === 'S' ? Buffer.from(v.S!, 'utf8') : Buffer.from(v.B!, 'base64');
  const full = escapeTerminate(raw);
  return full.subarray(0, full.length - 2);
}

function escapeTerminate(raw: Buffer): Buffer {
  let zeros = 0;
  for (const b of raw) if (b === 0) zeros++;
  const out = Buffer.allocUnsafe(raw.length + zeros + 2);
  let j = 0;
  for (const b of raw) {
    out[j++] = b;
    if (b === 0) out[j++] = 0xff;
  }
  out[j++] = 0;
  out[j] = 0;
  return out;
}

/** FNV-1a over the encoded partition key, folded to 16 bits. */
export function hash16(partition: Buffer): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < partition.length; i++) {
    h ^= partition[i];
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 16) ^ h) & 0xffff;
}

/** The bytes that start every stored key of one partition. */
export function partitionPrefix(hashValue: AttributeValue, key: KeyDef): Buffer {
  const p = encodeKeyPart(hashValue, key.hashType);
  const h = hash16(p);
  const out = Buffer.allocUnsafe(p.length + 2);
  out[0] = h >> 8;
  out[1] = h & 0xff;
  p.copy(out, 2);
  return out;
}

/** The storage key of an item (or of a key map) under a key schema. */
export function itemKey(item: Item, key: KeyDef): Buffer {
  const prefix = partitionPrefix(item[key.hash], key);
  if (!key.range) return prefix;
  return Buffer.concat([prefix, encodeKeyPart(item[key.range], key.rangeType!)]);
}

/** The smallest byte string greater than every string that starts with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  const out = Buffer.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0xff) {
      out[i]++;
      return out.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** Segment `segment` of `total` covers this half-open range of stored keys. */
export function segmentRange(segment: number, total: number): { gte?: Buffer; lt?: Buffer } {
  const lo = Math.floor((segment * 65536) / total);
  const hi = Math.floor(((segment + 1) * 65536) / total);
  return {
    gte: lo === 0 ? undefined : Buffer.from([lo >> 8, lo & 0xff]),
    lt: hi >= 65536 ? undefined : Buffer.from([hi >> 8, hi & 0xff]),
  };
}

/** Just the key attributes of an item. */
export function keyOf(item: Item, key: KeyDef): Item {
  const out: Item = { [key.hash]: item[key.hash] };
  if (key.range) out[key.range] = item[key.range];
  return out;
}
