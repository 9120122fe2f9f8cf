import { AwsError, validation } from '../../../core/errors.ts';
import { encodeKeyPart } from '../keys.ts';
import type { TableMeta } from '../tables/catalog.ts';
import type { AttributeValue, Item, KeyDef } from '../types.ts';
import { attributeValueSize, itemSize, validateItem } from '../values/attribute.ts';

export const invalid = (m: string) => validation(`One or more parameter values were invalid: ${m}`);
export const MAX_ITEM_BYTES = 400 * 1024;

const typeOf = (v: AttributeValue) => Object.keys(v)[0];

/** Validate a Key parameter against the table's (or index's) key schema; returns the canonical key. */
export function checkKey(t: TableMeta, raw: unknown, param = 'Key'): Item {
  const key = validateItem(raw, param);
  const k = t.key;
  const names = Object.keys(key);
  if (names.length !== (k.range ? 2 : 1) || !key[k.hash] || (k.range && !key[k.range])) {
    throw validation('The provided key element does not match the schema');
  }
  checkKeyValue(key, k.hash, k.hashType, 'hash', undefined);
  if (k.range) checkKeyValue(key, k.range, k.rangeType!, 'range', undefined);
  return key;
}

function checkKeyValue(item: Item, name: string, type: string, role: 'hash' | 'range', index: string | undefined) {
  const v = item[name];
  if (typeOf(v) !== type) throw validation('The provided key element does not match the schema');
  checkKeyContent(v, name, type, role, index);
}

function checkKeyContent(
  v: AttributeValue,
  name: string,
  type: string,
  role: 'hash' | 'range',
  index: string | undefined,
) {
  if ((type === 'S' && v.S === '') || (type === 'B' && v.B === '')) {
    throw index
      ? validation(
          `One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty ${type === 'S' ? 'string' : 'binary'} value. IndexName: ${index}, IndexKey: ${name}`,
        )
      : validation(
          `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${type === 'S' ? 'string' : 'binary'} value. Key: ${name}`,
        );
  }
  const size =
    type === 'S'
      ? Buffer.byteLength(v.S!)
      : type === 'B'
        ? Buffer.from(v.B!, 'base64').length
        : encodeKeyPart(v, 'N').length;
  if (role === 'hash' && size > 2048) throw invalid('Size of hashkey has exceeded the maximum size limit of2048 bytes');
  if (role === 'range' && size > 1024)
    throw invalid('Aggregated size of all range keys has exceeded the size limit of 1024 bytes');
}

/** An item to be stored: key attributes present and typed right, index keys typed right, size ≤ 400 KB. */
export function checkItemForWrite(t: TableMeta, item: Item): void {
  for (const [name, type, role] of keyParts(t.key)) {
    const v = item[name];
    if (!v) throw invalid(`Missing the key ${name} in the item`);
    const actual = typeOf(v);
    if (actual !== type) throw invalid(`Type mismatch for key ${name} expected: ${type} actual: ${actual}`);
    checkKeyContent(v, name, type, role, undefined);
  }
  for (const idx of t.indexes) {
    for (const [name, type, role] of keyParts(idx.key)) {
      const v = item[name];
      if (!v || name === t.key.hash || name === t.key.range) continue;
      const actual = typeOf(v);
      if (actual !== type)
        throw invalid(`Type mismatch for Index Key ${name} Expected: ${type} Actual: ${actual} IndexName: ${idx.name}`);
      checkKeyContent(v, name, type, role, idx.name);
    }
  }
  if (itemSize(item) > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
}

function keyParts(k: KeyDef): [string, string, 'hash' | 'range'][] {
  const out: [string, string, 'hash' | 'range'][] = [[k.hash, k.hashType, 'hash']];
  if (k.range) out.push([k.range, k.rangeType!, 'range']);
  return out;
}

/** AWS refuses mixing the legacy parameters with expressions, naming both sides. */
export function noMixing(input: Record<string, unknown>, legacy: string[], expressions: string[]): void {
  const l = legacy.filter((p) => input[p] !== undefined);
  const e = expressions.filter((p) => input[p] !== undefined);
  if (l.length && e.length) {
    throw validation(
      `Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {${l.join(', ')}} Expression parameters: {${e.join(', ')}}`,
    );
  }
  if (!e.length) {
    if (input.ExpressionAttributeNames !== undefined)
      throw validation('ExpressionAttributeNames can only be specified when using expressions');
    if (input.ExpressionAttributeValues !== undefined)
      throw validation('ExpressionAttributeValues can only be specified when using expressions');
  }
}

export function checkReturnValues(v: string | undefined, allowed: string[]): string {
  const rv = v ?? 'NONE';
  if (!allowed.includes(rv)) throw validation('Return values set to invalid value');
  return rv;
}

export const conditionalFailed = (old: Item | undefined, returnOld: boolean) =>
  new AwsError(
    'ConditionalCheckFailedException',
    'The conditional request failed',
    400,
    returnOld && old ? { extra: { Item: old } } : {},
  );

/** Write capacity as DynamoDB counts it: 1 unit per KB of the larger image, per table and per affected index. */
export function writeUnits(oldItem: Item | undefined, newItem: Item | undefined): number {
  const size = Math.max(oldItem ? itemSize(oldItem) : 0, newItem ? itemSize(newItem) : 0);
  return Math.max(1, Math.ceil(size / 1024));
}

/** Read capacity: 1 unit per 4 KB, half for eventually consistent reads. */
export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return consistent ? units : units / 2;
}

export interface Capacity {
  table: number;
  indexes: Record<string, { kind: 'GSI' | 'LSI'; units: number }>;
}

export function consumedCapacity(
  t: TableMeta,
  mode: string | undefined,
  cap: Capacity,
  kind: 'read' | 'write',
): Record<string, unknown> | undefined {
  if (!mode || mode === 'NONE') return undefined;
  const total = cap.table + Object.values(cap.indexes).reduce((s, i) => s + i.units, 0);
  const field = kind === 'read' ? 'ReadCapacityUnits' : 'WriteCapacityUnits';
  const out: Record<string, unknown> = { TableName: t.name, CapacityUnits: total, [field]: total };
  if (mode === 'INDEXES') {
    out.Table = { CapacityUnits: cap.table, [field]: cap.table };
    const gsi: Record<string, unknown> = {};
    const lsi: Record<string, unknown> = {};
    for (const [name, i] of Object.entries(cap.indexes))
      (i.kind === 'GSI' ? gsi : lsi)[name] = { CapacityUnits: i.units, [field]: i.units };
    if (Object.keys(gsi).length) out.GlobalSecondaryIndexes = gsi;
    if (Object.keys(lsi).length) out.LocalSecondaryIndexes = lsi;
  }
  return out;
}

/** Capacity of one item write, including the indexes whose entries it touches. */
export function writeCapacity(t: TableMeta, oldItem: Item | undefined, newItem: Item | undefined): Capacity {
  const cap: Capacity = { table: writeUnits(oldItem, newItem), indexes: {} };
  for (const idx of t.indexes) {
    const had = !!oldItem?.[idx.key.hash] && (!idx.key.range || !!oldItem[idx.key.range]);
    const has = !!newItem?.[idx.key.hash] && (!idx.key.range || !!newItem[idx.key.range]);
    if (had || has)
      cap.indexes[idx.name] = {
        kind: idx.kind,
        units: writeUnits(had ? oldItem : undefined, has ? newItem : undefined),
      };
  }
  return cap;
}

export { attributeValueSize };
