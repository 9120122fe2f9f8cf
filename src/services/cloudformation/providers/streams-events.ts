import { changed, deepEqual, fail, isNotFound, jsonString, type ResourceProvider } from './types.ts';

type Props = Record<string, any>;

// ---- Kinesis (refused by name until Eddy serves Kinesis) -------------------------------------------

export const kinesisStream: ResourceProvider = {
  needs: ['kinesis:CreateStream'],
  createOnly: ['Name'],
  nameProperty: 'Name',
  async create(p, ctx) {
    const name = p.Name ?? ctx.physicalName({ maxLength: 128 });
    const onDemand = p.StreamModeDetails?.StreamMode === 'ON_DEMAND';
    await ctx.call('kinesis', 'CreateStream', {
      StreamName: name,
      ShardCount: onDemand ? undefined : (p.ShardCount ?? 1),
      StreamModeDetails: p.StreamModeDetails,
      Tags: p.Tags?.length ? Object.fromEntries(p.Tags.map((t: Props) => [t.Key, t.Value])) : undefined,
    });
    if (p.RetentionPeriodHours !== undefined && Number(p.RetentionPeriodHours) > 24)
      await ctx.call('kinesis', 'IncreaseStreamRetentionPeriod', {
        StreamName: name,
        RetentionPeriodHours: p.RetentionPeriodHours,
      });
    if (p.StreamEncryption)
      await ctx.call('kinesis', 'StartStreamEncryption', {
        StreamName: name,
        EncryptionType: p.StreamEncryption.EncryptionType,
        KeyId: p.StreamEncryption.KeyId,
      });
    const arn = `arn:aws:kinesis:${ctx.region}:${ctx.accountId}:stream/${name}`;
    return { physicalId: name, attrs: { Arn: arn } };
  },
  async update(p, prev, ctx) {
    const name = prev.physicalId;
    const diff = changed(prev.props, p);
    if (diff.has('RetentionPeriodHours')) {
      const from = Number(prev.props.RetentionPeriodHours ?? 24);
      const to = Number(p.RetentionPeriodHours ?? 24);
      if (to > from)
        await ctx.call('kinesis', 'IncreaseStreamRetentionPeriod', { StreamName: name, RetentionPeriodHours: to });
      if (to < from)
        await ctx.call('kinesis', 'DecreaseStreamRetentionPeriod', { StreamName: name, RetentionPeriodHours: to });
    }
    if (diff.has('ShardCount') && p.StreamModeDetails?.StreamMode !== 'ON_DEMAND')
      await ctx.call('kinesis', 'UpdateShardCount', {
        StreamName: name,
        TargetShardCount: p.ShardCount ?? 1,
        ScalingType: 'UNIFORM_SCALING',
      });
    if (diff.has('StreamModeDetails'))
      await ctx.call('kinesis', 'UpdateStreamMode', {
        StreamARN: prev.attrs?.Arn,
        StreamModeDetails: p.StreamModeDetails ?? { StreamMode: 'PROVISIONED' },
      });
    if (diff.has('StreamEncryption'))
      fail('Updating StreamEncryption of AWS::Kinesis::Stream is not supported by Eddy');
    if (diff.has('Tags') && p.Tags?.length)
      await ctx.call('kinesis', 'AddTagsToStream', {
        StreamName: name,
        Tags: Object.fromEntries(p.Tags.map((t: Props) => [t.Key, t.Value])),
      });
    return { physicalId: name, attrs: prev.attrs };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('kinesis', 'DeleteStream', { StreamName: prev.physicalId, EnforceConsumerDeletion: true });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

// ---- EventBridge (refused by name until Eddy serves EventBridge) ------------------------------------

export const eventBus: ResourceProvider = {
  needs: ['events:CreateEventBus'],
  createOnly: ['Name', 'EventSourceName'],
  nameProperty: 'Name',
  unsupported: ['Policy'],
  async create(p, ctx) {
    const out = await ctx.call('events', 'CreateEventBus', {
      Name: p.Name,
      EventSourceName: p.EventSourceName,
      Description: p.Description,
      KmsKeyIdentifier: p.KmsKeyIdentifier,
      DeadLetterConfig: p.DeadLetterConfig,
      Tags: p.Tags?.length ? p.Tags : undefined,
    });
    return { physicalId: p.Name, attrs: { Arn: out.EventBusArn, Name: p.Name } };
  },
  async update(p, prev, ctx) {
    if (!ctx.has('events', 'UpdateEventBus')) fail('Updating AWS::Events::EventBus is not supported by Eddy');
    await ctx.call('events', 'UpdateEventBus', { Name: prev.physicalId, Description: p.Description });
    return { physicalId: prev.physicalId, attrs: prev.attrs };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('events', 'DeleteEventBus', { Name: prev.physicalId });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

function targets(p: Props): Props[] {
  return (p.Targets ?? []).map((t: Props) => ({
    ...t,
    Input: t.Input === undefined ? undefined : jsonString(t.Input),
  }));
}

export const eventRule: ResourceProvider = {
  needs: ['events:PutRule'],
  createOnly: ['Name', 'EventBusName'],
  nameProperty: 'Name',
  async create(p, ctx) {
    const name = p.Name ?? ctx.physicalName({ maxLength: 64 });
    const bus = p.EventBusName;
    const out = await ctx.call('events', 'PutRule', {
      Name: name,
      EventBusName: bus,
      ScheduleExpression: p.ScheduleExpression,
      EventPattern: jsonString(p.EventPattern),
      State: p.State ?? 'ENABLED',
      Description: p.Description,
      RoleArn: p.RoleArn,
    });
    const t = targets(p);
    if (t.length) await ctx.call('events', 'PutTargets', { Rule: name, EventBusName: bus, Targets: t });
    const id = bus && bus !== 'default' ? `${bus.split('/').pop()}|${name}` : name;
    return { physicalId: id, attrs: { Arn: out.RuleArn, name, bus } };
  },
  async update(p, prev, ctx) {
    const name = prev.attrs?.name as string;
    const bus = prev.attrs?.bus as string | undefined;
    await ctx.call('events', 'PutRule', {
      Name: name,
      EventBusName: bus,
      ScheduleExpression: p.ScheduleExpression,
      EventPattern: jsonString(p.EventPattern),
      State: p.State ?? 'ENABLED',
      Description: p.Description,
      RoleArn: p.RoleArn,
    });
    if (!deepEqual(prev.props.Targets, p.Targets)) {
      const keep = new Set(targets(p).map((t) => t.Id));
      const gone = targets(prev.props)
        .map((t) => t.Id)
        .filter((i) => !keep.has(i));
      if (gone.length) await ctx.call('events', 'RemoveTargets', { Rule: name, EventBusName: bus, Ids: gone });
      if (keep.size) await ctx.call('events', 'PutTargets', { Rule: name, EventBusName: bus, Targets: targets(p) });
    }
    return { physicalId: prev.physicalId, attrs: prev.attrs };
  },
  async delete(prev, ctx) {
    const name = prev.attrs?.name as string;
    const bus = prev.attrs?.bus as string | undefined;
    try {
      const ids = targets(prev.props).map((t) => t.Id);
      if (ids.length) await ctx.call('events', 'RemoveTargets', { Rule: name, EventBusName: bus, Ids: ids });
      await ctx.call('events', 'DeleteRule', { Name: name, EventBusName: bus });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

export const eventArchive: ResourceProvider = {
  needs: ['events:CreateArchive'],
  createOnly: ['ArchiveName', 'SourceArn'],
  nameProperty: 'ArchiveName',
  async create(p, ctx) {
    const name = p.ArchiveName ?? ctx.physicalName({ maxLength: 48 });
    const out = await ctx.call('events', 'CreateArchive', {
      ArchiveName: name,
      EventSourceArn: p.SourceArn,
      Description: p.Description,
      EventPattern: jsonString(p.EventPattern),
      RetentionDays: p.RetentionDays,
    });
    return { physicalId: name, attrs: { Arn: out.ArchiveArn } };
  },
  async update(p, prev, ctx) {
    await ctx.call('events', 'UpdateArchive', {
      ArchiveName: prev.physicalId,
      Description: p.Description,
      EventPattern: jsonString(p.EventPattern),
      RetentionDays: p.RetentionDays,
    });
    return { physicalId: prev.physicalId, attrs: prev.attrs };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('events', 'DeleteArchive', { ArchiveName: prev.physicalId });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};
