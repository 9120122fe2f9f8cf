import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../../core/context.ts';
import { AwsError, validation } from '../../../core/errors.ts';
import type { StreamViewType } from '../../../core/ports.ts';
import type { Dynamo } from '../context.ts';
import type { KeySchemaElement, Projection, ScalarKeyType } from '../types.ts';
import { checkTableName, type IndexMeta, keyDefOf, resolveTableName, type TableMeta } from './catalog.ts';
import { describeTable } from './describe.ts';

const invalid = (m: string) => validation(`One or more parameter values were invalid: ${m}`);

interface IndexInput {
  IndexName: string;
  KeySchema: KeySchemaElement[];
  Projection: Projection;
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  OnDemandThroughput?: { MaxReadRequestUnits?: number; MaxWriteRequestUnits?: number };
}

interface CreateTableInput {
  TableName: string;
  AttributeDefinitions?: { AttributeName: string; AttributeType: ScalarKeyType }[];
  KeySchema?: KeySchemaElement[];
  LocalSecondaryIndexes?: IndexInput[];
  GlobalSecondaryIndexes?: IndexInput[];
  BillingMode?: 'PROVISIONED' | 'PAY_PER_REQUEST';
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  StreamSpecification?: { StreamEnabled: boolean; StreamViewType?: StreamViewType };
  SSESpecification?: { Enabled?: boolean; SSEType?: 'KMS' | 'AES256'; KMSMasterKeyId?: string };
  Tags?: { Key: string; Value: string }[];
  TableClass?: string;
  DeletionProtectionEnabled?: boolean;
  OnDemandThroughput?: { MaxReadRequestUnits?: number; MaxWriteRequestUnits?: number };
  WarmThroughput?: unknown;
  ResourcePolicy?: string;
  GlobalTableSourceArn?: string;
}

export function createTable(d: Dynamo, input: CreateTableInput, ctx: RequestContext) {
  checkTableName(input.TableName, 'tableName');
  if (input.ResourcePolicy !== undefined) throw validation('ResourcePolicy is not supported by Eddy');
  if (input.GlobalTableSourceArn !== undefined)
    throw validation('GlobalTableSourceArn is not supported by Eddy (single-region global tables only)');
  const defs = input.AttributeDefinitions;
  const schema = input.KeySchema;
  const nulls: string[] = [];
  if (!defs) nulls.push("Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null");
  if (!schema) nulls.push("Value null at 'keySchema' failed to satisfy constraint: Member must not be null");
  if (nulls.length)
    throw validation(`${nulls.length} validation error${nulls.length > 1 ? 's' : ''} detected: ${nulls.join('; ')}`);
  const billingMode = input.BillingMode ?? 'PROVISIONED';
  if (billingMode === 'PAY_PER_REQUEST') {
    if (input.ProvisionedThroughput)
      throw invalid(
        'Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST',
      );
  } else {
    if (!input.ProvisionedThroughput) throw validation('No provisioned throughput specified for the table');
    checkThroughputBounds(input.ProvisionedThroughput);
  }
  const defNames = defs!.map((x) => x.AttributeName);
  if (new Set(defNames).size !== defNames.length) throw invalid('Duplicate AttributeName in AttributeDefinitions');
  checkKeySchema(schema!, defNames);
  const key = keyDefOf(schema!, defs!);
  const used = new Set(schema!.map((k) => k.AttributeName));
  const indexes: IndexMeta[] = [];
  const names = new Set<string>();
  if (input.LocalSecondaryIndexes) {
    if (!input.LocalSecondaryIndexes.length) throw invalid('List of LocalSecondaryIndexes is empty');
    if (!key.range)
      throw invalid(
        'Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex',
      );
    for (const i of input.LocalSecondaryIndexes) {
      checkKeySchema(i.KeySchema, defNames);
      if (i.KeySchema.length !== 2)
        throw invalid(`Index KeySchema does not have a range key for index: ${i.IndexName}`);
      if (i.KeySchema[0].AttributeName !== key.hash) {
        throw invalid(
          `Index KeySchema does not have the same leading hash key as table KeySchema for index: ${i.IndexName}. index hash key: ${i.KeySchema[0].AttributeName}, table hash key: ${key.hash}`,
        );
      }
      checkProjection(i);
      if (names.has(i.IndexName)) throw invalid(`Duplicate index name: ${i.IndexName}`);
      names.add(i.IndexName);
      for (const k of i.KeySchema) used.add(k.AttributeName);
      indexes.push({
        name: i.IndexName,
        kind: 'LSI',
        keySchema: i.KeySchema,
        key: keyDefOf(i.KeySchema, defs!),
        projection: normProjection(i.Projection),
      });
    }
    if (input.LocalSecondaryIndexes.length > 5)
      throw invalid('Number of LocalSecondaryIndexes exceeds per-table limit of 5');
  }
  if (input.GlobalSecondaryIndexes) {
    if (!input.GlobalSecondaryIndexes.length) throw invalid('List of GlobalSecondaryIndexes is empty');
    for (const i of input.GlobalSecondaryIndexes) {
      indexes.push(gsiFromInput(i, defNames, defs!, billingMode, names));
      for (const k of i.KeySchema) used.add(k.AttributeName);
    }
    if (input.GlobalSecondaryIndexes.length > 20)
      throw invalid('GlobalSecondaryIndex count exceeds the per-table limit of 20');
  }
  if (used.size !== defNames.length) {
    throw invalid(
      indexes.length
        ? 'Some AttributeDefinitions are not used. AttributeDefinitions: [' +
            defNames.join(', ') +
            '], keys used: [' +
            [...used].join(', ') +
            ']'
        : 'Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions',
    );
  }
  const stream = input.StreamSpecification;
  if (stream?.StreamEnabled && !stream.StreamViewType)
    throw validation('StreamSpecification: StreamViewType is required when StreamEnabled is true');
  if (stream && !stream.StreamEnabled && stream.StreamViewType)
    throw validation('StreamSpecification: StreamViewType can only be set when StreamEnabled is true');
  const tags = tagsFromInput(input.Tags ?? []);

  return d.tx(() => {
    const { accountId, region } = ctx;
    if (d.catalog.get(accountId, region, input.TableName)) {
      throw new AwsError('ResourceInUseException', `Table already exists: ${input.TableName}`, 400);
    }
    const now = d.clock.now();
    const arn = `arn:aws:dynamodb:${region}:${accountId}:table/${input.TableName}`;
    const t: TableMeta = {
      id: randomUUID(),
      name: input.TableName,
      accountId,
      region,
      arn,
      createdAt: now,
      attributeDefinitions: defs!,
      keySchema: schema!,
      key,
      billingMode,
      provisioned: {
        ...(input.ProvisionedThroughput ?? { ReadCapacityUnits: 0, WriteCapacityUnits: 0 }),
        NumberOfDecreasesToday: 0,
      },
      ...(billingMode === 'PAY_PER_REQUEST' ? { lastUpdateToPayPerRequest: now } : {}),
      ...(input.OnDemandThroughput ? { onDemand: input.OnDemandThroughput } : {}),
      indexes,
      deletionProtection: input.DeletionProtectionEnabled ?? false,
      tags,
      ...(input.TableClass ? { tableClass: input.TableClass } : {}),
      ...(input.SSESpecification?.Enabled ? { sse: sseOf(input.SSESpecification, ctx) } : {}),
    };
    if (stream?.StreamEnabled) t.stream = enableStream(d, t, stream.StreamViewType!, now);
    d.catalog.put(t);
    // Tables are ready as soon as they are written: the response says CREATING as AWS's does, and the
    // next DescribeTable (what waiters poll) already says ACTIVE.
    return { TableDescription: describeTable(t, d.storage.kv, 'CREATING') };
  });
}

function enableStream(d: Dynamo, t: TableMeta, viewType: StreamViewType, now: number): TableMeta['stream'] {
  if (!d.streams) return { enabled: true, viewType };
  const s = d.streams.enableStream(
    { accountId: t.accountId, region: t.region, tableName: t.name, keySchema: t.keySchema, viewType },
    now,
  );
  return { enabled: true, viewType, arn: s.streamArn, label: s.streamLabel };
}

function checkThroughputBounds(p: { ReadCapacityUnits: number; WriteCapacityUnits: number }) {
  if (p.ReadCapacityUnits > 1e12)
    throw validation(`Given value ${p.ReadCapacityUnits} for ReadCapacityUnits is out of bounds`);
  if (p.WriteCapacityUnits > 1e12)
    throw validation(`Given value ${p.WriteCapacityUnits} for WriteCapacityUnits is out of bounds`);
}

function checkKeySchema(schema: KeySchemaElement[], defNames: string[]) {
  const keys = schema.map((k) => k.AttributeName);
  if (keys.length > defNames.length) throw validation('Invalid KeySchema: Some index key attribute have no definition');
  if (keys.some((k) => !defNames.includes(k))) {
    throw invalid(
      `Some index key attributes are not defined in AttributeDefinitions. Keys: [${keys.join(', ')}], AttributeDefinitions: [${defNames.join(', ')}]`,
    );
  }
  if (keys.length === 2 && keys[0] === keys[1])
    throw validation('Both the Hash Key and the Range Key element in the KeySchema have the same name');
  if (schema[0].KeyType !== 'HASH')
    throw validation('Invalid KeySchema: The first KeySchemaElement is not a HASH key type');
  if (schema[1] && schema[1].KeyType !== 'RANGE')
    throw validation('Invalid KeySchema: The second KeySchemaElement is not a RANGE key type');
}

function checkProjection(i: IndexInput) {
  const type = i.Projection?.ProjectionType;
  if (!type) throw invalid('Unknown ProjectionType: null');
  if (i.Projection.NonKeyAttributes && type !== 'INCLUDE')
    throw invalid(`ProjectionType is ${type}, but NonKeyAttributes is specified`);
  if (type === 'INCLUDE' && !i.Projection.NonKeyAttributes?.length)
    throw invalid('ProjectionType is INCLUDE, but NonKeyAttributes is not specified');
  if ((i.Projection.NonKeyAttributes?.length ?? 0) > 100)
    throw invalid('The number of NonKeyAttributes exceeds the limit of 100');
}

function normProjection(p: Projection): Projection {
  return p.ProjectionType === 'INCLUDE'
    ? { ProjectionType: 'INCLUDE', NonKeyAttributes: p.NonKeyAttributes }
    : { ProjectionType: p.ProjectionType };
}

function gsiFromInput(
  i: IndexInput,
  defNames: string[],
  defs: TableMeta['attributeDefinitions'],
  billingMode: string,
  names: Set<string>,
): IndexMeta {
  checkKeySchema(i.KeySchema, defNames);
  checkProjection(i);
  if (billingMode === 'PAY_PER_REQUEST' && i.ProvisionedThroughput) {
    throw invalid(
      `ProvisionedThroughput should not be specified for index: ${i.IndexName} when BillingMode is PAY_PER_REQUEST`,
    );
  }
  if (billingMode === 'PROVISIONED' && !i.ProvisionedThroughput) {
    throw invalid(`ProvisionedThroughput must be specified for index: ${i.IndexName}`);
  }
  if (i.ProvisionedThroughput) checkThroughputBounds(i.ProvisionedThroughput);
  if (names.has(i.IndexName)) throw invalid(`Duplicate index name: ${i.IndexName}`);
  names.add(i.IndexName);
  return {
    name: i.IndexName,
    kind: 'GSI',
    keySchema: i.KeySchema,
    key: keyDefOf(i.KeySchema, defs),
    projection: normProjection(i.Projection),
    ...(i.ProvisionedThroughput ? { provisioned: i.ProvisionedThroughput } : {}),
    ...(i.OnDemandThroughput ? { onDemand: i.OnDemandThroughput } : {}),
  };
}

function sseOf(s: NonNullable<CreateTableInput['SSESpecification']>, ctx: RequestContext): TableMeta['sse'] {
  const type = s.SSEType ?? 'KMS';
  if (type === 'AES256') throw validation('One or more parameter values were invalid: SSEType AES256 is not supported');
  const keyId = s.KMSMasterKeyId;
  const arn = keyId?.startsWith('arn:')
    ? keyId
    : `arn:aws:kms:${ctx.region}:${ctx.accountId}:key/${keyId ?? randomUUID()}`;
  return { SSEType: 'KMS', KMSMasterKeyArn: arn };
}

function tagsFromInput(tags: { Key: string; Value: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) out[t.Key] = t.Value;
  return out;
}

export function describeTableOp(d: Dynamo, input: { TableName: string }, ctx: RequestContext) {
  return { Table: describeTable(d.catalog.require(ctx, input.TableName), d.storage.kv) };
}

export function listTables(
  d: Dynamo,
  input: { ExclusiveStartTableName?: string; Limit?: number },
  ctx: RequestContext,
) {
  const limit = input.Limit ?? 100;
  if (limit < 1 || limit > 100) {
    throw validation(
      `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value ${limit < 1 ? 'greater than or equal to 1' : 'less than or equal to 100'}`,
    );
  }
  const names = d.catalog.names(ctx.accountId, ctx.region, input.ExclusiveStartTableName, limit + 1);
  const page = names.slice(0, limit);
  return { TableNames: page, ...(names.length > limit ? { LastEvaluatedTableName: page[page.length - 1] } : {}) };
}

export function deleteTable(d: Dynamo, input: { TableName: string }, ctx: RequestContext) {
  return d.tx(() => {
    const t = d.catalog.require(ctx, input.TableName);
    if (t.deletionProtection) {
      throw validation(
        'Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.',
      );
    }
    const description = describeTable(t, d.storage.kv, 'DELETING');
    if (t.stream?.enabled && t.stream.arn) d.streams?.disableStream(t.stream.arn, d.clock.now());
    d.items.dropTable(t);
    d.catalog.delete(t);
    return { TableDescription: description };
  });
}

interface UpdateTableInput {
  TableName: string;
  AttributeDefinitions?: { AttributeName: string; AttributeType: ScalarKeyType }[];
  BillingMode?: 'PROVISIONED' | 'PAY_PER_REQUEST';
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  GlobalSecondaryIndexUpdates?: {
    Create?: IndexInput;
    Delete?: { IndexName: string };
    Update?: {
      IndexName: string;
      ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
      OnDemandThroughput?: IndexInput['OnDemandThroughput'];
    };
  }[];
  StreamSpecification?: { StreamEnabled: boolean; StreamViewType?: StreamViewType };
  SSESpecification?: CreateTableInput['SSESpecification'];
  DeletionProtectionEnabled?: boolean;
  TableClass?: string;
  OnDemandThroughput?: { MaxReadRequestUnits?: number; MaxWriteRequestUnits?: number };
  ReplicaUpdates?: unknown;
  MultiRegionConsistency?: unknown;
  GlobalTableWitnessUpdates?: unknown;
  WarmThroughput?: unknown;
}

export function updateTable(d: Dynamo, input: UpdateTableInput, ctx: RequestContext) {
  if (
    input.ReplicaUpdates !== undefined ||
    input.MultiRegionConsistency !== undefined ||
    input.GlobalTableWitnessUpdates !== undefined
  ) {
    throw validation(
      'ReplicaUpdates, MultiRegionConsistency and GlobalTableWitnessUpdates are not supported by Eddy (single-region)',
    );
  }
  const changes =
    input.ProvisionedThroughput ??
    input.BillingMode ??
    input.StreamSpecification ??
    input.GlobalSecondaryIndexUpdates ??
    input.SSESpecification ??
    input.DeletionProtectionEnabled ??
    input.TableClass ??
    input.OnDemandThroughput ??
    input.WarmThroughput;
  if (changes === undefined) {
    throw validation(
      'At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required',
    );
  }
  return d.tx(() => {
    const orig = d.catalog.require(ctx, input.TableName);
    const t: TableMeta = structuredClone(orig);
    const now = d.clock.now();
    let status: 'ACTIVE' | 'UPDATING' = 'ACTIVE';
    const creating = new Set<string>();

    if (input.BillingMode && input.BillingMode !== t.billingMode) {
      status = 'UPDATING';
      t.billingMode = input.BillingMode;
      if (input.BillingMode === 'PAY_PER_REQUEST') {
        if (input.ProvisionedThroughput)
          throw invalid(
            'Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST',
          );
        t.lastUpdateToPayPerRequest = now;
        t.provisioned = { ReadCapacityUnits: 0, WriteCapacityUnits: 0, NumberOfDecreasesToday: 0 };
        for (const i of t.indexes) delete i.provisioned;
      } else {
        if (!input.ProvisionedThroughput)
          throw invalid('ProvisionedThroughput must be specified when BillingMode is PROVISIONED');
        for (const i of t.indexes) {
          if (i.kind === 'GSI' && !i.provisioned) {
            const upd = input.GlobalSecondaryIndexUpdates?.find((u) => u.Update?.IndexName === i.name)?.Update
              ?.ProvisionedThroughput;
            if (!upd) throw invalid(`ProvisionedThroughput must be specified for index: ${i.name}`);
            i.provisioned = upd;
          }
        }
      }
    }
    if (input.ProvisionedThroughput) {
      if (t.billingMode === 'PAY_PER_REQUEST')
        throw invalid(
          'Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST',
        );
      checkThroughputBounds(input.ProvisionedThroughput);
      const cur = orig.billingMode === 'PROVISIONED' ? orig.provisioned : undefined;
      const req = input.ProvisionedThroughput;
      if (
        cur &&
        cur.ReadCapacityUnits === req.ReadCapacityUnits &&
        cur.WriteCapacityUnits === req.WriteCapacityUnits &&
        !input.BillingMode &&
        !input.GlobalSecondaryIndexUpdates &&
        !input.StreamSpecification
      ) {
        throw validation(
          `The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: ${cur.ReadCapacityUnits}. Requested ReadCapacityUnits: ${req.ReadCapacityUnits}. Current WriteCapacityUnits provisioned for the table: ${cur.WriteCapacityUnits}. Requested WriteCapacityUnits: ${req.WriteCapacityUnits}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.`,
        );
      }
      if (cur) {
        if (req.ReadCapacityUnits > cur.ReadCapacityUnits || req.WriteCapacityUnits > cur.WriteCapacityUnits)
          t.provisioned.LastIncreaseDateTime = now;
        if (req.ReadCapacityUnits < cur.ReadCapacityUnits || req.WriteCapacityUnits < cur.WriteCapacityUnits) {
          t.provisioned.LastDecreaseDateTime = now;
          t.provisioned.NumberOfDecreasesToday = (t.provisioned.NumberOfDecreasesToday ?? 0) + 1;
        }
      }
      t.provisioned = {
        ...t.provisioned,
        ReadCapacityUnits: req.ReadCapacityUnits,
        WriteCapacityUnits: req.WriteCapacityUnits,
      };
      status = 'UPDATING';
    }
    if (input.AttributeDefinitions) {
      for (const def of input.AttributeDefinitions) {
        const existing = t.attributeDefinitions.find((x) => x.AttributeName === def.AttributeName);
        if (existing && existing.AttributeType !== def.AttributeType) {
          throw invalid(`Cannot change the type of an attribute that is part of a key schema: ${def.AttributeName}`);
        }
        if (!existing) t.attributeDefinitions.push(def);
      }
    }
    const updates = input.GlobalSecondaryIndexUpdates ?? [];
    if (updates.length > 1 && updates.filter((u) => u.Create || u.Delete).length > 1) {
      throw validation(
        'Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table',
      );
    }
    for (const u of updates) {
      const actions = [u.Create, u.Delete, u.Update].filter(Boolean).length;
      if (actions !== 1)
        throw invalid(
          'One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null',
        );
      if (u.Create) {
        if (t.indexes.some((i) => i.name === u.Create!.IndexName))
          throw validation('Attempting to create an index which already exists');
        const names = new Set(t.indexes.map((i) => i.name));
        const idx = gsiFromInput(
          u.Create,
          t.attributeDefinitions.map((x) => x.AttributeName),
          t.attributeDefinitions,
          t.billingMode,
          names,
        );
        if (t.indexes.filter((i) => i.kind === 'GSI').length >= 20)
          throw invalid('GlobalSecondaryIndex count exceeds the per-table limit of 20');
        t.indexes.push(idx);
        d.items.backfill(t, idx);
        creating.add(idx.name);
      } else if (u.Delete) {
        const idx = t.indexes.find((i) => i.name === u.Delete!.IndexName && i.kind === 'GSI');
        if (!idx)
          throw new AwsError(
            'ResourceNotFoundException',
            `Requested resource not found: Index: ${u.Delete.IndexName} not found`,
            400,
          );
        d.items.dropIndex(t, idx);
        t.indexes = t.indexes.filter((i) => i !== idx);
      } else if (u.Update) {
        const idx = t.indexes.find((i) => i.name === u.Update!.IndexName && i.kind === 'GSI');
        if (!idx)
          throw new AwsError(
            'ResourceNotFoundException',
            `Requested resource not found: Index: ${u.Update.IndexName} not found`,
            400,
          );
        if (u.Update.ProvisionedThroughput) {
          if (t.billingMode === 'PAY_PER_REQUEST')
            throw invalid(
              `ProvisionedThroughput should not be specified for index: ${idx.name} when BillingMode is PAY_PER_REQUEST`,
            );
          idx.provisioned = u.Update.ProvisionedThroughput;
        }
        if (u.Update.OnDemandThroughput) idx.onDemand = u.Update.OnDemandThroughput;
      }
      status = 'UPDATING';
    }
    // Attribute definitions must be exactly the key attributes in use.
    const used = new Set(t.keySchema.map((k) => k.AttributeName));
    for (const i of t.indexes) for (const k of i.keySchema) used.add(k.AttributeName);
    t.attributeDefinitions = t.attributeDefinitions.filter((a) => used.has(a.AttributeName));

    if (input.StreamSpecification) {
      const s = input.StreamSpecification;
      if (s.StreamEnabled) {
        if (!s.StreamViewType)
          throw validation('StreamSpecification: StreamViewType is required when StreamEnabled is true');
        if (t.stream?.enabled) throw validation(`Table already has an enabled stream: TableName: ${t.name}`);
        t.stream = enableStream(d, t, s.StreamViewType, now);
      } else {
        if (!t.stream?.enabled) throw validation(`Table does not have a stream enabled: TableName: ${t.name}`);
        if (t.stream.arn) d.streams?.disableStream(t.stream.arn, now);
        t.stream = { ...t.stream, enabled: false };
      }
      status = 'UPDATING';
    }
    if (input.SSESpecification) {
      t.sse = input.SSESpecification.Enabled === false ? undefined : sseOf(input.SSESpecification, ctx);
      status = 'UPDATING';
    }
    if (input.DeletionProtectionEnabled !== undefined) t.deletionProtection = input.DeletionProtectionEnabled;
    if (input.TableClass) t.tableClass = input.TableClass;
    if (input.OnDemandThroughput) t.onDemand = input.OnDemandThroughput;
    d.catalog.put(t);
    return { TableDescription: describeTable(t, d.storage.kv, status, creating) };
  });
}

export function updateTimeToLive(
  d: Dynamo,
  input: { TableName: string; TimeToLiveSpecification: { Enabled: boolean; AttributeName: string } },
  ctx: RequestContext,
) {
  return d.tx(() => {
    const t = structuredClone(d.catalog.require(ctx, input.TableName));
    const spec = input.TimeToLiveSpecification;
    if (spec.Enabled && t.ttl?.enabled) throw validation('TimeToLive is already enabled');
    if (!spec.Enabled && !t.ttl?.enabled) throw validation('TimeToLive is already disabled');
    if (!spec.Enabled && t.ttl && t.ttl.attributeName !== spec.AttributeName) {
      throw validation(
        `TimeToLive attribute name ${spec.AttributeName} does not match the current attribute name ${t.ttl.attributeName}`,
      );
    }
    t.ttl = { attributeName: spec.AttributeName, enabled: spec.Enabled };
    d.catalog.put(t);
    d.items.rebuildTtl(t);
    return { TimeToLiveSpecification: spec };
  });
}

export function describeTimeToLive(d: Dynamo, input: { TableName: string }, ctx: RequestContext) {
  const t = d.catalog.require(ctx, input.TableName);
  if (!t.ttl) return { TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } };
  return {
    TimeToLiveDescription: {
      TimeToLiveStatus: t.ttl.enabled ? 'ENABLED' : 'DISABLED',
      AttributeName: t.ttl.attributeName,
    },
  };
}

function tableByArn(d: Dynamo, arn: string, ctx: RequestContext): TableMeta {
  if (!/^arn:aws[\w-]*:dynamodb:[\w-]+:\d{12}:table\/[a-zA-Z0-9_.-]+$/.test(arn)) {
    throw validation(`Invalid TableArn: Invalid ResourceArn provided as input ${arn}`);
  }
  const { accountId, region, name } = resolveTableName(ctx, arn);
  const t = d.catalog.get(accountId, region, name);
  if (!t)
    throw new AwsError('ResourceNotFoundException', `Requested resource not found: ResourcArn: ${arn} not found`, 400);
  return t;
}

export function tagResource(
  d: Dynamo,
  input: { ResourceArn: string; Tags: { Key: string; Value: string }[] },
  ctx: RequestContext,
) {
  d.tx(() => {
    const t = structuredClone(tableByArn(d, input.ResourceArn, ctx));
    Object.assign(t.tags, tagsFromInput(input.Tags));
    if (Object.keys(t.tags).length > 50)
      throw validation('One or more parameter values were invalid: The number of tags exceeds the limit of 50');
    d.catalog.put(t);
  });
  return {};
}

export function untagResource(d: Dynamo, input: { ResourceArn: string; TagKeys: string[] }, ctx: RequestContext) {
  d.tx(() => {
    const t = structuredClone(tableByArn(d, input.ResourceArn, ctx));
    for (const k of input.TagKeys) delete t.tags[k];
    d.catalog.put(t);
  });
  return {};
}

export function listTagsOfResource(d: Dynamo, input: { ResourceArn: string; NextToken?: string }, ctx: RequestContext) {
  const t = tableByArn(d, input.ResourceArn, ctx);
  const all = Object.entries(t.tags).map(([Key, Value]) => ({ Key, Value }));
  const start = input.NextToken ? Number(input.NextToken) : 0;
  const page = all.slice(start, start + 10);
  return { Tags: page, ...(start + 10 < all.length ? { NextToken: String(start + 10) } : {}) };
}

export function describeLimits() {
  return {
    AccountMaxReadCapacityUnits: 80000,
    AccountMaxWriteCapacityUnits: 80000,
    TableMaxReadCapacityUnits: 40000,
    TableMaxWriteCapacityUnits: 40000,
  };
}

export function describeEndpoints(_d: Dynamo, _input: unknown, ctx: RequestContext) {
  return { Endpoints: [{ Address: ctx.endpoint.replace(/^https?:\/\//, ''), CachePeriodInMinutes: 1440 }] };
}
