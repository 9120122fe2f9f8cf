import type { RequestContext } from '../../../core/context.ts';
import { validation } from '../../../core/errors.ts';
import type { Dynamo } from '../context.ts';
import {
  applyProjection,
  ExpressionAttributes,
  parseProjection,
  projectionFromAttributesToGet,
} from '../expressions/index.ts';
import { itemKey } from '../keys.ts';
import type { TableMeta } from '../tables/catalog.ts';
import type { Item } from '../types.ts';
import { itemSize, validateItem } from '../values/attribute.ts';
import {
  type Capacity,
  checkItemForWrite,
  checkKey,
  consumedCapacity,
  noMixing,
  readUnits,
  writeCapacity,
} from './common.ts';

const MAX_BATCH_GET_BYTES = 16 * 1024 * 1024;

interface KeysAndAttributes {
  Keys: unknown[];
  AttributesToGet?: string[];
  ConsistentRead?: boolean;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
}

export function batchGetItem(
  d: Dynamo,
  input: { RequestItems: Record<string, KeysAndAttributes>; ReturnConsumedCapacity?: string },
  ctx: RequestContext,
) {
  const tables = Object.entries(input.RequestItems);
  if (!tables.length)
    throw validation(
      "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  const total = tables.reduce((n, [, r]) => n + (r.Keys?.length ?? 0), 0);
  if (total > 100) throw validation('Too many items requested for the BatchGetItem call');
  const plans = tables.map(([name, req]) => {
    const t = d.catalog.require(ctx, name);
    noMixing(req as unknown as Record<string, unknown>, ['AttributesToGet'], ['ProjectionExpression']);
    const attrs = new ExpressionAttributes(req.ExpressionAttributeNames, undefined);
    const projection =
      req.ProjectionExpression !== undefined
        ? parseProjection(req.ProjectionExpression, attrs)
        : req.AttributesToGet
          ? projectionFromAttributesToGet(req.AttributesToGet)
          : undefined;
    attrs.assertAllUsed();
    const seen = new Set<string>();
    const keys = req.Keys.map((k) => {
      const key = checkKey(t, k, 'Keys');
      const enc = itemKey(key, t.key);
      const hex = enc.toString('hex');
      if (seen.has(hex)) throw validation('Provided list of item keys contains duplicates');
      seen.add(hex);
      return { key, enc };
    });
    return { name, t, req, projection, keys };
  });
  const Responses: Record<string, Item[]> = {};
  const UnprocessedKeys: Record<string, KeysAndAttributes> = {};
  const consumed: Record<string, unknown>[] = [];
  let bytes = 0;
  for (const p of plans) {
    const out: Item[] = [];
    let readBytes = 0;
    const unprocessed: unknown[] = [];
    for (const k of p.keys) {
      if (bytes >= MAX_BATCH_GET_BYTES) {
        unprocessed.push(k.key);
        continue;
      }
      const item = d.items.get(p.t, k.enc);
      const size = item ? itemSize(item) : 0;
      readBytes += Math.max(1, Math.ceil(size / 4096)) * 4096;
      if (item) {
        bytes += size;
        out.push(p.projection ? applyProjection(p.projection, item) : item);
      }
    }
    Responses[p.name] = out;
    if (unprocessed.length) UnprocessedKeys[p.name] = { ...p.req, Keys: unprocessed };
    const c = consumedCapacity(
      p.t,
      input.ReturnConsumedCapacity,
      { table: readUnits(readBytes, p.req.ConsistentRead === true), indexes: {} },
      'read',
    );
    if (c) consumed.push(c);
  }
  return { Responses, UnprocessedKeys, ...(consumed.length ? { ConsumedCapacity: consumed } : {}) };
}

interface WriteRequest {
  PutRequest?: { Item: unknown };
  DeleteRequest?: { Key: unknown };
}

export function batchWriteItem(
  d: Dynamo,
  input: {
    RequestItems: Record<string, WriteRequest[]>;
    ReturnConsumedCapacity?: string;
    ReturnItemCollectionMetrics?: string;
  },
  ctx: RequestContext,
) {
  const tables = Object.entries(input.RequestItems);
  if (!tables.length)
    throw validation(
      "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  const total = tables.reduce((n, [, r]) => n + r.length, 0);
  if (total > 25) throw validation('Too many items requested for the BatchWriteItem call');
  const plans = tables.map(([name, reqs]) => {
    const t = d.catalog.require(ctx, name);
    const seen = new Set<string>();
    const writes = reqs.map((r) => {
      if (!!r.PutRequest === !!r.DeleteRequest) {
        throw validation(
          'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
        );
      }
      let item: Item | undefined;
      let key: Item;
      if (r.PutRequest) {
        item = validateItem(r.PutRequest.Item, 'Item');
        checkItemForWrite(t, item);
        key = item;
      } else key = checkKey(t, r.DeleteRequest!.Key);
      const enc = itemKey(key, t.key);
      const hex = enc.toString('hex');
      if (seen.has(hex)) throw validation('Provided list of item keys contains duplicates');
      seen.add(hex);
      return { item, enc };
    });
    return { t, writes };
  });
  return d.tx(() => {
    const now = d.clock.now();
    const consumed: Record<string, unknown>[] = [];
    for (const p of plans) {
      const cap: Capacity = { table: 0, indexes: {} };
      for (const w of p.writes) {
        const old = d.items.get(p.t, w.enc);
        d.items.write(p.t, w.enc, old, w.item, now);
        addCapacity(cap, writeCapacity(p.t, old, w.item));
      }
      const c = consumedCapacity(p.t, input.ReturnConsumedCapacity, cap, 'write');
      if (c) consumed.push(c);
    }
    return { UnprocessedItems: {}, ...(consumed.length ? { ConsumedCapacity: consumed } : {}) };
  });
}

export function addCapacity(into: Capacity, c: Capacity): void {
  into.table += c.table;
  for (const [n, i] of Object.entries(c.indexes)) {
    const cur = into.indexes[n];
    into.indexes[n] = { kind: i.kind, units: (cur?.units ?? 0) + i.units };
  }
}

export type { TableMeta };
