/**
 * IP address handling as event-ruler does it: an address is recognised only when it looks like a
 * dotted quad or contains a colon and only hex digits/colons (so hostnames are never resolved), and is
 * compared as its big-endian bytes written in upper-case hex (4 or 16 bytes).
 */
import { PatternError } from './errors.ts';

const IPV4 = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6 = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;
const TRAILING_MAX_BITS = [0x0, 0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f];

export const looksLikeIp = (s: string): boolean => IPV4.test(s) || IPV6.test(s);

function parseV4(s: string): number[] | null {
  const parts = s.split('.');
  const out: number[] = [];
  for (const p of parts) {
    if (p.length > 10) return null;
    const v = Number(p);
    if (!Number.isInteger(v) || v > 255) return null;
    out.push(v);
  }
  return out;
}

function parseV6(s: string): number[] | null {
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const gs = part.split(':');
    const out: number[] = [];
    for (const g of gs) {
      if (g.length === 0 || g.length > 4) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(s);
    if (all?.length !== 8) return null;
    groups = all;
  }
  const bytes: number[] = [];
  for (const g of groups) bytes.push(g >> 8, g & 0xff);
  return bytes;
}

/** The address bytes, or null when `s` is not an IP literal event-ruler would accept. */
export function ipBytes(s: string): number[] | null {
  if (IPV4.test(s)) return parseV4(s);
  if (IPV6.test(s)) return parseV6(s);
  return null;
}

const HEX = '0123456789ABCDEF';
export function toHex(bytes: readonly number[]): string {
  let out = '';
  for (const b of bytes) out += HEX[(b >> 4) & 0xf] + HEX[b & 0xf];
  return out;
}

/** Hex form of an IP literal, or undefined. Cheap rejection for ordinary strings. */
export function ipHexIfPossible(s: string): string | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  const b = ipBytes(s);
  return b ? toHex(b) : undefined;
}

/**
 * A CIDR block as event-ruler builds it: the range runs from the address *as written* (not masked)
 * to that address with the host bits set. Errors are reported without a JSON location.
 */
export function cidrRange(cidr: string): { lo: string; hi: string } {
  // Java's String.split drops trailing empty strings.
  const parts = cidr.split('/');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length !== 2) throw new PatternError("Malformed CIDR, one '/' required");
  if (
    !/^[+-]?[0-9]+$/.test(parts[1]) ||
    !Number.isSafeInteger(Number(parts[1])) ||
    Math.abs(Number(parts[1])) > 2147483647
  ) {
    throw new PatternError('Malformed CIDR, mask bits must be an integer');
  }
  const mask = Number(parts[1]);
  if (mask < 0) throw new PatternError('Malformed CIDR, mask bits must not be negative');
  const ip = parts[0];
  let bytes: number[] | null = null;
  if (looksLikeIp(ip)) {
    bytes = ipBytes(ip);
    if (!bytes) throw new PatternError(`Invalid IP address: ${ip}`);
  }
  if (!bytes) throw new PatternError(`Nonstandard IP address: ${ip}`);
  if (bytes.length === 4 && mask > 31) throw new PatternError('IPv4 mask bits must be < 32');
  if (bytes.length === 16 && mask > 127) throw new PatternError('IPv6 mask bits must be < 128');
  let hostBits = bytes.length * 8 - mask;
  const top = new Array<number>(bytes.length);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (hostBits >= 8) top[i] = 0xff;
    else if (hostBits <= 0) top[i] = bytes[i];
    else top[i] = bytes[i] | TRAILING_MAX_BITS[hostBits];
    hostBits -= 8;
  }
  return { lo: toHex(bytes), hi: toHex(top) };
}
