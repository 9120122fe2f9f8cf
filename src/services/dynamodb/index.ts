import type { RequestContext } from '../../core/context.ts';
import { isAwsError } from '../../core/errors.ts';
import type { MetricDatum, MetricsPort, ServiceDeps, StreamsPort } from '../../core/ports.ts';
import type { OperationHandler, ServiceImpl } from '../../gateway/service.ts';
import type { Dynamo } from './context.ts';
import { ItemStore } from './items/item-store.ts';
import { batchGetItem, batchWriteItem } from './ops/batch.ts';
import { deleteItem, getItem, putItem, updateItem } from './ops/item-ops.ts';
import { query, scan } from './ops/query-scan.ts';
import { transactGetItems, transactWriteItems } from './ops/transact.ts';
import { Catalog } from './tables/catalog.ts';
import {
  createTable,
  deleteTable,
  describeEndpoints,
  describeLimits,
  describeTableOp,
  describeTimeToLive,
  listTables,
  listTagsOfResource,
  tagResource,
  untagResource,
  updateTable,
  updateTimeToLive,
} from './tables/table-ops.ts';
import { TtlSweeper } from './ttl-sweeper.ts';

export interface DynamoDbDeps extends ServiceDeps {
  streams?: StreamsPort;
  /** AWS/DynamoDB metrics (CloudWatch). */
  metrics?: MetricsPort;
}

type Op = (d: Dynamo, input: any, ctx: RequestContext) => unknown;

const OPERATIONS: Record<string, Op> = {
  CreateTable: createTable,
  DescribeTable: describeTableOp,
  ListTables: listTables,
  UpdateTable: updateTable,
  DeleteTable: deleteTable,
  UpdateTimeToLive: updateTimeToLive,
  DescribeTimeToLive: describeTimeToLive,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsOfResource: listTagsOfResource,
  DescribeLimits: describeLimits,
  DescribeEndpoints: describeEndpoints,
  PutItem: putItem,
  GetItem: getItem,
  UpdateItem: updateItem,
  DeleteItem: deleteItem,
  Query: query,
  Scan: scan,
  BatchGetItem: batchGetItem,
  BatchWriteItem: batchWriteItem,
  TransactWriteItems: transactWriteItems,
  TransactGetItems: transactGetItems,
};

/** DynamoDB: tables, items, indexes, expressions, transactions and TTL, on the kv store. */
export function createDynamoDbService(deps: DynamoDbDeps): { service: ServiceImpl; stop(): void } {
  const { storage, clock } = deps;
  const catalog = new Catalog(storage.kv);
  let sweeper: TtlSweeper | undefined;
  const items = new ItemStore(storage.kv, deps.streams, (at) => sweeper?.notify(at));
  const d: Dynamo = {
    storage,
    clock,
    catalog,
    items,
    streams: deps.streams,
    tx<T>(fn: () => T): T {
      try {
        return storage.tx(fn);
      } catch (e) {
        // A rolled-back transaction may have touched cached table metadata.
        catalog.clear();
        throw e;
      }
    },
  };
  sweeper = new TtlSweeper(d, deps.logger);
  sweeper.start();
  storage.onReset(() => {
    catalog.clear();
    sweeper!.stop();
    sweeper!.start();
  });
  const operations: ServiceImpl['operations'] = {};
  for (const [name, op] of Object.entries(OPERATIONS))
    operations[name] = deps.metrics ? metered(name, op, d, deps.metrics) : (input, ctx) => op(d, input, ctx);
  return {
    service: { model: 'dynamodb', operations },
    stop: () => sweeper!.stop(),
  };
}

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/**
 * AWS/DynamoDB metrics through CloudWatch's port, one datapoint per request as AWS records them (so
 * SampleCount is the request count): ConsumedRead/WriteCapacityUnits (TableName; GlobalSecondaryIndexName
 * for index queries), ReturnedItemCount (TableName, Operation), ConditionalCheckFailedRequests,
 * UserErrors (no dimensions) and SystemErrors (TableName, Operation). Capacity comes from the item
 * store's meter (stored sizes, counted while the operation ran), so measuring adds no work to the
 * request; answers carry ConsumedCapacity only when asked, computed exactly.
 */
function metered(name: string, op: Op, d: Dynamo, metrics: MetricsPort): OperationHandler {
  const isRead = READS.has(name);
  const isWrite = WRITES.has(name);
  const metric = isRead ? 'ConsumedReadCapacityUnits' : 'ConsumedWriteCapacityUnits';
  const factor = name.startsWith('Transact') ? 2 : 1;
  return (input, ctx) => {
    const meter = d.items.meter;
    meter.readUnits = 0;
    meter.writeUnits = 0;
    let out: any;
    try {
      out = op(d, input, ctx);
    } catch (e) {
      const t = input?.TableName ? [{ Name: 'TableName', Value: input.TableName }] : [];
      let datum: MetricDatum;
      if (isAwsError(e) && e.code === 'ConditionalCheckFailedException')
        datum = { MetricName: 'ConditionalCheckFailedRequests', Dimensions: t, Value: 1, Unit: 'Count' };
      else if (isAwsError(e) && e.status < 500) datum = { MetricName: 'UserErrors', Value: 1, Unit: 'Count' };
      else
        datum = {
          MetricName: 'SystemErrors',
          Dimensions: [...t, { Name: 'Operation', Value: name }],
          Value: 1,
          Unit: 'Count',
        };
      metrics.put(ctx.accountId, ctx.region, 'AWS/DynamoDB', [datum]);
      throw e;
    }
    if (!(isRead || isWrite) || typeof input?.TableName !== 'string') {
      if (name === 'BatchGetItem' || name === 'BatchWriteItem' || name.startsWith('Transact'))
        emitMulti(input, ctx, metric, meter, factor, metrics);
      return out;
    }
    const units = isRead ? meter.readUnits * (input.ConsistentRead ? 1 : 0.5) : meter.writeUnits;
    const dims = [{ Name: 'TableName', Value: input.TableName }];
    const data: MetricDatum[] = [{ MetricName: metric, Dimensions: dims, Value: units * factor, Unit: 'Count' }];
    if (
      input.IndexName &&
      d.catalog
        .get(ctx.accountId, ctx.region, input.TableName)
        ?.indexes.some((i) => i.name === input.IndexName && i.kind === 'GSI')
    ) {
      data[0].Dimensions = [...dims, { Name: 'GlobalSecondaryIndexName', Value: input.IndexName }];
    }
    if ((name === 'Query' || name === 'Scan') && typeof out?.Count === 'number')
      data.push({
        MetricName: 'ReturnedItemCount',
        Dimensions: [...dims, { Name: 'Operation', Value: name }],
        Value: out.Count,
        Unit: 'Count',
      });
    metrics.put(ctx.accountId, ctx.region, 'AWS/DynamoDB', data);
    return out;
  };
}

/** Batch and transaction requests span tables: their capacity is reported without a per-table split. */
function emitMulti(
  input: any,
  ctx: RequestContext,
  metric: string,
  meter: { readUnits: number; writeUnits: number },
  factor: number,
  metrics: MetricsPort,
) {
  const tables = new Set<string>(Object.keys(input?.RequestItems ?? {}));
  for (const ti of input?.TransactItems ?? [])
    for (const v of Object.values(ti ?? {})) if ((v as any)?.TableName) tables.add((v as any).TableName);
  const units = (metric === 'ConsumedReadCapacityUnits' ? meter.readUnits * 0.5 : meter.writeUnits) * factor;
  if (tables.size === 1) {
    metrics.put(ctx.accountId, ctx.region, 'AWS/DynamoDB', [
      { MetricName: metric, Dimensions: [{ Name: 'TableName', Value: [...tables][0] }], Value: units, Unit: 'Count' },
    ]);
  }
}
