import type { KvStore } from '../../../storage/types.ts';
import { type IndexMeta, indexNs, itemsNs, type TableMeta } from './catalog.ts';

const secs = (ms: number) => new Date(ms);

/** DescribeTable's TableDescription, derived from the stored table (counts read live). */
export function describeTable(
  t: TableMeta,
  kv: KvStore,
  status: 'CREATING' | 'ACTIVE' | 'UPDATING' | 'DELETING' = 'ACTIVE',
  creatingIndexes: Set<string> = new Set(),
): Record<string, unknown> {
  const stats = kv.stats(itemsNs(t));
  const d: Record<string, unknown> = {
    AttributeDefinitions: t.attributeDefinitions,
    TableName: t.name,
    KeySchema: t.keySchema,
    TableStatus: status,
    CreationDateTime: secs(t.createdAt),
    ProvisionedThroughput: throughput(t.billingMode, t.provisioned),
    TableSizeBytes: status === 'CREATING' ? 0 : stats.bytes,
    ItemCount: status === 'CREATING' ? 0 : stats.count,
    TableArn: t.arn,
    TableId: t.id,
  };
  if (t.billingMode === 'PAY_PER_REQUEST') {
    d.BillingModeSummary = {
      BillingMode: 'PAY_PER_REQUEST',
      LastUpdateToPayPerRequestDateTime: secs(t.lastUpdateToPayPerRequest ?? t.createdAt),
    };
  }
  const lsis = t.indexes.filter((i) => i.kind === 'LSI');
  const gsis = t.indexes.filter((i) => i.kind === 'GSI');
  if (lsis.length)
    d.LocalSecondaryIndexes = lsis.map((i) => ({
      IndexName: i.name,
      KeySchema: i.keySchema,
      Projection: i.projection,
      ...indexStats(t, i, kv),
      IndexArn: `${t.arn}/index/${i.name}`,
    }));
  if (gsis.length) {
    d.GlobalSecondaryIndexes = gsis.map((i) => {
      const creating = status === 'CREATING' || creatingIndexes.has(i.name);
      return {
        IndexName: i.name,
        KeySchema: i.keySchema,
        Projection: i.projection,
        IndexStatus: creating ? 'CREATING' : 'ACTIVE',
        ...(creatingIndexes.has(i.name) ? { Backfilling: false } : {}),
        ProvisionedThroughput: throughput(
          t.billingMode,
          i.provisioned ? { ...i.provisioned, NumberOfDecreasesToday: 0 } : undefined,
        ),
        ...indexStats(t, i, kv),
        IndexArn: `${t.arn}/index/${i.name}`,
        ...(i.onDemand ? { OnDemandThroughput: i.onDemand } : {}),
        WarmThroughput: {
          ReadUnitsPerSecond: 12000,
          WriteUnitsPerSecond: 4000,
          Status: creating ? 'UPDATING' : 'ACTIVE',
        },
      };
    });
  }
  if (t.stream?.enabled) d.StreamSpecification = { StreamEnabled: true, StreamViewType: t.stream.viewType };
  if (t.stream?.arn) {
    d.LatestStreamLabel = t.stream.label;
    d.LatestStreamArn = t.stream.arn;
  }
  if (t.sse)
    d.SSEDescription = {
      Status: 'ENABLED',
      SSEType: t.sse.SSEType,
      ...(t.sse.KMSMasterKeyArn ? { KMSMasterKeyArn: t.sse.KMSMasterKeyArn } : {}),
    };
  if (t.tableClass) d.TableClassSummary = { TableClass: t.tableClass };
  d.DeletionProtectionEnabled = t.deletionProtection;
  if (t.onDemand) d.OnDemandThroughput = t.onDemand;
  d.WarmThroughput = {
    ReadUnitsPerSecond: 12000,
    WriteUnitsPerSecond: 4000,
    Status: status === 'CREATING' ? 'UPDATING' : 'ACTIVE',
  };
  return d;
}

function throughput(mode: TableMeta['billingMode'], p: TableMeta['provisioned'] | undefined) {
  if (mode === 'PAY_PER_REQUEST' || !p)
    return { NumberOfDecreasesToday: 0, ReadCapacityUnits: 0, WriteCapacityUnits: 0 };
  return {
    ...(p.LastIncreaseDateTime ? { LastIncreaseDateTime: secs(p.LastIncreaseDateTime) } : {}),
    ...(p.LastDecreaseDateTime ? { LastDecreaseDateTime: secs(p.LastDecreaseDateTime) } : {}),
    NumberOfDecreasesToday: p.NumberOfDecreasesToday ?? 0,
    ReadCapacityUnits: p.ReadCapacityUnits,
    WriteCapacityUnits: p.WriteCapacityUnits,
  };
}

function indexStats(t: TableMeta, i: IndexMeta, kv: KvStore) {
  const s = kv.stats(indexNs(t, i.name));
  return { IndexSizeBytes: s.bytes, ItemCount: s.count };
}
