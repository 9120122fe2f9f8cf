import { SCHEMAS } from '../schemas.generated.ts';
import { dynamodbGlobalTable, dynamodbTable } from './dynamodb.ts';
import {
  lambdaEventInvokeConfig,
  lambdaEventSourceMapping,
  lambdaFunction,
  lambdaPermission,
  lambdaVersionOrAlias,
} from './lambda.ts';
import { snsSubscription, snsTopic, snsTopicPolicy, sqsQueue, sqsQueuePolicy } from './messaging.ts';
import {
  cdkMetadata,
  cloudwatchAlarm,
  cloudwatchCompositeAlarm,
  cloudwatchDashboard,
  emptyBucket,
  iamManagedPolicy,
  iamPolicy,
  iamRole,
  logGroup,
  logStream,
  s3Bucket,
  s3BucketPolicy,
  waitConditionHandle,
} from './other.ts';
import { eventArchive, eventBus, eventRule, kinesisStream } from './streams-events.ts';
import { fail, isNotFound, type ResourceContext, type ResourceProvider } from './types.ts';

export type { ResourceContext, ResourceProvider } from './types.ts';

/** Properties whose change replaces a resource: the provider's list and the registry schema's createOnlyProperties. */
export function createOnlyOf(type: string, provider: ResourceProvider | undefined): Set<string> {
  return new Set([...(provider?.createOnly ?? []), ...(SCHEMAS[type]?.createOnly ?? [])]);
}

/** Resource types Eddy deploys, each mapped onto Eddy's services. */
export const PROVIDERS: Record<string, ResourceProvider> = {
  'AWS::DynamoDB::Table': dynamodbTable,
  'AWS::DynamoDB::GlobalTable': dynamodbGlobalTable,
  'AWS::SQS::Queue': sqsQueue,
  'AWS::SQS::QueuePolicy': sqsQueuePolicy,
  'AWS::SNS::Topic': snsTopic,
  'AWS::SNS::Subscription': snsSubscription,
  'AWS::SNS::TopicPolicy': snsTopicPolicy,
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::Lambda::Permission': lambdaPermission,
  'AWS::Lambda::EventSourceMapping': lambdaEventSourceMapping,
  'AWS::Lambda::EventInvokeConfig': lambdaEventInvokeConfig,
  'AWS::Lambda::Version': lambdaVersionOrAlias.version,
  'AWS::Lambda::Alias': lambdaVersionOrAlias.alias,
  'AWS::Logs::LogGroup': logGroup,
  'AWS::Logs::LogStream': logStream,
  'AWS::IAM::Role': iamRole,
  'AWS::IAM::Policy': iamPolicy,
  'AWS::IAM::ManagedPolicy': iamManagedPolicy,
  'AWS::S3::Bucket': s3Bucket,
  'AWS::S3::BucketPolicy': s3BucketPolicy,
  'AWS::CloudWatch::Alarm': cloudwatchAlarm,
  'AWS::CloudWatch::CompositeAlarm': cloudwatchCompositeAlarm,
  'AWS::CloudWatch::Dashboard': cloudwatchDashboard,
  'AWS::Kinesis::Stream': kinesisStream,
  'AWS::Events::EventBus': eventBus,
  'AWS::Events::Rule': eventRule,
  'AWS::Events::Archive': eventArchive,
  'AWS::CDK::Metadata': cdkMetadata,
  'AWS::CloudFormation::WaitConditionHandle': waitConditionHandle,
};

/** IAM types that need CAPABILITY_IAM (CAPABILITY_NAMED_IAM with a custom name). */
export const IAM_TYPES: Record<string, string | undefined> = {
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::Policy': undefined,
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::Group': 'GroupName',
  'AWS::IAM::AccessKey': undefined,
  'AWS::IAM::InstanceProfile': 'InstanceProfileName',
  'AWS::IAM::UserToGroupAddition': undefined,
};

export const isCustomType = (type: string) =>
  type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';

/**
 * The provider for a type, or undefined when Eddy does not support it (the stack then fails with
 * `Resource type X is not supported by Eddy`). `served` tells which services (and operations) exist.
 */
export function providerFor(
  type: string,
  served: (service: string, operation?: string) => boolean,
): ResourceProvider | undefined {
  if (type === 'Custom::LogRetention') return served('logs') ? logRetention : undefined;
  if (type === 'Custom::S3AutoDeleteObjects') return served('s3') ? s3AutoDelete : undefined;
  if (type === 'Custom::S3BucketNotifications') return served('s3') ? s3Notifications : undefined;
  if (type === 'Custom::AWS') return awsCustomResource;
  if (isCustomType(type)) return customResource;
  const p = PROVIDERS[type];
  if (!p) return undefined;
  for (const need of p.needs) {
    const [service, op] = need.split(':');
    if (!served(service, op)) return undefined;
  }
  return p;
}

/** Custom::* and AWS::CloudFormation::CustomResource backed by a Lambda function. */
const customResource: ResourceProvider = {
  needs: [],
  createOnly: [],
  async create(p, ctx) {
    const res = await ctx.customResource({
      RequestType: 'Create',
      ServiceToken: p.ServiceToken,
      ResourceType: ctx.type,
      ResourceProperties: p,
    });
    return { physicalId: res.PhysicalResourceId ?? `${ctx.stackName}-${ctx.logicalId}`, attrs: res.Data ?? {} };
  },
  async update(p, prev, ctx) {
    if (p.ServiceToken !== prev.props.ServiceToken) fail('Modifying service token is not allowed.');
    const res = await ctx.customResource({
      RequestType: 'Update',
      ServiceToken: p.ServiceToken,
      ResourceType: ctx.type,
      PhysicalResourceId: prev.physicalId,
      ResourceProperties: p,
      OldResourceProperties: prev.props,
    });
    return { physicalId: res.PhysicalResourceId ?? prev.physicalId, attrs: res.Data ?? {} };
  },
  async delete(prev, ctx) {
    await ctx.customResource({
      RequestType: 'Delete',
      ServiceToken: prev.props.ServiceToken,
      ResourceType: ctx.type,
      PhysicalResourceId: prev.physicalId,
      ResourceProperties: prev.props,
    });
  },
};

/** The CDK's log-retention custom resource, done natively (its handler speaks https to port 443). */
const logRetention: ResourceProvider = {
  needs: ['logs'],
  async create(p, ctx) {
    await applyRetention(p, ctx);
    return { physicalId: p.LogGroupName, attrs: { LogGroupName: p.LogGroupName } };
  },
  async update(p, prev, ctx) {
    await applyRetention(p, ctx);
    return { physicalId: p.LogGroupName ?? prev.physicalId, attrs: { LogGroupName: p.LogGroupName } };
  },
  async delete(prev, ctx) {
    if (prev.props.RemovalPolicy !== 'destroy') return;
    try {
      await ctx.call('logs', 'DeleteLogGroup', { logGroupName: prev.props.LogGroupName });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

async function applyRetention(p: Record<string, any>, ctx: ResourceContext) {
  if (p.LogGroupRegion && p.LogGroupRegion !== ctx.region)
    fail('Log retention in another region is not supported by Eddy');
  try {
    await ctx.call('logs', 'CreateLogGroup', { logGroupName: p.LogGroupName });
  } catch (e) {
    if (!/AlreadyExists/.test((e as { code?: string }).code ?? '')) throw e;
  }
  const days = Number(p.RetentionInDays);
  if (!p.RetentionInDays || !Number.isFinite(days))
    await ctx.call('logs', 'DeleteRetentionPolicy', { logGroupName: p.LogGroupName });
  else await ctx.call('logs', 'PutRetentionPolicy', { logGroupName: p.LogGroupName, retentionInDays: days });
}

/** The CDK's bucket auto-delete custom resource, done natively: the bucket is emptied when it goes. */
const s3AutoDelete: ResourceProvider = {
  needs: ['s3'],
  async create(p) {
    return { physicalId: `auto-delete-objects-${p.BucketName}` };
  },
  async update(_p, prev) {
    return { physicalId: prev.physicalId };
  },
  async delete(prev, ctx) {
    await emptyBucket(ctx, prev.props.BucketName);
  },
};

/** The CDK's S3 bucket notifications custom resource, done natively (its handler is Python). */
const s3Notifications: ResourceProvider = {
  needs: ['s3'],
  async create(p, ctx) {
    await ctx.call('s3', 'PutBucketNotificationConfiguration', {
      Bucket: p.BucketName,
      NotificationConfiguration: p.NotificationConfiguration ?? {},
      SkipDestinationValidation: p.SkipDestinationValidation === true || p.SkipDestinationValidation === 'true',
    });
    return { physicalId: `${p.BucketName}-notifications` };
  },
  async update(p, prev, ctx) {
    await this.create(p, ctx);
    return { physicalId: prev.physicalId };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('s3', 'PutBucketNotificationConfiguration', {
        Bucket: prev.props.BucketName,
        NotificationConfiguration: {},
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

/** SDK service names (v2 class names and v3 package names) to Eddy's service keys. */
const SDK_SERVICES: Record<string, string> = {
  dynamodb: 'dynamodb',
  dynamodbstreams: 'dynamodbstreams',
  sqs: 'sqs',
  sns: 'sns',
  lambda: 'lambda',
  s3: 's3',
  cloudwatchlogs: 'logs',
  logs: 'logs',
  cloudwatch: 'cloudwatch',
  kinesis: 'kinesis',
  eventbridge: 'events',
  cloudwatchevents: 'events',
  events: 'events',
  sts: 'sts',
};

interface SdkCall {
  service: string;
  action: string;
  parameters?: Record<string, unknown>;
  physicalResourceId?: { id?: string; responsePath?: string };
  outputPaths?: string[];
  outputPath?: string;
  ignoreErrorCodesMatching?: string;
  region?: string;
  assumedRoleArn?: string;
}

/** CDK encodes booleans in AwsCustomResource parameters as strings; the physical id as a placeholder. */
function decodeParameters(v: unknown, physicalId: string | undefined): unknown {
  if (v === 'TRUE:BOOLEAN') return true;
  if (v === 'FALSE:BOOLEAN') return false;
  if (v === 'PHYSICAL:RESOURCEID:') return physicalId;
  if (Array.isArray(v)) return v.map((x) => decodeParameters(x, physicalId));
  if (v && typeof v === 'object' && !Buffer.isBuffer(v))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decodeParameters(x, physicalId)]));
  return v;
}

function flatten(v: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (v === undefined || v === null) return out;
  if (Buffer.isBuffer(v)) out[prefix] = v.toString('utf8');
  else if (v instanceof Date) out[prefix] = v.toISOString();
  else if (typeof v === 'object')
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  else out[prefix] = String(v);
  return out;
}

async function runSdkCall(raw: unknown, ctx: ResourceContext, physicalId: string | undefined) {
  const call = (typeof raw === 'string' ? JSON.parse(raw) : raw) as SdkCall;
  if (call.assumedRoleArn) fail('AwsCustomResource assumedRoleArn is not supported by Eddy');
  if (call.region && call.region !== ctx.region)
    fail('AwsCustomResource calls to another region are not supported by Eddy');
  const key = call.service
    .replace(/^@aws-sdk\/client-/, '')
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase();
  const service = SDK_SERVICES[key];
  const action = call.action.replace(/Command$/, '').replace(/^./, (c) => c.toUpperCase());
  if (!service || !ctx.has(service, action))
    fail(`AwsCustomResource call ${call.service}.${call.action} is not supported by Eddy`);
  let response: unknown = {};
  try {
    response = await ctx.call(
      service!,
      action,
      (decodeParameters(call.parameters ?? {}, physicalId) ?? {}) as Record<string, unknown>,
    );
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (!call.ignoreErrorCodesMatching || !new RegExp(call.ignoreErrorCodesMatching).test(code)) throw e;
  }
  const flat = flatten(response);
  const paths = call.outputPaths ?? (call.outputPath ? [call.outputPath] : undefined);
  const data = paths
    ? Object.fromEntries(Object.entries(flat).filter(([k]) => paths.some((p) => k.startsWith(p))))
    : flat;
  let id = physicalId;
  if (call.physicalResourceId?.id) id = call.physicalResourceId.id;
  else if (call.physicalResourceId?.responsePath) id = flat[call.physicalResourceId.responsePath];
  return { id, data };
}

/** The CDK's AwsCustomResource (`Custom::AWS`), done natively: the SDK call runs through Eddy's services. */
const awsCustomResource: ResourceProvider = {
  needs: [],
  async create(p, ctx) {
    const call = p.Create ?? p.Update;
    if (!call) return { physicalId: `${ctx.stackName}-${ctx.logicalId}`, attrs: {} };
    const { id, data } = await runSdkCall(call, ctx, undefined);
    return { physicalId: id ?? `${ctx.stackName}-${ctx.logicalId}`, attrs: data };
  },
  async update(p, prev, ctx) {
    if (!p.Update) return { physicalId: prev.physicalId, attrs: prev.attrs };
    const { id, data } = await runSdkCall(p.Update, ctx, prev.physicalId);
    return { physicalId: id ?? prev.physicalId, attrs: data };
  },
  async delete(prev, ctx) {
    if (prev.props.Delete) await runSdkCall(prev.props.Delete, ctx, prev.physicalId);
  },
};
