import { validation } from '../../../core/errors.ts';
import type { AttributeValue, Item } from '../types.ts';
import { compareDecimal, type Decimal, formatDecimal, parseDecimalLoose } from './numbers.ts';

/**
 * AttributeValue checks, equality, ordering and size, as DynamoDB applies them.
 * Every error text below is DynamoDB's own (ValidationException).
 */

/** DynamoDB refuses documents nested deeper than this (a top-level attribute is level 1). */
export const MAX_NESTING = 32;

const TYPES = ['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL'] as const;
export type AttrType = (typeof TYPES)[number];

const NESTING_ERROR =
  'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit';
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The single type key of a (valid) attribute value. */
export function typeOf(v: AttributeValue): AttrType | undefined {
  for (const k in v) if ((v as Record<string, unknown>)[k] !== undefined) return k as AttrType;
  return undefined;
}

/** Parse a number the way DynamoDB checks it on input; returns its canonical text. */
export function checkNumber(s: unknown): string {
  if (typeof s !== 'string' || s === '') throw validation('The parameter cannot be converted to a numeric value');
  if (!NUMBER_RE.test(s)) throw validation(`The parameter cannot be converted to a numeric value: ${s}`);
  const d = parseDecimalLoose(s) as Decimal;
  if (d.sign !== 0) {
    if (d.exp > 125)
      throw validation('Number overflow. Attempting to store a number with magnitude larger than supported range');
    if (d.exp < -130)
      throw validation('Number underflow. Attempting to store a number with magnitude smaller than supported range');
    if (d.digits.length > 38) throw validation('Attempting to store more than 38 significant digits in a Number');
  }
  return formatDecimal(d);
}

function collectionStr(list: string[]): string {
  return `[${list.join(', ')}]`;
}

function hasDuplicate(list: string[]): boolean {
  if (list.length < 2) return false;
  if (list.length < 8) {
    for (let i = 1; i < list.length; i++) for (let j = 0; j < i; j++) if (list[i] === list[j]) return true;
    return false;
  }
  return new Set(list).size !== list.length;
}

function stringList(v: unknown): string[] {
  if (!Array.isArray(v))
    throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  return v as string[];
}

/**
 * Check one AttributeValue as DynamoDB does and return a canonical copy (numbers canonical,
 * binary kept as base64). `depth` is the nesting level of `v` (1 for a top-level attribute).
 */
export function validateAttributeValue(v: unknown, depth = 1): AttributeValue {
  if (depth > MAX_NESTING) throw validation(NESTING_ERROR);
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  const src = v as Record<string, unknown>;
  let out: AttributeValue | undefined;
  let count = 0;
  for (const type in src) {
    const val = src[type];
    if (val === undefined || val === null) continue;
    count++;
    switch (type) {
      case 'S':
        if (typeof val !== 'string')
          throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
        out = { S: val };
        break;
      case 'B':
        if (typeof val !== 'string')
          throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
        out = { B: val };
        break;
      case 'N':
        out = { N: checkNumber(val) };
        break;
      case 'BOOL':
        out = { BOOL: !!val };
        break;
      case 'NULL':
        if (!val)
          throw validation(
            'One or more parameter values were invalid: Null attribute value types must have the value of true',
          );
        out = { NULL: true };
        break;
      case 'SS': {
        const list = stringList(val);
        if (!list.length)
          throw validation('One or more parameter values were invalid: An string set  may not be empty');
        if (hasDuplicate(list))
          throw validation(
            `One or more parameter values were invalid: Input collection ${collectionStr(list)} contains duplicates.`,
          );
        out = { SS: list.slice() };
        break;
      }
      case 'NS': {
        const list = stringList(val);
        if (!list.length)
          throw validation('One or more parameter values were invalid: An number set  may not be empty');
        const nums = list.map(checkNumber);
        if (hasDuplicate(nums)) throw validation('Input collection contains duplicates');
        out = { NS: nums };
        break;
      }
      case 'BS': {
        const list = stringList(val);
        if (!list.length)
          throw validation('One or more parameter values were invalid: Binary sets should not be empty');
        if (hasDuplicate(list))
          throw validation(
            `One or more parameter values were invalid: Input collection ${collectionStr(list)}of type BS contains duplicates.`,
          );
        out = { BS: list.slice() };
        break;
      }
      case 'M': {
        if (typeof val !== 'object' || Array.isArray(val))
          throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
        const m: Record<string, AttributeValue> = {};
        const entries = val as Record<string, unknown>;
        for (const k in entries) m[k] = validateAttributeValue(entries[k], depth + 1);
        out = { M: m };
        break;
      }
      case 'L': {
        if (!Array.isArray(val))
          throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
        const l = new Array<AttributeValue>(val.length);
        for (let i = 0; i < val.length; i++) l[i] = validateAttributeValue(val[i], depth + 1);
        out = { L: l };
        break;
      }
      default:
        // Unknown members are a serialization matter for the codec; DynamoDB ignores nothing, so refuse.
        throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
    }
  }
  if (count === 0 || !out)
    throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  if (count > 1)
    throw validation(
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    );
  return out;
}

/** Check every attribute of an item; returns a canonical copy. `param` names the request member (e.g. `Item`). */
export function validateItem(item: unknown, param: string): Item {
  if (item === null || typeof item !== 'object' || Array.isArray(item))
    throw validation(
      `1 validation error detected: Value null at '${param}' failed to satisfy constraint: Member must not be null`,
    );
  const out: Item = {};
  const src = item as Record<string, unknown>;
  for (const k in src) out[k] = validateAttributeValue(src[k], 1);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Equality and ordering

function bytesOf(b64: string): Buffer {
  return Buffer.from(b64, 'base64');
}

function setEquals(a: string[], b: string[], norm?: (s: string) => string): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(norm ? a.map(norm) : a);
  for (const x of b) if (!s.has(norm ? norm(x) : x)) return false;
  return true;
}

const normNum = (s: string): string => {
  const d = parseDecimalLoose(s);
  return d ? formatDecimal(d) : s;
};
const normBin = (s: string): string => bytesOf(s).toString('base64');

/** Deep equality as DynamoDB defines it: numbers numerically, sets as sets, binary by bytes. */
export function attributeEquals(a: AttributeValue, b: AttributeValue): boolean {
  if (a.S !== undefined) return b.S === a.S;
  if (a.N !== undefined) return b.N !== undefined && (a.N === b.N || compareNumberText(a.N, b.N) === 0);
  if (a.B !== undefined) return b.B !== undefined && (a.B === b.B || bytesOf(a.B).equals(bytesOf(b.B)));
  if (a.BOOL !== undefined) return b.BOOL === a.BOOL;
  if (a.NULL !== undefined) return b.NULL !== undefined;
  if (a.SS !== undefined) return b.SS !== undefined && setEquals(a.SS, b.SS);
  if (a.NS !== undefined) return b.NS !== undefined && setEquals(a.NS, b.NS, normNum);
  if (a.BS !== undefined) return b.BS !== undefined && setEquals(a.BS, b.BS, normBin);
  if (a.L !== undefined) {
    const bl = b.L;
    if (bl === undefined || bl.length !== a.L.length) return false;
    for (let i = 0; i < bl.length; i++) if (!attributeEquals(a.L[i], bl[i])) return false;
    return true;
  }
  if (a.M !== undefined) {
    const bm = b.M;
    if (bm === undefined) return false;
    let n = 0;
    for (const k in a.M) {
      const bv = bm[k];
      if (bv === undefined || !attributeEquals(a.M[k], bv)) return false;
      n++;
    }
    for (const _k in bm) n--;
    return n === 0;
  }
  return false;
}

const CANONICAL_NUMBER = /^(-?[1-9]\d*(\.\d*[1-9])?|-?0\.\d*[1-9]|0)$/;

/** Compare two canonical decimals (as formatDecimal writes them) without parsing. */
function compareCanonical(a: string, b: string): number {
  const na = a.charCodeAt(0) === 45; /* - */
  const nb = b.charCodeAt(0) === 45;
  if (na !== nb) return na ? -1 : 1;
  const sign = na ? -1 : 1;
  let ia = a.indexOf('.');
  let ib = b.indexOf('.');
  if (ia < 0) ia = a.length;
  if (ib < 0) ib = b.length;
  if (ia !== ib) return ia < ib ? -sign : sign;
  // Same integer-part length: character order is numeric order ('.' sorts below digits).
  return a < b ? -sign : a > b ? sign : 0;
}

function compareNumberText(a: string, b: string): number {
  if (a === b) return 0;
  if (CANONICAL_NUMBER.test(a) && CANONICAL_NUMBER.test(b)) return compareCanonical(a, b);
  const x = parseDecimalLoose(a);
  const y = parseDecimalLoose(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  return compareDecimal(x, y);
}

/** Compare two strings by their UTF-8 bytes (DynamoDB's string order). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order differs from code point (= UTF-8) order only when a surrogate meets a char >= U+E000.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}

/** Ordering of scalar values of the same type (N numeric, S UTF-8 bytes, B bytes); undefined otherwise. */
export function compareScalars(a: AttributeValue, b: AttributeValue): number | undefined {
  if (a.N !== undefined) return b.N === undefined ? undefined : compareNumberText(a.N, b.N);
  if (a.S !== undefined) return b.S === undefined ? undefined : compareUtf8(a.S, b.S);
  if (a.B !== undefined) {
    if (b.B === undefined) return undefined;
    const c = Buffer.compare(bytesOf(a.B), bytesOf(b.B));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Sizes

/**
 * Bytes a number occupies. The AWS Developer Guide ("Item sizes and formats",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)
 * gives "approximately (number of significant digits / 2) + 1 bytes", plus one for negatives. The
 * exact rule stores digits in base-100 pairs aligned on the decimal point: 1 byte of exponent plus
 * one per digit pair touched (so 1.2 takes 3 bytes while 12 takes 2); zero takes 1 byte.
 */
export function numberSize(n: string): number {
  const d = parseDecimalLoose(n);
  if (!d || d.sign === 0) return 1;
  const last = d.exp - d.digits.length + 1;
  const pairs = Math.floor(d.exp / 2) - Math.floor(last / 2) + 1;
  return 1 + pairs + (d.sign < 0 ? 1 : 0);
}

function base64Bytes(b64: string): number {
  let len = b64.length;
  while (len > 0 && b64.charCodeAt(len - 1) === 61 /* = */) len--;
  // Fast path for canonical base64 without whitespace.
  if (/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return Math.floor((len * 3) / 4);
  return bytesOf(b64).length;
}

/**
 * Size of one attribute value per the AWS Developer Guide ("Item sizes and formats"): S = UTF-8
 * bytes, B = raw bytes, N = see numberSize, BOOL/NULL = 1, sets = sum of their elements, M and L =
 * 3 bytes of overhead + 1 byte per element + the elements (a map element also counts its name).
 */
export function attributeValueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S, 'utf8');
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return base64Bytes(v.B);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) {
    let n = 0;
    for (const s of v.SS) n += Buffer.byteLength(s, 'utf8');
    return n;
  }
  if (v.NS !== undefined) {
    let n = 0;
    for (const s of v.NS) n += numberSize(s);
    return n;
  }
  if (v.BS !== undefined) {
    let n = 0;
    for (const s of v.BS) n += base64Bytes(s);
    return n;
  }
  if (v.L !== undefined) {
    let n = 3;
    for (const e of v.L) n += 1 + attributeValueSize(e);
    return n;
  }
  if (v.M !== undefined) {
    let n = 3;
    for (const k in v.M) n += 1 + Buffer.byteLength(k, 'utf8') + attributeValueSize(v.M[k]);
    return n;
  }
  return 0;
}

/** Item size: the sum over attributes of name bytes (UTF-8) + value size. */
export function itemSize(item: Item): number {
  let n = 0;
  for (const k in item) n += Buffer.byteLength(k, 'utf8') + attributeValueSize(item[k]);
  return n;
}

/** A deep copy of an attribute value (values are plain JSON data). */
export function cloneValue(v: AttributeValue): AttributeValue {
  if (v.M !== undefined) {
    const m: Record<string, AttributeValue> = {};
    for (const k in v.M) m[k] = cloneValue(v.M[k]);
    return { M: m };
  }
  if (v.L !== undefined) return { L: v.L.map(cloneValue) };
  if (v.SS !== undefined) return { SS: v.SS.slice() };
  if (v.NS !== undefined) return { NS: v.NS.slice() };
  if (v.BS !== undefined) return { BS: v.BS.slice() };
  return { ...v };
}

export { TYPES as ATTRIBUTE_TYPES };
