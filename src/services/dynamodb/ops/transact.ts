import { createHash } from 'node:crypto';
import type { RequestContext } from '../../../core/context.ts';
import { AwsError, validation } from '../../../core/errors.ts';
import type { Dynamo } from '../context.ts';
import { applyProjection, applyUpdate, evaluateCondition, touchedTopLevelNames } from '../expressions/index.ts';
import { itemKey } from '../keys.ts';
import type { TableMeta } from '../tables/catalog.ts';
import type { Item } from '../types.ts';
import { itemSize, validateItem } from '../values/attribute.ts';
import { addCapacity } from './batch.ts';
import { type Capacity, checkItemForWrite, checkKey, consumedCapacity, readUnits, writeCapacity } from './common.ts';
import { type ParsedExpressions, parseItemExpressions } from './expressions-of.ts';

const TOKEN_NS = 'ddb:tx-tokens';
const TOKEN_TTL_MS = 10 * 60 * 1000;

interface Action {
  kind: 'ConditionCheck' | 'Put' | 'Delete' | 'Update';
  t: TableMeta;
  enc: Buffer;
  key: Item;
  item?: Item;
  ex: ParsedExpressions;
  returnOld: boolean;
}

export function transactWriteItems(
  d: Dynamo,
  input: {
    TransactItems: Record<string, any>[];
    ClientRequestToken?: string;
    ReturnConsumedCapacity?: string;
    ReturnItemCollectionMetrics?: string;
  },
  ctx: RequestContext,
) {
  const actions: Action[] = [];
  const seen = new Set<string>();
  for (const ti of input.TransactItems) {
    const kinds = (['ConditionCheck', 'Put', 'Delete', 'Update'] as const).filter((k) => ti[k] !== undefined);
    if (kinds.length !== 1) throw validation('TransactItems can only contain one of Check, Put, Update or Delete');
    const kind = kinds[0];
    const op = ti[kind];
    const t = d.catalog.require(ctx, op.TableName);
    let key: Item;
    let item: Item | undefined;
    if (kind === 'Put') {
      item = validateItem(op.Item, 'Item');
      checkItemForWrite(t, item);
      key = item;
    } else key = checkKey(t, op.Key);
    if (kind === 'ConditionCheck' && op.ConditionExpression === undefined) {
      throw validation(
        "1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
      );
    }
    const ex = parseItemExpressions(op, { condition: true, update: kind === 'Update' });
    if (kind === 'Update' && ex.update) {
      for (const n of touchedTopLevelNames(ex.update)) {
        if (n === t.key.hash || n === t.key.range)
          throw validation(
            `One or more parameter values were invalid: Cannot update attribute ${n}. This attribute is part of the key`,
          );
      }
    }
    const enc = itemKey(key, t.key);
    const id = `${t.id}:${enc.toString('hex')}`;
    if (seen.has(id)) throw validation('Transaction request cannot include multiple operations on one item');
    seen.add(id);
    actions.push({ kind, t, enc, key, item, ex, returnOld: op.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' });
  }

  return d.tx(() => {
    const now = d.clock.now();
    if (input.ClientRequestToken !== undefined && replayed(d, ctx, input, now))
      return capacityOf(actions, input.ReturnConsumedCapacity, true);
    const olds = actions.map((a) => d.items.get(a.t, a.enc));
    const reasons: Record<string, unknown>[] = [];
    const news: (Item | undefined)[] = [];
    let failed = false;
    actions.forEach((a, i) => {
      const old = olds[i];
      if (a.ex.condition && !evaluateCondition(a.ex.condition, old)) {
        failed = true;
        reasons.push({
          Code: 'ConditionalCheckFailed',
          Message: 'The conditional request failed',
          ...(a.returnOld && old ? { Item: old } : {}),
        });
        news.push(undefined);
        return;
      }
      try {
        if (a.kind === 'Update') {
          const next = a.ex.update ? applyUpdate(a.ex.update, old ?? { ...a.key }) : (old ?? { ...a.key });
          checkItemForWrite(a.t, next);
          news.push(next);
        } else news.push(a.kind === 'Put' ? a.item : undefined);
        reasons.push({ Code: 'None' });
      } catch (e) {
        if (!(e instanceof AwsError) || e.code !== 'ValidationException') throw e;
        failed = true;
        reasons.push({ Code: 'ValidationError', Message: e.message });
        news.push(undefined);
      }
    });
    if (failed) {
      throw new AwsError(
        'TransactionCanceledException',
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        400,
        {
          extra: { CancellationReasons: reasons },
        },
      );
    }
    actions.forEach((a, i) => {
      if (a.kind === 'ConditionCheck') return;
      d.items.write(a.t, a.enc, olds[i], a.kind === 'Delete' ? undefined : news[i], now);
    });
    return capacityOf(actions, input.ReturnConsumedCapacity, false, olds, news);
  });
}

/** ClientRequestToken: a repeat within 10 minutes succeeds without writing again; a different payload is refused. */
function replayed(
  d: Dynamo,
  ctx: RequestContext,
  input: { TransactItems: unknown; ClientRequestToken?: string },
  now: number,
): boolean {
  const key = Buffer.from(`${ctx.accountId}\u0000${ctx.region}\u0000${input.ClientRequestToken}`);
  const digest = createHash('sha256').update(JSON.stringify(input.TransactItems)).digest('hex');
  const prev = d.storage.kv.get(TOKEN_NS, key);
  if (prev) {
    const p = JSON.parse(prev) as { digest: string; at: number };
    if (now - p.at < TOKEN_TTL_MS) {
      if (p.digest !== digest)
        throw new AwsError(
          'IdempotentParameterMismatchException',
          'The request uses the same client token as a previous, but non-identical request.',
          400,
        );
      return true;
    }
  }
  d.storage.kv.put(TOKEN_NS, key, JSON.stringify({ digest, at: now }));
  return false;
}

function capacityOf(
  actions: Action[],
  mode: string | undefined,
  replay: boolean,
  olds: (Item | undefined)[] = [],
  news: (Item | undefined)[] = [],
) {
  if (!mode || mode === 'NONE') return {};
  const byTable = new Map<TableMeta, Capacity>();
  actions.forEach((a, i) => {
    const cap = byTable.get(a.t) ?? { table: 0, indexes: {} };
    const c =
      a.kind === 'ConditionCheck'
        ? { table: readUnits(olds[i] ? itemSize(olds[i]!) : 0, true), indexes: {} }
        : writeCapacity(a.t, olds[i], news[i] ?? a.item);
    // Transactions cost two units per unit of work.
    c.table *= replay ? 1 : 2;
    for (const x of Object.values(c.indexes)) x.units *= 2;
    addCapacity(cap, c);
    byTable.set(a.t, cap);
  });
  return { ConsumedCapacity: [...byTable].map(([t, c]) => consumedCapacity(t, mode, c, 'write')) };
}

export function transactGetItems(
  d: Dynamo,
  input: { TransactItems: { Get: Record<string, any> }[]; ReturnConsumedCapacity?: string },
  ctx: RequestContext,
) {
  const gets = input.TransactItems.map((ti) => {
    if (!ti.Get)
      throw validation(
        "1 validation error detected: Value null at 'transactItems.1.member.get' failed to satisfy constraint: Member must not be null",
      );
    const t = d.catalog.require(ctx, ti.Get.TableName);
    const key = checkKey(t, ti.Get.Key);
    const ex = parseItemExpressions(ti.Get, { projection: true });
    return { t, enc: itemKey(key, t.key), ex };
  });
  const seen = new Set<string>();
  for (const g of gets) {
    const id = `${g.t.id}:${g.enc.toString('hex')}`;
    if (seen.has(id)) throw validation('Transaction request cannot include multiple operations on one item');
    seen.add(id);
  }
  const byTable = new Map<TableMeta, Capacity>();
  const Responses = gets.map((g) => {
    const item = d.items.get(g.t, g.enc);
    const cap = byTable.get(g.t) ?? { table: 0, indexes: {} };
    cap.table += 2 * readUnits(item ? itemSize(item) : 0, true);
    byTable.set(g.t, cap);
    return item ? { Item: g.ex.projection ? applyProjection(g.ex.projection, item) : item } : {};
  });
  const consumed = [...byTable]
    .map(([t, c]) => consumedCapacity(t, input.ReturnConsumedCapacity, c, 'read'))
    .filter(Boolean);
  return { Responses, ...(consumed.length ? { ConsumedCapacity: consumed } : {}) };
}
