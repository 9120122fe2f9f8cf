import { validation } from '../../../core/errors.ts';

/**
 * DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 .. 9.99…E+125, exact decimal
 * arithmetic (no float rounding). A number is held as sign, digit string (no leading/trailing
 * zeros) and the exponent of its most significant digit: 123.4 = +, "1234", 2.
 */
export interface Decimal {
  sign: 1 | -1 | 0;
  digits: string;
  /** Exponent of the first digit: value = 0.d1d2d3… × 10^(exp+1). */
  exp: number;
}

const NUM_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
export const ZERO: Decimal = { sign: 0, digits: '', exp: 0 };

/** Parse without range checks; undefined when not a number literal. */
export function parseDecimalLoose(s: string): Decimal | undefined {
  const t = s.trim();
  if (!NUM_RE.test(t)) return undefined;
  let i = 0;
  let sign: 1 | -1 = 1;
  if (t[0] === '-' || t[0] === '+') {
    if (t[0] === '-') sign = -1;
    i = 1;
  }
  const ePos = t.search(/[eE]/);
  const mant = ePos >= 0 ? t.slice(i, ePos) : t.slice(i);
  const e = ePos >= 0 ? Number.parseInt(t.slice(ePos + 1), 10) : 0;
  const dot = mant.indexOf('.');
  const intPart = dot >= 0 ? mant.slice(0, dot) : mant;
  const frac = dot >= 0 ? mant.slice(dot + 1) : '';
  let all = intPart + frac;
  let exp = intPart.length - 1 + e;
  const lead = all.search(/[1-9]/);
  if (lead < 0) return ZERO;
  all = all.slice(lead);
  exp -= lead;
  all = all.replace(/0+$/, '');
  return { sign, digits: all, exp };
}

/** Parse and check as DynamoDB does on input, with its error texts. */
export function parseNumber(s: string): Decimal {
  const d = parseDecimalLoose(s);
  if (!d) throw validation('The parameter cannot be converted to a numeric value');
  checkRange(d, s);
  return d;
}

export function checkRange(d: Decimal, original?: string): void {
  if (d.sign === 0) return;
  if (d.digits.length > 38) throw validation('Attempting to store more than 38 significant digits in a Number');
  if (d.exp > 125)
    throw validation('Number overflow. Attempting to store a number with magnitude larger than supported range');
  if (d.exp < -130)
    throw validation('Number underflow. Attempting to store a number with magnitude smaller than supported range');
  void original;
}

/** Canonical text DynamoDB returns for a number (no exponent, no superfluous zeros). */
export function formatDecimal(d: Decimal): string {
  if (d.sign === 0) return '0';
  const { digits, exp } = d;
  let s: string;
  if (exp >= digits.length - 1) s = digits + '0'.repeat(exp - digits.length + 1);
  else if (exp >= 0) s = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  else s = `0.${'0'.repeat(-exp - 1)}${digits}`;
  return d.sign < 0 ? `-${s}` : s;
}

/** Normalize a number string to DynamoDB's canonical form. */
export const canonicalNumber = (s: string): string => formatDecimal(parseNumber(s));

export function compareDecimal(a: Decimal, b: Decimal): number {
  if (a.sign !== b.sign) return a.sign < b.sign ? -1 : 1;
  if (a.sign === 0) return 0;
  let c: number;
  if (a.exp !== b.exp) c = a.exp < b.exp ? -1 : 1;
  else c = a.digits < b.digits ? -1 : a.digits > b.digits ? 1 : 0;
  return a.sign > 0 ? c : -c;
}

export function compareNumberStrings(a: string, b: string): number {
  return compareDecimal(parseDecimalLoose(a) ?? ZERO, parseDecimalLoose(b) ?? ZERO);
}

/** As an integer scaled by 10^scale: value = big × 10^scale. */
function toScaled(d: Decimal): { big: bigint; scale: number } {
  if (d.sign === 0) return { big: 0n, scale: 0 };
  const scale = d.exp - d.digits.length + 1;
  return { big: BigInt(d.digits) * BigInt(d.sign), scale };
}

function fromScaled(big: bigint, scale: number): Decimal {
  if (big === 0n) return ZERO;
  const sign: 1 | -1 = big < 0n ? -1 : 1;
  const str = (big < 0n ? -big : big).toString();
  const digits = str.replace(/0+$/, '');
  return { sign, digits, exp: scale + str.length - 1 };
}

/** Exact a + b, with DynamoDB's range and precision checks on the result. */
export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const x = toScaled(a);
  const y = toScaled(b);
  const scale = Math.min(x.scale, y.scale);
  const sum = x.big * 10n ** BigInt(x.scale - scale) + y.big * 10n ** BigInt(y.scale - scale);
  const r = fromScaled(sum, scale);
  checkRange(r);
  return r;
}

export function negate(d: Decimal): Decimal {
  return d.sign === 0 ? d : { ...d, sign: d.sign === 1 ? -1 : 1 };
}

/**
 * Order-preserving, self-delimiting bytes for a number key: memcmp order of the encodings equals
 * numeric order, and no encoding is a prefix of another (so composite keys compare correctly).
 */
export function encodeNumberKey(d: Decimal): Buffer {
  if (d.sign === 0) return Buffer.from([0x80]);
  const n = d.digits.length;
  const out = Buffer.allocUnsafe(n + 3);
  const expByte = d.exp + 130; // -130..125 -> 0..255
  if (d.sign > 0) {
    out[0] = 0x81;
    out[1] = expByte;
    for (let i = 0; i < n; i++) out[2 + i] = d.digits.charCodeAt(i) - 0x30 + 1;
    out[2 + n] = 0x00;
  } else {
    out[0] = 0x7f;
    out[1] = 255 - expByte;
    for (let i = 0; i < n; i++) out[2 + i] = 0xfe - (d.digits.charCodeAt(i) - 0x30);
    out[2 + n] = 0xff;
  }
  return out;
}
