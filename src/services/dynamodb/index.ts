import type { RequestContext } from '../../core/context.ts';
import { isAwsError } from '../../core/errors.ts';
import type { MetricDatum, MetricsPort, ServiceDeps, StreamsPort } from '../../core/ports.ts';
import type { OperationHandler, ServiceImpl } from '../../gateway/service.ts';
import type { Dynamo } from './context.ts';
import { ItemStore } from './items/item-store.ts';
import { batchGetItem, batchWriteItem } from './ops/batch.ts';
import { writeUnits } from './ops/common.ts';
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
type Cap = { TableName?: string; CapacityUnits?: number; Table?: { CapacityUnits?: number } };

/**
 * AWS/DynamoDB metrics through CloudWatch's port: ConsumedRead/WriteCapacityUnits (TableName, and
 * GlobalSecondaryIndexName), ReturnedItemCount (TableName, Operation), ConditionalCheckFailedRequests,
 * UserErrors (no dimensions) and SystemErrors (TableName, Operation). Capacity is measured as
 * ReturnConsumedCapacity reports it (asked internally when the caller did not ask; removed from the
 * answer again); a PutItem the caller did not ask about counts its new item's size (no old-item read).
 */
function metered(name: string, op: Op, d: Dynamo, metrics: MetricsPort): OperationHandler {
  return (input, ctx) => {
    const emit = (data: MetricDatum[]) => metrics.put(ctx.accountId, ctx.region, 'AWS/DynamoDB', data);
    const table = (t: string | undefined) => (t ? [{ Name: 'TableName', Value: t }] : []);
    const asked = ['TOTAL', 'INDEXES'].includes(input?.ReturnConsumedCapacity);
    const measure = (READS.has(name) || WRITES.has(name)) && !asked && name !== 'PutItem';
    let out: any;
    try {
      out = op(d, measure ? { ...input, ReturnConsumedCapacity: 'INDEXES' } : input, ctx);
    } catch (e) {
      const t = table(input?.TableName);
      if (isAwsError(e) && e.code === 'ConditionalCheckFailedException')
        emit([{ MetricName: 'ConditionalCheckFailedRequests', Dimensions: t, Value: 1, Unit: 'Count' }]);
      else if (isAwsError(e) && e.status < 500) emit([{ MetricName: 'UserErrors', Value: 1, Unit: 'Count' }]);
      else
        emit([
          {
            MetricName: 'SystemErrors',
            Dimensions: [...t, { Name: 'Operation', Value: name }],
            Value: 1,
            Unit: 'Count',
          },
        ]);
      throw e;
    }
    const metric = READS.has(name) ? 'ConsumedReadCapacityUnits' : 'ConsumedWriteCapacityUnits';
    const data: MetricDatum[] = [];
    const caps = ([] as Cap[]).concat(out?.ConsumedCapacity ?? []);
    for (const c of caps) {
      data.push({
        MetricName: metric,
        Dimensions: table(c.TableName),
        Value: c.Table?.CapacityUnits ?? c.CapacityUnits ?? 0,
        Unit: 'Count',
      });
      const gsis = (c as { GlobalSecondaryIndexes?: Record<string, { CapacityUnits: number }> }).GlobalSecondaryIndexes;
      for (const [gsi, u] of Object.entries(gsis ?? {}))
        data.push({
          MetricName: metric,
          Dimensions: [...table(c.TableName), { Name: 'GlobalSecondaryIndexName', Value: gsi }],
          Value: u.CapacityUnits,
          Unit: 'Count',
        });
    }
    if (name === 'PutItem' && !asked && input?.Item)
      data.push({
        MetricName: metric,
        Dimensions: table(input.TableName),
        Value: writeUnits(undefined, input.Item),
        Unit: 'Count',
      });
    if ((name === 'Query' || name === 'Scan') && typeof out?.Count === 'number')
      data.push({
        MetricName: 'ReturnedItemCount',
        Dimensions: [...table(input.TableName), { Name: 'Operation', Value: name }],
        Value: out.Count,
        Unit: 'Count',
      });
    if (data.length) emit(data);
    if (measure && out?.ConsumedCapacity) {
      const { ConsumedCapacity: _c, ...rest } = out;
      return rest;
    }
    return out;
  };
}
