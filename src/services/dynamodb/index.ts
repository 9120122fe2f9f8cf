import type { RequestContext } from '../../core/context.ts';
import type { ServiceDeps, StreamsPort } from '../../core/ports.ts';
import type { ServiceImpl } from '../../gateway/service.ts';
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
  for (const [name, op] of Object.entries(OPERATIONS)) operations[name] = (input, ctx) => op(d, input, ctx);
  return {
    service: { model: 'dynamodb', operations },
    stop: () => sweeper!.stop(),
  };
}
