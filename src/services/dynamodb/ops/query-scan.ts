import type { RequestContext } from '../../../core/context.ts';
import { validation } from '../../../core/errors.ts';
import type { KvRange } from '../../../storage/types.ts';
import type { Dynamo } from '../context.ts';
import {
  applyProjection,
  type Condition,
  conditionFromFilter,
  ExpressionAttributes,
  evaluateCondition,
  type KeyCondition,
  keyConditionFromLegacy,
  type Projection,
  parseCondition,
  parseKeyCondition,
  parseProjection,
  projectionFromAttributesToGet,
} from '../expressions/index.ts';
import { indexEntryKey } from '../items/item-store.ts';
import { encodeKeyPart, encodeKeyPrefix, itemKey, keyOf, partitionPrefix, prefixEnd, segmentRange } from '../keys.ts';
import { type IndexMeta, indexNs, itemsNs, type TableMeta } from '../tables/catalog.ts';
import type { Item, KeyDef } from '../types.ts';
import { itemSize, validateItem } from '../values/attribute.ts';
import { consumedCapacity, invalid, noMixing, readUnits } from './common.ts';

const MAX_PAGE_BYTES = 1024 * 1024;

interface ReadInput {
  TableName: string;
  IndexName?: string;
  Select?: 'ALL_ATTRIBUTES' | 'ALL_PROJECTED_ATTRIBUTES' | 'SPECIFIC_ATTRIBUTES' | 'COUNT';
  AttributesToGet?: string[];
  Limit?: number;
  ConsistentRead?: boolean;
  ExclusiveStartKey?: unknown;
  ReturnConsumedCapacity?: string;
  ProjectionExpression?: string;
  FilterExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, any>;
  ConditionalOperator?: 'AND' | 'OR';
}

interface QueryInput extends ReadInput {
  KeyConditionExpression?: string;
  KeyConditions?: Record<string, any>;
  QueryFilter?: Record<string, any>;
  ScanIndexForward?: boolean;
}

interface ScanInput extends ReadInput {
  ScanFilter?: Record<string, any>;
  Segment?: number;
  TotalSegments?: number;
}

/** What to read from: the table itself or one of its indexes. */
interface Source {
  t: TableMeta;
  index?: IndexMeta;
  ns: string;
  key: KeyDef;
}

function sourceOf(d: Dynamo, ctx: RequestContext, input: ReadInput): Source {
  const t = d.catalog.require(ctx, input.TableName);
  if (input.IndexName === undefined) return { t, ns: itemsNs(t), key: t.key };
  const index = t.indexes.find((i) => i.name === input.IndexName);
  if (!index) throw validation(`The table does not have the specified index: ${input.IndexName}`);
  if (index.kind === 'GSI' && input.ConsistentRead)
    throw validation('Consistent reads are not supported on global secondary indexes');
  return { t, index, ns: indexNs(t, index.name), key: index.key };
}

interface Plan {
  filter?: Condition;
  projection?: Projection;
  select: string;
}

function plan(
  src: Source,
  input: QueryInput & ScanInput,
  filterParam: 'QueryFilter' | 'ScanFilter',
  keyParams: string[],
): Plan & { attrs: ExpressionAttributes } {
  noMixing(
    input as unknown as Record<string, unknown>,
    [
      filterParam,
      'AttributesToGet',
      ...keyParams.filter((k) => k === 'KeyConditions'),
      ...(input.ConditionalOperator !== undefined ? ['ConditionalOperator'] : []),
    ],
    ['FilterExpression', 'ProjectionExpression', ...keyParams.filter((k) => k === 'KeyConditionExpression')],
  );
  const attrs = new ExpressionAttributes(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  let filter: Condition | undefined;
  if (input.FilterExpression !== undefined) filter = parseCondition(input.FilterExpression, attrs, 'FilterExpression');
  else if (input[filterParam] !== undefined)
    filter = conditionFromFilter(input[filterParam]!, input.ConditionalOperator);
  let projection: Projection | undefined;
  if (input.ProjectionExpression !== undefined) projection = parseProjection(input.ProjectionExpression, attrs);
  else if (input.AttributesToGet !== undefined) projection = projectionFromAttributesToGet(input.AttributesToGet);

  const select =
    input.Select ?? (projection ? 'SPECIFIC_ATTRIBUTES' : src.index ? 'ALL_PROJECTED_ATTRIBUTES' : 'ALL_ATTRIBUTES');
  if (projection && select !== 'SPECIFIC_ATTRIBUTES') {
    throw validation(
      input.ProjectionExpression !== undefined
        ? `One or more parameter values were invalid: Select type ${select} is not compatible with ProjectionExpression`
        : `Cannot specify the AttributesToGet when choosing to get ${select}`,
    );
  }
  if (select === 'SPECIFIC_ATTRIBUTES' && !projection) {
    throw validation(
      'One or more parameter values were invalid: Must specify the ProjectionExpression or AttributesToGet when choosing to get SPECIFIC_ATTRIBUTES',
    );
  }
  if (select === 'ALL_PROJECTED_ATTRIBUTES' && !src.index)
    throw invalid('Select type ALL_PROJECTED_ATTRIBUTES is not supported for table');
  if (
    select === 'ALL_ATTRIBUTES' &&
    src.index?.kind === 'GSI' &&
    (src.index.projection.ProjectionType ?? 'ALL') !== 'ALL'
  ) {
    throw invalid(
      `Select type ALL_ATTRIBUTES is not supported for global secondary index ${src.index.name} because its projection type is not ALL`,
    );
  }
  return { filter, projection, select, attrs };
}

/** The start position after ExclusiveStartKey, in the source's key space. */
function startAfter(src: Source, raw: unknown): Buffer | undefined {
  if (raw === undefined) return undefined;
  const start = validateItem(raw, 'ExclusiveStartKey');
  const need = new Set([src.t.key.hash, src.t.key.range, src.key.hash, src.key.range].filter(Boolean) as string[]);
  const bad = () =>
    validation('The provided starting key is invalid: The provided key element does not match the schema');
  if (Object.keys(start).length !== need.size) throw bad();
  for (const n of need) if (!start[n]) throw bad();
  const checkType = (k: KeyDef) => {
    if (!(k.hashType in start[k.hash])) throw bad();
    if (k.range && !(k.rangeType! in start[k.range])) throw bad();
  };
  checkType(src.t.key);
  checkType(src.key);
  return src.index ? indexEntryKey(src.t, src.index, start) : itemKey(start, src.t.key);
}

interface ReadResult {
  Items?: Item[];
  Count: number;
  ScannedCount: number;
  LastEvaluatedKey?: Item;
  ConsumedCapacity?: Record<string, unknown>;
}

/** Walk a key range applying Limit, the 1 MB page, the filter and the projection, as Query and Scan do. */
function readRange(d: Dynamo, src: Source, range: KvRange, p: Plan, input: ReadInput): ReadResult {
  const limit = input.Limit;
  const items: Item[] = [];
  let scanned = 0;
  let bytes = 0;
  let last: Item | undefined;
  let stoppedEarly = false;
  const fetchFromTable = src.index && p.select === 'ALL_ATTRIBUTES';
  for (const [, raw] of d.storage.kv.range(src.ns, range)) {
    let item = JSON.parse(raw) as Item;
    if (fetchFromTable) item = d.items.get(src.t, itemKey(item, src.t.key)) ?? item;
    scanned++;
    bytes += itemSize(item);
    last = item;
    if (!p.filter || evaluateCondition(p.filter, item)) items.push(item);
    if ((limit !== undefined && scanned >= limit) || bytes >= MAX_PAGE_BYTES) {
      stoppedEarly = true;
      break;
    }
  }
  d.items.meter.readUnits += Math.ceil(bytes / 4096) || 1;
  const out: ReadResult = { Count: items.length, ScannedCount: scanned };
  if (p.select !== 'COUNT') out.Items = p.projection ? items.map((i) => applyProjection(p.projection!, i)) : items;
  if (stoppedEarly && last) {
    const k = keyOf(last, src.t.key);
    if (src.index) Object.assign(k, keyOf(last, src.key));
    out.LastEvaluatedKey = k;
  }
  const c = consumedCapacity(
    src.t,
    input.ReturnConsumedCapacity,
    src.index
      ? {
          table: 0,
          indexes: {
            [src.index.name]: { kind: src.index.kind, units: readUnits(bytes, input.ConsistentRead === true) },
          },
        }
      : { table: readUnits(bytes, input.ConsistentRead === true), indexes: {} },
    'read',
  );
  if (c) out.ConsumedCapacity = c;
  return out;
}

export function query(d: Dynamo, input: QueryInput, ctx: RequestContext) {
  if (input.KeyConditionExpression === undefined && input.KeyConditions === undefined) {
    throw validation('Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.');
  }
  const src = sourceOf(d, ctx, input);
  const keyParams = ['KeyConditions', 'KeyConditionExpression'];
  const p = plan(src, input, 'QueryFilter', keyParams);
  const kc: KeyCondition =
    input.KeyConditionExpression !== undefined
      ? parseKeyCondition(input.KeyConditionExpression, p.attrs, src.key)
      : keyConditionFromLegacy(input.KeyConditions!, src.key);
  p.attrs.assertAllUsed();
  const range = keyRange(src.key, kc);
  const start = startAfter(src, input.ExclusiveStartKey);
  const forward = input.ScanIndexForward !== false;
  if (start) {
    if (forward && (!range.gte || Buffer.compare(start, range.gte) >= 0)) {
      delete range.gte;
      range.gt = start;
    } else if (!forward && (!range.lt || Buffer.compare(start, range.lt) < 0)) {
      range.lt = start;
    }
  }
  range.reverse = !forward;
  return readRange(d, src, range, p, input);
}

/** The stored-key range a key condition selects. */
function keyRange(key: KeyDef, kc: KeyCondition): KvRange {
  const prefix = partitionPrefix(kc.hash, key);
  const end = prefixEnd(prefix);
  const r: KvRange = { gte: prefix, ...(end ? { lt: end } : {}) };
  if (!kc.range || !key.range) return r;
  const type = key.rangeType!;
  const at = (i: number) => Buffer.concat([prefix, encodeKeyPart(kc.range!.values[i], type)]);
  const after = (b: Buffer) => prefixEnd(b);
  switch (kc.range.op) {
    case 'EQ':
      return bounds(at(0), after(at(0)));
    case 'LT':
      return bounds(prefix, at(0));
    case 'LE':
      return bounds(prefix, after(at(0)));
    case 'GT':
      return bounds(after(at(0)), end);
    case 'GE':
      return bounds(at(0), end);
    case 'BETWEEN':
      return bounds(at(0), after(at(1)));
    case 'BEGINS_WITH': {
      const p = Buffer.concat([prefix, encodeKeyPrefix(kc.range.values[0], type as 'S' | 'B')]);
      return bounds(p, prefixEnd(p));
    }
    default:
      return r;
  }
}

function bounds(gte: Buffer | undefined, lt: Buffer | undefined): KvRange {
  const r: KvRange = {};
  if (gte) r.gte = gte;
  if (lt) r.lt = lt;
  return r;
}

export function scan(d: Dynamo, input: ScanInput, ctx: RequestContext) {
  if ((input.Segment === undefined) !== (input.TotalSegments === undefined)) {
    throw validation(
      input.Segment === undefined
        ? 'The Segment parameter is required but was not present in the request when parameter TotalSegments is present'
        : 'The TotalSegments parameter is required but was not present in the request when Segment parameter is present',
    );
  }
  if (input.Segment !== undefined && input.Segment >= input.TotalSegments!) {
    throw validation(
      `The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: ${input.Segment} is not less than TotalSegments: ${input.TotalSegments}`,
    );
  }
  const src = sourceOf(d, ctx, input);
  const p = plan(src, input, 'ScanFilter', []);
  p.attrs.assertAllUsed();
  const range: KvRange = input.Segment !== undefined ? segmentRange(input.Segment, input.TotalSegments!) : {};
  const start = startAfter(src, input.ExclusiveStartKey);
  if (start) {
    delete range.gte;
    range.gt = start;
  }
  return readRange(d, src, range, p, input);
}
