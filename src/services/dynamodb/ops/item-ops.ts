import type { RequestContext } from '../../../core/context.ts';
import { validation } from '../../../core/errors.ts';
import type { Dynamo } from '../context.ts';
import {
  applyProjection,
  applyUpdate,
  evaluateCondition,
  touchedTopLevelNames,
  updatedProjection,
} from '../expressions/index.ts';
import { itemKey } from '../keys.ts';
import type { Item } from '../types.ts';
import { itemSize, validateItem } from '../values/attribute.ts';
import {
  checkItemForWrite,
  checkKey,
  checkReturnValues,
  conditionalFailed,
  consumedCapacity,
  readUnits,
  writeCapacity,
} from './common.ts';
import { parseItemExpressions } from './expressions-of.ts';

interface WriteCommon {
  TableName: string;
  ReturnValues?: string;
  ReturnConsumedCapacity?: string;
  ReturnItemCollectionMetrics?: string;
  ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' | 'NONE';
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, any>;
  Expected?: Record<string, any>;
  ConditionalOperator?: 'AND' | 'OR';
}

export function putItem(d: Dynamo, input: WriteCommon & { Item: unknown }, ctx: RequestContext) {
  const rv = checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD']);
  const t = d.catalog.require(ctx, input.TableName);
  const item = validateItem(input.Item, 'Item');
  checkItemForWrite(t, item);
  const ex = parseItemExpressions(input, { condition: true });
  const key = itemKey(item, t.key);
  if (!ex.condition && rv === 'NONE' && (input.ReturnConsumedCapacity ?? 'NONE') === 'NONE' && d.items.isPlain(t)) {
    // Nothing needs the old image (no condition, indexes, stream, TTL or returned values): one upsert.
    d.items.overwrite(t, key, item);
    return {};
  }
  return d.tx(() => {
    const old = d.items.get(t, key);
    if (ex.condition && !evaluateCondition(ex.condition, old))
      throw conditionalFailed(old, input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD');
    d.items.write(t, key, old, item, d.clock.now());
    return {
      ...(rv === 'ALL_OLD' && old ? { Attributes: old } : {}),
      ...capacityOut(t, input.ReturnConsumedCapacity, writeCapacity(t, old, item), 'write'),
    };
  });
}

export function deleteItem(d: Dynamo, input: WriteCommon & { Key: unknown }, ctx: RequestContext) {
  const rv = checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD']);
  const t = d.catalog.require(ctx, input.TableName);
  const keyItem = checkKey(t, input.Key);
  const ex = parseItemExpressions(input, { condition: true });
  return d.tx(() => {
    const key = itemKey(keyItem, t.key);
    const old = d.items.get(t, key);
    if (ex.condition && !evaluateCondition(ex.condition, old))
      throw conditionalFailed(old, input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD');
    if (old) d.items.write(t, key, old, undefined, d.clock.now());
    return {
      ...(rv === 'ALL_OLD' && old ? { Attributes: old } : {}),
      ...capacityOut(t, input.ReturnConsumedCapacity, writeCapacity(t, old, undefined), 'write'),
    };
  });
}

export function updateItem(
  d: Dynamo,
  input: WriteCommon & { Key: unknown; UpdateExpression?: string; AttributeUpdates?: Record<string, any> },
  ctx: RequestContext,
) {
  const rv = checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW']);
  const t = d.catalog.require(ctx, input.TableName);
  const keyItem = checkKey(t, input.Key);
  const ex = parseItemExpressions(input, { condition: true, update: true });
  if (ex.update) {
    for (const name of touchedTopLevelNames(ex.update)) {
      if (name === t.key.hash || name === t.key.range)
        throw validation(
          `One or more parameter values were invalid: Cannot update attribute ${name}. This attribute is part of the key`,
        );
    }
  }
  return d.tx(() => {
    const key = itemKey(keyItem, t.key);
    const old = d.items.get(t, key);
    if (ex.condition && !evaluateCondition(ex.condition, old))
      throw conditionalFailed(old, input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD');
    const base: Item = old ?? { ...keyItem };
    const next = ex.update ? applyUpdate(ex.update, base) : base;
    checkItemForWrite(t, next);
    d.items.write(t, key, old, next, d.clock.now());
    let attributes: Item | undefined;
    if (rv === 'ALL_OLD') attributes = old;
    else if (rv === 'ALL_NEW') attributes = next;
    else if (rv === 'UPDATED_OLD' || rv === 'UPDATED_NEW') {
      const src = rv === 'UPDATED_OLD' ? old : next;
      if (src && ex.update) attributes = applyProjection(updatedProjection(ex.update), src);
    }
    return {
      ...(attributes && Object.keys(attributes).length ? { Attributes: attributes } : {}),
      ...capacityOut(t, input.ReturnConsumedCapacity, writeCapacity(t, old, next), 'write'),
    };
  });
}

export function getItem(
  d: Dynamo,
  input: {
    TableName: string;
    Key: unknown;
    ConsistentRead?: boolean;
    ProjectionExpression?: string;
    AttributesToGet?: string[];
    ExpressionAttributeNames?: Record<string, string>;
    ReturnConsumedCapacity?: string;
  },
  ctx: RequestContext,
) {
  const t = d.catalog.require(ctx, input.TableName);
  const keyItem = checkKey(t, input.Key);
  const ex = parseItemExpressions(input, { projection: true });
  const item = d.items.get(t, itemKey(keyItem, t.key));
  const cap = { table: readUnits(item ? itemSize(item) : 0, input.ConsistentRead === true), indexes: {} };
  return {
    ...(item ? { Item: ex.projection ? applyProjection(ex.projection, item) : item } : {}),
    ...capacityOut(t, input.ReturnConsumedCapacity, cap, 'read'),
  };
}

export function capacityOut(
  t: Parameters<typeof consumedCapacity>[0],
  mode: string | undefined,
  cap: Parameters<typeof consumedCapacity>[2],
  kind: 'read' | 'write',
) {
  const c = consumedCapacity(t, mode, cap, kind);
  return c ? { ConsumedCapacity: c } : {};
}
