import { randomBytes } from 'node:crypto';
import { changed, fail, isNotFound, jsonString, type ResourceContext, type ResourceProvider, tagMap } from './types.ts';

type Props = Record<string, any>;

// ---- CloudWatch Logs --------------------------------------------------------------------------------

const logGroupArn = (ctx: ResourceContext, name: string) =>
  `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${name}:*`;

export const logGroup: ResourceProvider = {
  needs: ['logs'],
  createOnly: ['LogGroupName', 'LogGroupClass'],
  nameProperty: 'LogGroupName',
  unsupported: ['DataProtectionPolicy', 'FieldIndexPolicies', 'ResourcePolicyDocument'],
  async create(p, ctx) {
    const name = p.LogGroupName ?? ctx.physicalName({ maxLength: 512 });
    await ctx.call('logs', 'CreateLogGroup', {
      logGroupName: name,
      kmsKeyId: p.KmsKeyId,
      tags: tagMap(p.Tags),
      logGroupClass: p.LogGroupClass,
    });
    if (p.RetentionInDays !== undefined)
      await ctx.call('logs', 'PutRetentionPolicy', { logGroupName: name, retentionInDays: p.RetentionInDays });
    return { physicalId: name, attrs: { Arn: logGroupArn(ctx, name) } };
  },
  async update(p, prev, ctx) {
    const name = prev.physicalId;
    const diff = changed(prev.props, p);
    if (diff.has('RetentionInDays')) {
      if (p.RetentionInDays === undefined) await ctx.call('logs', 'DeleteRetentionPolicy', { logGroupName: name });
      else await ctx.call('logs', 'PutRetentionPolicy', { logGroupName: name, retentionInDays: p.RetentionInDays });
    }
    if (diff.has('Tags') && ctx.has('logs', 'TagResource')) {
      const n = tagMap(p.Tags);
      if (n) await ctx.call('logs', 'TagResource', { resourceArn: logGroupArn(ctx, name).slice(0, -2), tags: n });
    }
    if (diff.has('KmsKeyId')) fail('Updating KmsKeyId of AWS::Logs::LogGroup is not supported by Eddy');
    return { physicalId: name, attrs: prev.attrs };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('logs', 'DeleteLogGroup', { logGroupName: prev.physicalId });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

export const logStream: ResourceProvider = {
  needs: ['logs'],
  createOnly: ['LogGroupName', 'LogStreamName'],
  async create(p, ctx) {
    const name = p.LogStreamName ?? ctx.physicalName({ maxLength: 512 });
    await ctx.call('logs', 'CreateLogStream', { logGroupName: p.LogGroupName, logStreamName: name });
    return { physicalId: name };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('logs', 'DeleteLogStream', {
        logGroupName: prev.props.LogGroupName,
        logStreamName: prev.physicalId,
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

// ---- IAM (stored: Eddy does not enforce IAM yet) ----------------------------------------------------

const uniqueId = (prefix: string) => prefix + randomBytes(10).toString('hex').toUpperCase().slice(0, 17);

export const iamRole: ResourceProvider = {
  needs: [],
  createOnly: ['RoleName', 'Path'],
  nameProperty: 'RoleName',
  async create(p, ctx) {
    const name = p.RoleName ?? ctx.physicalName({ maxLength: 64 });
    const path = p.Path ?? '/';
    return {
      physicalId: name,
      attrs: { Arn: `arn:aws:iam::${ctx.accountId}:role${path}${name}`, RoleId: uniqueId('AROA') },
    };
  },
  async update(_p, prev) {
    return { physicalId: prev.physicalId, attrs: prev.attrs };
  },
  async delete() {},
};

export const iamPolicy: ResourceProvider = {
  needs: [],
  async create(_p, ctx) {
    return { physicalId: ctx.physicalName({ maxLength: 128 }), attrs: { Id: uniqueId('') } };
  },
  async update(_p, prev) {
    return { physicalId: prev.physicalId, attrs: prev.attrs };
  },
  async delete() {},
};

export const iamManagedPolicy: ResourceProvider = {
  needs: [],
  createOnly: ['ManagedPolicyName', 'Path'],
  nameProperty: 'ManagedPolicyName',
  async create(p, ctx) {
    const name = p.ManagedPolicyName ?? ctx.physicalName({ maxLength: 128 });
    const arn = `arn:aws:iam::${ctx.accountId}:policy${p.Path ?? '/'}${name}`;
    return {
      physicalId: arn,
      attrs: {
        PolicyArn: arn,
        PolicyId: uniqueId('ANPA'),
        DefaultVersionId: 'v1',
        AttachmentCount: 0,
        IsAttachable: true,
      },
    };
  },
  async update(_p, prev) {
    return { physicalId: prev.physicalId, attrs: prev.attrs };
  },
  async delete() {},
};

// ---- S3 ---------------------------------------------------------------------------------------------

const BUCKET_UNSUPPORTED = [
  'AccelerateConfiguration',
  'AnalyticsConfigurations',
  'CorsConfiguration',
  'IntelligentTieringConfigurations',
  'InventoryConfigurations',
  'LoggingConfiguration',
  'MetricsConfigurations',
  'ObjectLockConfiguration',
  'ReplicationConfiguration',
  'WebsiteConfiguration',
  'MetadataTableConfiguration',
];

function notificationConfig(n: Props | undefined): Props {
  const filter = (f: Props | undefined) =>
    f?.S3Key?.Rules
      ? { Key: { FilterRules: f.S3Key.Rules.map((r: Props) => ({ Name: r.Name, Value: r.Value })) } }
      : undefined;
  if (n?.EventBridgeConfiguration) fail('NotificationConfiguration.EventBridgeConfiguration is not supported by Eddy');
  return {
    LambdaFunctionConfigurations: (n?.LambdaConfigurations ?? []).map((c: Props) => ({
      LambdaFunctionArn: c.Function,
      Events: [c.Event],
      Filter: filter(c.Filter),
    })),
    QueueConfigurations: (n?.QueueConfigurations ?? []).map((c: Props) => ({
      QueueArn: c.Queue,
      Events: [c.Event],
      Filter: filter(c.Filter),
    })),
    TopicConfigurations: (n?.TopicConfigurations ?? []).map((c: Props) => ({
      TopicArn: c.Topic,
      Events: [c.Event],
      Filter: filter(c.Filter),
    })),
  };
}

const nonEmpty = <T>(a: T[]): T[] | undefined => (a.length ? a : undefined);

function lifecycle(l: Props): Props {
  return {
    Rules: (l.Rules ?? []).map((r: Props) => ({
      ID: r.Id,
      Status: r.Status,
      Filter: r.TagFilters?.length ? { And: { Prefix: r.Prefix, Tags: r.TagFilters } } : { Prefix: r.Prefix ?? '' },
      Expiration:
        r.ExpirationInDays !== undefined || r.ExpirationDate !== undefined || r.ExpiredObjectDeleteMarker !== undefined
          ? { Days: r.ExpirationInDays, Date: r.ExpirationDate, ExpiredObjectDeleteMarker: r.ExpiredObjectDeleteMarker }
          : undefined,
      AbortIncompleteMultipartUpload: r.AbortIncompleteMultipartUpload,
      Transitions: nonEmpty(
        [...(r.Transitions ?? []), ...(r.Transition ? [r.Transition] : [])].map((t: Props) => ({
          Days: t.TransitionInDays,
          Date: t.TransitionDate,
          StorageClass: t.StorageClass,
        })),
      ),
      NoncurrentVersionTransitions: nonEmpty(
        [
          ...(r.NoncurrentVersionTransitions ?? []),
          ...(r.NoncurrentVersionTransition ? [r.NoncurrentVersionTransition] : []),
        ].map((t: Props) => ({
          NoncurrentDays: t.TransitionInDays,
          StorageClass: t.StorageClass,
          NewerNoncurrentVersions: t.NewerNoncurrentVersions,
        })),
      ),
      NoncurrentVersionExpiration:
        r.NoncurrentVersionExpiration ??
        (r.NoncurrentVersionExpirationInDays !== undefined
          ? { NoncurrentDays: r.NoncurrentVersionExpirationInDays }
          : undefined),
    })),
  };
}

async function configureBucket(p: Props, prev: Props | undefined, name: string, ctx: ResourceContext) {
  for (const k of BUCKET_UNSUPPORTED)
    if (p[k] !== undefined) fail(`Property ${k} of AWS::S3::Bucket is not supported by Eddy`);
  const diff = changed(prev ?? {}, p);
  if (diff.has('VersioningConfiguration') && (p.VersioningConfiguration || prev))
    await ctx.call('s3', 'PutBucketVersioning', {
      Bucket: name,
      VersioningConfiguration: { Status: p.VersioningConfiguration?.Status ?? 'Suspended' },
    });
  if (diff.has('Tags')) {
    if (p.Tags?.length) await ctx.call('s3', 'PutBucketTagging', { Bucket: name, Tagging: { TagSet: p.Tags } });
    else if (prev) await ctx.call('s3', 'DeleteBucketTagging', { Bucket: name });
  }
  if (diff.has('LifecycleConfiguration')) {
    if (p.LifecycleConfiguration)
      await ctx.call('s3', 'PutBucketLifecycleConfiguration', {
        Bucket: name,
        LifecycleConfiguration: lifecycle(p.LifecycleConfiguration),
      });
    else if (prev) await ctx.call('s3', 'DeleteBucketLifecycle', { Bucket: name });
  }
  if (diff.has('NotificationConfiguration') && (p.NotificationConfiguration || prev))
    await ctx.call('s3', 'PutBucketNotificationConfiguration', {
      Bucket: name,
      NotificationConfiguration: notificationConfig(p.NotificationConfiguration),
    });
  if (diff.has('BucketEncryption')) {
    if (p.BucketEncryption)
      await ctx.call('s3', 'PutBucketEncryption', {
        Bucket: name,
        ServerSideEncryptionConfiguration: {
          Rules: (p.BucketEncryption.ServerSideEncryptionConfiguration ?? []).map((r: Props) => ({
            ApplyServerSideEncryptionByDefault: r.ServerSideEncryptionByDefault
              ? {
                  SSEAlgorithm: r.ServerSideEncryptionByDefault.SSEAlgorithm,
                  KMSMasterKeyID: r.ServerSideEncryptionByDefault.KMSMasterKeyID,
                }
              : undefined,
            BucketKeyEnabled: r.BucketKeyEnabled,
          })),
        },
      });
    else if (prev) await ctx.call('s3', 'DeleteBucketEncryption', { Bucket: name });
  }
  if (diff.has('PublicAccessBlockConfiguration')) {
    if (p.PublicAccessBlockConfiguration)
      await ctx.call('s3', 'PutPublicAccessBlock', {
        Bucket: name,
        PublicAccessBlockConfiguration: p.PublicAccessBlockConfiguration,
      });
    else if (prev) await ctx.call('s3', 'DeletePublicAccessBlock', { Bucket: name });
  }
  if (diff.has('OwnershipControls') && p.OwnershipControls && !ctx.has('s3', 'PutBucketOwnershipControls'))
    fail('Property OwnershipControls of AWS::S3::Bucket is not supported by Eddy');
}

const bucketAttrs = (name: string, region: string) => ({
  Arn: `arn:aws:s3:::${name}`,
  DomainName: `${name}.s3.amazonaws.com`,
  RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
  DualStackDomainName: `${name}.s3.dualstack.${region}.amazonaws.com`,
  WebsiteURL: `http://${name}.s3-website-${region}.amazonaws.com`,
});

export const s3Bucket: ResourceProvider = {
  needs: ['s3'],
  createOnly: ['BucketName', 'ObjectLockEnabled'],
  nameProperty: 'BucketName',
  async create(p, ctx) {
    const name = p.BucketName ?? ctx.physicalName({ maxLength: 63, lower: true });
    await ctx.call('s3', 'CreateBucket', {
      Bucket: name,
      CreateBucketConfiguration: ctx.region === 'us-east-1' ? undefined : { LocationConstraint: ctx.region },
    });
    try {
      await configureBucket(p, undefined, name, ctx);
    } catch (e) {
      await ctx.call('s3', 'DeleteBucket', { Bucket: name }).catch(() => {});
      throw e;
    }
    return { physicalId: name, attrs: bucketAttrs(name, ctx.region) };
  },
  async update(p, prev, ctx) {
    await configureBucket(p, prev.props, prev.physicalId, ctx);
    return { physicalId: prev.physicalId, attrs: prev.attrs };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('s3', 'DeleteBucket', { Bucket: prev.physicalId });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

export const s3BucketPolicy: ResourceProvider = {
  needs: ['s3'],
  createOnly: ['Bucket'],
  async create(p, ctx) {
    await ctx.call('s3', 'PutBucketPolicy', { Bucket: p.Bucket, Policy: jsonString(p.PolicyDocument) });
    return { physicalId: p.Bucket };
  },
  async update(p, prev, ctx) {
    await ctx.call('s3', 'PutBucketPolicy', { Bucket: p.Bucket, Policy: jsonString(p.PolicyDocument) });
    return { physicalId: prev.physicalId };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('s3', 'DeleteBucketPolicy', { Bucket: prev.props.Bucket });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

/** Delete every object (and version) in a bucket: what the CDK's auto-delete-objects handler does. */
export async function emptyBucket(ctx: ResourceContext, bucket: string): Promise<void> {
  for (let round = 0; round < 1000; round++) {
    let listed: any;
    try {
      listed = await ctx.call('s3', 'ListObjectVersions', { Bucket: bucket });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    const objects = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v: Props) => ({
      Key: v.Key,
      VersionId: v.VersionId === 'null' ? undefined : v.VersionId,
    }));
    if (!objects.length) return;
    for (const o of objects)
      await ctx.call('s3', 'DeleteObject', { Bucket: bucket, Key: o.Key, VersionId: o.VersionId });
  }
}

// ---- No-ops and CDK internals ---------------------------------------------------------------------

export const cdkMetadata: ResourceProvider = {
  needs: [],
  async create(_p, ctx) {
    return { physicalId: `${ctx.stackName}-${ctx.logicalId}-${randomBytes(6).toString('hex')}` };
  },
  async update(_p, prev) {
    return { physicalId: prev.physicalId };
  },
  async delete() {},
};

export const waitConditionHandle: ResourceProvider = {
  needs: [],
  async create(_p, ctx) {
    return { physicalId: `${ctx.endpoint}/_eddy/cfn-wait/${randomBytes(8).toString('hex')}` };
  },
  async delete() {},
};

// ---- CloudWatch -----------------------------------------------------------------------------------

const ALARM_PROPS = [
  'AlarmDescription',
  'ActionsEnabled',
  'OKActions',
  'AlarmActions',
  'InsufficientDataActions',
  'MetricName',
  'Namespace',
  'Statistic',
  'ExtendedStatistic',
  'Dimensions',
  'Period',
  'Unit',
  'EvaluationPeriods',
  'DatapointsToAlarm',
  'Threshold',
  'ComparisonOperator',
  'TreatMissingData',
  'EvaluateLowSampleCountPercentile',
  'Metrics',
  'ThresholdMetricId',
];

function putAlarm(p: Props, name: string, ctx: ResourceContext, withTags: boolean) {
  const input: Record<string, unknown> = { AlarmName: name };
  for (const k of ALARM_PROPS) if (p[k] !== undefined) input[k] = p[k];
  if (withTags && p.Tags?.length) input.Tags = p.Tags;
  return ctx.call('cloudwatch', 'PutMetricAlarm', input);
}

const alarmArn = (ctx: ResourceContext, name: string) =>
  `arn:aws:cloudwatch:${ctx.region}:${ctx.accountId}:alarm:${name}`;

export const cloudwatchAlarm: ResourceProvider = {
  needs: ['cloudwatch:PutMetricAlarm'],
  createOnly: ['AlarmName'],
  nameProperty: 'AlarmName',
  async create(p, ctx) {
    const name = p.AlarmName ?? ctx.physicalName({ maxLength: 255 });
    await putAlarm(p, name, ctx, true);
    return { physicalId: name, attrs: { Arn: alarmArn(ctx, name) } };
  },
  async update(p, prev, ctx) {
    await putAlarm(p, prev.physicalId, ctx, false);
    if (!deepEqualTags(prev.props.Tags, p.Tags) && p.Tags?.length)
      await ctx.call('cloudwatch', 'TagResource', { ResourceARN: alarmArn(ctx, prev.physicalId), Tags: p.Tags });
    return { physicalId: prev.physicalId, attrs: prev.attrs };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('cloudwatch', 'DeleteAlarms', { AlarmNames: [prev.physicalId] });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

const deepEqualTags = (a: unknown, b: unknown) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

export const cloudwatchDashboard: ResourceProvider = {
  needs: ['cloudwatch:PutDashboard'],
  createOnly: ['DashboardName'],
  nameProperty: 'DashboardName',
  async create(p, ctx) {
    const name = p.DashboardName ?? ctx.physicalName({ maxLength: 255 });
    await ctx.call('cloudwatch', 'PutDashboard', { DashboardName: name, DashboardBody: jsonString(p.DashboardBody) });
    return { physicalId: name };
  },
  async update(p, prev, ctx) {
    await ctx.call('cloudwatch', 'PutDashboard', {
      DashboardName: prev.physicalId,
      DashboardBody: jsonString(p.DashboardBody),
    });
    return { physicalId: prev.physicalId };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('cloudwatch', 'DeleteDashboards', { DashboardNames: [prev.physicalId] });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

export const cloudwatchCompositeAlarm: ResourceProvider = {
  needs: ['cloudwatch:PutCompositeAlarm'],
  createOnly: ['AlarmName'],
  nameProperty: 'AlarmName',
  async create(p, ctx) {
    const name = p.AlarmName ?? ctx.physicalName({ maxLength: 255 });
    await ctx.call('cloudwatch', 'PutCompositeAlarm', { ...p, AlarmName: name });
    return { physicalId: name, attrs: { Arn: alarmArn(ctx, name) } };
  },
  async update(p, prev, ctx) {
    await ctx.call('cloudwatch', 'PutCompositeAlarm', { ...p, AlarmName: prev.physicalId, Tags: undefined });
    return { physicalId: prev.physicalId, attrs: prev.attrs };
  },
  delete: (prev, ctx) => cloudwatchAlarm.delete(prev, ctx),
};
