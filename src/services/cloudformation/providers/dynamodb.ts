import {
  changed,
  deepEqual,
  type Existing,
  fail,
  isNotFound,
  type ResourceContext,
  type ResourceProvider,
} from './types.ts';

type Props = Record<string, any>;

function streamSpec(p: Props) {
  const s = p.StreamSpecification;
  return s?.StreamViewType ? { StreamEnabled: true, StreamViewType: s.StreamViewType } : undefined;
}

function createInput(p: Props, name: string) {
  return {
    TableName: name,
    AttributeDefinitions: p.AttributeDefinitions,
    KeySchema: p.KeySchema,
    BillingMode: p.BillingMode,
    ProvisionedThroughput: p.ProvisionedThroughput,
    GlobalSecondaryIndexes: p.GlobalSecondaryIndexes,
    LocalSecondaryIndexes: p.LocalSecondaryIndexes,
    StreamSpecification: streamSpec(p),
    SSESpecification: p.SSESpecification
      ? {
          Enabled: p.SSESpecification.SSEEnabled,
          SSEType: p.SSESpecification.SSEType,
          KMSMasterKeyId: p.SSESpecification.KMSMasterKeyId,
        }
      : undefined,
    TableClass: p.TableClass,
    DeletionProtectionEnabled: p.DeletionProtectionEnabled,
    OnDemandThroughput: p.OnDemandThroughput,
    Tags: Array.isArray(p.Tags) && p.Tags.length ? p.Tags : undefined,
  };
}

const UNSUPPORTED = [
  'KinesisStreamSpecification',
  'ImportSourceSpecification',
  'ResourcePolicy',
  'ContributorInsightsSpecification',
  'WarmThroughput',
];

function refuse(p: Props) {
  for (const k of UNSUPPORTED)
    if (p[k] !== undefined) fail(`Property ${k} of AWS::DynamoDB::Table is not supported by Eddy`);
  if (p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true)
    fail('PointInTimeRecoverySpecification (point-in-time recovery) is not supported by Eddy');
}

async function describe(ctx: ResourceContext, name: string) {
  const out = await ctx.call('dynamodb', 'DescribeTable', { TableName: name });
  const t = out.Table;
  return {
    physicalId: name,
    attrs: { Arn: t.TableArn, StreamArn: t.LatestStreamArn, TableId: t.TableId },
  };
}

async function setTtl(ctx: ResourceContext, name: string, want: Props | undefined, had: Props | undefined) {
  const on = want?.Enabled === true || want?.Enabled === 'true';
  const wasOn = had?.Enabled === true || had?.Enabled === 'true';
  if (on && wasOn && want?.AttributeName === had?.AttributeName) return;
  if (wasOn && (!on || want?.AttributeName !== had?.AttributeName))
    await ctx.call('dynamodb', 'UpdateTimeToLive', {
      TableName: name,
      TimeToLiveSpecification: { Enabled: false, AttributeName: had!.AttributeName },
    });
  if (on)
    await ctx.call('dynamodb', 'UpdateTimeToLive', {
      TableName: name,
      TimeToLiveSpecification: { Enabled: true, AttributeName: want!.AttributeName },
    });
}

export const dynamodbTable: ResourceProvider = {
  needs: ['dynamodb'],
  createOnly: ['TableName', 'KeySchema', 'LocalSecondaryIndexes', 'ImportSourceSpecification'],
  nameProperty: 'TableName',
  async create(p, ctx) {
    refuse(p);
    const name = p.TableName ?? ctx.physicalName({ maxLength: 255 });
    await ctx.call('dynamodb', 'CreateTable', createInput(p, name));
    try {
      await setTtl(ctx, name, p.TimeToLiveSpecification, undefined);
    } catch (e) {
      await ctx.call('dynamodb', 'DeleteTable', { TableName: name }).catch(() => {});
      throw e;
    }
    return describe(ctx, name);
  },
  async update(p, prev, ctx) {
    refuse(p);
    const name = prev.physicalId;
    const old = prev.props;
    const diff = changed(old, p);
    if (diff.has('BillingMode') || diff.has('ProvisionedThroughput')) {
      const mode = p.BillingMode ?? 'PROVISIONED';
      await ctx.call('dynamodb', 'UpdateTable', {
        TableName: name,
        BillingMode: mode,
        ProvisionedThroughput: mode === 'PROVISIONED' ? p.ProvisionedThroughput : undefined,
      });
    }
    if (diff.has('StreamSpecification')) {
      if (streamSpec(old))
        await ctx.call('dynamodb', 'UpdateTable', { TableName: name, StreamSpecification: { StreamEnabled: false } });
      const s = streamSpec(p);
      if (s) await ctx.call('dynamodb', 'UpdateTable', { TableName: name, StreamSpecification: s });
    }
    if (diff.has('GlobalSecondaryIndexes')) {
      const before = new Map<string, Props>((old.GlobalSecondaryIndexes ?? []).map((g: Props) => [g.IndexName, g]));
      const after = new Map<string, Props>((p.GlobalSecondaryIndexes ?? []).map((g: Props) => [g.IndexName, g]));
      for (const [n, g] of before) {
        if (
          after.has(n) &&
          deepEqual({ ...after.get(n), ProvisionedThroughput: 0 }, { ...g, ProvisionedThroughput: 0 })
        )
          continue;
        await ctx.call('dynamodb', 'UpdateTable', {
          TableName: name,
          GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: n } }],
        });
      }
      for (const [n, g] of after) {
        const was = before.get(n);
        if (was && deepEqual({ ...g, ProvisionedThroughput: 0 }, { ...was, ProvisionedThroughput: 0 })) {
          if (!deepEqual(g.ProvisionedThroughput, was.ProvisionedThroughput) && g.ProvisionedThroughput)
            await ctx.call('dynamodb', 'UpdateTable', {
              TableName: name,
              GlobalSecondaryIndexUpdates: [
                { Update: { IndexName: n, ProvisionedThroughput: g.ProvisionedThroughput } },
              ],
            });
          continue;
        }
        await ctx.call('dynamodb', 'UpdateTable', {
          TableName: name,
          AttributeDefinitions: p.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: g }],
        });
      }
    }
    if (diff.has('TimeToLiveSpecification'))
      await setTtl(ctx, name, p.TimeToLiveSpecification, old.TimeToLiveSpecification);
    if (diff.has('Tags')) await retag(ctx, name, old.Tags, p.Tags);
    if (diff.has('DeletionProtectionEnabled'))
      await ctx.call('dynamodb', 'UpdateTable', {
        TableName: name,
        DeletionProtectionEnabled: !!p.DeletionProtectionEnabled,
      });
    for (const k of diff)
      if (['SSESpecification', 'TableClass', 'OnDemandThroughput'].includes(k))
        fail(`Updating ${k} of AWS::DynamoDB::Table is not supported by Eddy`);
    return describe(ctx, name);
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('dynamodb', 'DeleteTable', { TableName: prev.physicalId });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

async function retag(ctx: ResourceContext, name: string, oldTags: unknown, newTags: unknown) {
  const arn = `arn:aws:dynamodb:${ctx.region}:${ctx.accountId}:table/${name}`;
  const o = new Map(((oldTags as Props[]) ?? []).map((t) => [t.Key, t.Value]));
  const n = new Map(((newTags as Props[]) ?? []).map((t) => [t.Key, t.Value]));
  const removed = [...o.keys()].filter((k) => !n.has(k));
  if (removed.length) await ctx.call('dynamodb', 'UntagResource', { ResourceArn: arn, TagKeys: removed });
  const set = [...n].filter(([k, v]) => o.get(k) !== v).map(([Key, Value]) => ({ Key, Value }));
  if (set.length) await ctx.call('dynamodb', 'TagResource', { ResourceArn: arn, Tags: set });
}

/** AWS::DynamoDB::GlobalTable with one replica, in the stack's region: a table. */
function asTable(p: Props, ctx: ResourceContext): Props {
  const replicas: Props[] = p.Replicas ?? [];
  const others = replicas.filter((r) => r.Region !== ctx.region);
  if (others.length)
    fail(
      `AWS::DynamoDB::GlobalTable replicas outside the stack's region (${others.map((r) => r.Region).join(', ')}) are not supported by Eddy`,
    );
  const here = replicas.find((r) => r.Region === ctx.region) ?? {};
  for (const k of [
    'ContributorInsightsSpecification',
    'KinesisStreamSpecification',
    'ReplicaStreamSpecification',
    'ResourcePolicy',
  ])
    if (here[k] !== undefined && k !== 'ContributorInsightsSpecification')
      fail(`Replica property ${k} of AWS::DynamoDB::GlobalTable is not supported by Eddy`);
  const provisioned = p.BillingMode === 'PROVISIONED';
  const wcu = p.WriteProvisionedThroughputSettings?.WriteCapacityAutoScalingSettings?.MinCapacity;
  const rcu = here.ReadProvisionedThroughputSettings?.ReadCapacityUnits;
  return {
    TableName: p.TableName,
    AttributeDefinitions: p.AttributeDefinitions,
    KeySchema: p.KeySchema,
    BillingMode: p.BillingMode ?? 'PAY_PER_REQUEST',
    ProvisionedThroughput: provisioned ? { ReadCapacityUnits: rcu ?? 5, WriteCapacityUnits: wcu ?? 5 } : undefined,
    GlobalSecondaryIndexes: p.GlobalSecondaryIndexes?.map((g: Props) => ({
      IndexName: g.IndexName,
      KeySchema: g.KeySchema,
      Projection: g.Projection,
      ProvisionedThroughput: provisioned ? { ReadCapacityUnits: rcu ?? 5, WriteCapacityUnits: wcu ?? 5 } : undefined,
    })),
    LocalSecondaryIndexes: p.LocalSecondaryIndexes,
    StreamSpecification: p.StreamSpecification,
    TimeToLiveSpecification: p.TimeToLiveSpecification,
    SSESpecification: p.SSESpecification
      ? { SSEEnabled: p.SSESpecification.SSEEnabled, SSEType: p.SSESpecification.SSEType }
      : undefined,
    Tags: here.Tags,
    DeletionProtectionEnabled: here.DeletionProtectionEnabled,
    TableClass: here.TableClass,
    PointInTimeRecoverySpecification: here.PointInTimeRecoverySpecification,
  };
}

export const dynamodbGlobalTable: ResourceProvider = {
  needs: ['dynamodb'],
  createOnly: ['TableName', 'KeySchema', 'LocalSecondaryIndexes'],
  nameProperty: 'TableName',
  async create(p, ctx) {
    return dynamodbTable.create(asTable(p, ctx), ctx);
  },
  async update(p, prev, ctx) {
    return dynamodbTable.update!(asTable(p, ctx), { ...prev, props: asTable(prev.props, ctx) } as Existing, ctx);
  },
  delete: (prev, ctx) => dynamodbTable.delete(prev, ctx),
};
