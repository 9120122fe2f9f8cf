import {
  changed,
  deepEqual,
  fail,
  isNotFound,
  jsonString,
  type ResourceContext,
  type ResourceProvider,
  tagMap,
} from './types.ts';

type Props = Record<string, any>;

// ---- SQS ------------------------------------------------------------------------------------------

const QUEUE_ATTRS = [
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'DelaySeconds',
  'FifoQueue',
  'FifoThroughputLimit',
  'KmsDataKeyReusePeriodSeconds',
  'KmsMasterKeyId',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'RedriveAllowPolicy',
  'RedrivePolicy',
  'SqsManagedSseEnabled',
  'VisibilityTimeout',
];

/** What a removed property goes back to (AWS resets attributes to their defaults). */
const QUEUE_DEFAULTS: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '262144',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  RedrivePolicy: '',
  RedriveAllowPolicy: '',
};

function queueAttributes(p: Props): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of QUEUE_ATTRS) {
    const v = p[k];
    if (v === undefined) continue;
    out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

async function queueArn(ctx: ResourceContext, url: string): Promise<string> {
  const out = await ctx.call('sqs', 'GetQueueAttributes', { QueueUrl: url, AttributeNames: ['QueueArn'] });
  return out.Attributes.QueueArn;
}

export const sqsQueue: ResourceProvider = {
  needs: ['sqs'],
  createOnly: ['QueueName', 'FifoQueue'],
  nameProperty: 'QueueName',
  async create(p, ctx) {
    const fifo = p.FifoQueue === true || p.FifoQueue === 'true';
    const name =
      p.QueueName ??
      (fifo ? ctx.physicalName({ maxLength: 80, suffix: '.fifo' }) : ctx.physicalName({ maxLength: 80 }));
    const attrs = queueAttributes(p);
    if (!fifo) delete attrs.FifoQueue;
    const out = await ctx.call('sqs', 'CreateQueue', { QueueName: name, Attributes: attrs, tags: tagMap(p.Tags) });
    const url: string = out.QueueUrl;
    return { physicalId: url, attrs: { Arn: await queueArn(ctx, url), QueueName: name, QueueUrl: url } };
  },
  async update(p, prev, ctx) {
    const url = prev.physicalId;
    const before = queueAttributes(prev.props);
    const after = queueAttributes(p);
    const set: Record<string, string> = {};
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (before[k] === after[k]) continue;
      const v = after[k] ?? QUEUE_DEFAULTS[k];
      if (v === undefined) fail(`Removing ${k} from AWS::SQS::Queue is not supported by Eddy`);
      set[k] = v;
    }
    if (Object.keys(set).length) await ctx.call('sqs', 'SetQueueAttributes', { QueueUrl: url, Attributes: set });
    if (!deepEqual(prev.props.Tags, p.Tags)) {
      const o = tagMap(prev.props.Tags) ?? {};
      const n = tagMap(p.Tags) ?? {};
      const removed = Object.keys(o).filter((k) => !(k in n));
      if (removed.length) await ctx.call('sqs', 'UntagQueue', { QueueUrl: url, TagKeys: removed });
      if (Object.keys(n).length) await ctx.call('sqs', 'TagQueue', { QueueUrl: url, Tags: n });
    }
    return { physicalId: url, attrs: prev.attrs };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('sqs', 'DeleteQueue', { QueueUrl: prev.physicalId });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

export const sqsQueuePolicy: ResourceProvider = {
  needs: ['sqs'],
  async create(p, ctx) {
    for (const url of p.Queues ?? [])
      await ctx.call('sqs', 'SetQueueAttributes', {
        QueueUrl: url,
        Attributes: { Policy: jsonString(p.PolicyDocument)! },
      });
    return { physicalId: ctx.physicalName() };
  },
  async update(p, prev, ctx) {
    for (const url of prev.props.Queues ?? [])
      if (!(p.Queues ?? []).includes(url))
        await ctx.call('sqs', 'SetQueueAttributes', { QueueUrl: url, Attributes: { Policy: '' } }).catch(() => {});
    await this.create(p, ctx);
    return { physicalId: prev.physicalId };
  },
  async delete(prev, ctx) {
    for (const url of prev.props.Queues ?? []) {
      try {
        await ctx.call('sqs', 'SetQueueAttributes', { QueueUrl: url, Attributes: { Policy: '' } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  },
};

// ---- SNS ------------------------------------------------------------------------------------------

const TOPIC_ATTRS = ['DisplayName', 'KmsMasterKeyId', 'ContentBasedDeduplication', 'SignatureVersion', 'TracingConfig'];
const TOPIC_JSON_ATTRS = ['DeliveryPolicy', 'ArchivePolicy', 'DataProtectionPolicy', 'FifoThroughputScope'];

function topicAttributes(p: Props): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...TOPIC_ATTRS, ...TOPIC_JSON_ATTRS]) {
    if (p[k] === undefined) continue;
    out[k] = typeof p[k] === 'object' ? JSON.stringify(p[k]) : String(p[k]);
  }
  return out;
}

async function subscribeAll(ctx: ResourceContext, topicArn: string, subs: Props[] | undefined) {
  const arns: Record<string, string> = {};
  for (const s of subs ?? []) {
    const out = await ctx.call('sns', 'Subscribe', {
      TopicArn: topicArn,
      Protocol: s.Protocol,
      Endpoint: s.Endpoint,
      ReturnSubscriptionArn: true,
    });
    arns[`${s.Protocol}|${s.Endpoint}`] = out.SubscriptionArn;
  }
  return arns;
}

export const snsTopic: ResourceProvider = {
  needs: ['sns'],
  createOnly: ['TopicName', 'FifoTopic'],
  nameProperty: 'TopicName',
  unsupported: ['LoggingConfig'],
  async create(p, ctx) {
    const fifo = p.FifoTopic === true || p.FifoTopic === 'true';
    const name =
      p.TopicName ??
      (fifo ? ctx.physicalName({ maxLength: 256, suffix: '.fifo' }) : ctx.physicalName({ maxLength: 256 }));
    const attrs = topicAttributes(p);
    if (fifo) attrs.FifoTopic = 'true';
    const out = await ctx.call('sns', 'CreateTopic', {
      Name: name,
      Attributes: Object.keys(attrs).length ? attrs : undefined,
      Tags: Array.isArray(p.Tags) && p.Tags.length ? p.Tags : undefined,
    });
    const arn: string = out.TopicArn;
    const subscriptions = await subscribeAll(ctx, arn, p.Subscription);
    return { physicalId: arn, attrs: { TopicArn: arn, TopicName: name, subscriptions } };
  },
  async update(p, prev, ctx) {
    const arn = prev.physicalId;
    const before = topicAttributes(prev.props);
    const after = topicAttributes(p);
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (before[k] === after[k]) continue;
      await ctx.call('sns', 'SetTopicAttributes', { TopicArn: arn, AttributeName: k, AttributeValue: after[k] ?? '' });
    }
    const subs = { ...((prev.attrs?.subscriptions as Record<string, string>) ?? {}) };
    if (!deepEqual(prev.props.Subscription, p.Subscription)) {
      const want = new Set((p.Subscription ?? []).map((s: Props) => `${s.Protocol}|${s.Endpoint}`));
      for (const [k, subArn] of Object.entries(subs)) {
        if (want.has(k)) continue;
        await ctx.call('sns', 'Unsubscribe', { SubscriptionArn: subArn }).catch(() => {});
        delete subs[k];
      }
      const added = (p.Subscription ?? []).filter((s: Props) => !subs[`${s.Protocol}|${s.Endpoint}`]);
      Object.assign(subs, await subscribeAll(ctx, arn, added));
    }
    if (!deepEqual(prev.props.Tags, p.Tags)) {
      const n = (p.Tags ?? []) as Props[];
      const removed = ((prev.props.Tags ?? []) as Props[]).map((t) => t.Key).filter((k) => !n.some((t) => t.Key === k));
      if (removed.length) await ctx.call('sns', 'UntagResource', { ResourceArn: arn, TagKeys: removed });
      if (n.length) await ctx.call('sns', 'TagResource', { ResourceArn: arn, Tags: n });
    }
    return { physicalId: arn, attrs: { ...prev.attrs, subscriptions: subs } };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('sns', 'DeleteTopic', { TopicArn: prev.physicalId });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

const SUB_ATTRS = [
  'DeliveryPolicy',
  'FilterPolicy',
  'FilterPolicyScope',
  'RawMessageDelivery',
  'RedrivePolicy',
  'SubscriptionRoleArn',
  'ReplayPolicy',
];

function subAttributes(p: Props): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of SUB_ATTRS)
    if (p[k] !== undefined) out[k] = typeof p[k] === 'object' ? JSON.stringify(p[k]) : String(p[k]);
  return out;
}

export const snsSubscription: ResourceProvider = {
  needs: ['sns'],
  createOnly: ['Endpoint', 'Protocol', 'TopicArn', 'Region'],
  async create(p, ctx) {
    if (p.Region && p.Region !== ctx.region) fail('Cross-region SNS subscriptions are not supported by Eddy');
    const attrs = subAttributes(p);
    const out = await ctx.call('sns', 'Subscribe', {
      TopicArn: p.TopicArn,
      Protocol: p.Protocol,
      Endpoint: p.Endpoint,
      Attributes: Object.keys(attrs).length ? attrs : undefined,
      ReturnSubscriptionArn: true,
    });
    return { physicalId: out.SubscriptionArn };
  },
  async update(p, prev, ctx) {
    const before = subAttributes(prev.props);
    const after = subAttributes(p);
    for (const k of changed(before, after))
      await ctx.call('sns', 'SetSubscriptionAttributes', {
        SubscriptionArn: prev.physicalId,
        AttributeName: k,
        AttributeValue: after[k] ?? (k === 'RawMessageDelivery' ? 'false' : ''),
      });
    return { physicalId: prev.physicalId };
  },
  async delete(prev, ctx) {
    try {
      await ctx.call('sns', 'Unsubscribe', { SubscriptionArn: prev.physicalId });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
};

const defaultTopicPolicy = (arn: string, account: string) =>
  JSON.stringify({
    Version: '2008-10-17',
    Id: '__default_policy_ID',
    Statement: [
      {
        Sid: '__default_statement_ID',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: [
          'SNS:GetTopicAttributes',
          'SNS:SetTopicAttributes',
          'SNS:AddPermission',
          'SNS:RemovePermission',
          'SNS:DeleteTopic',
          'SNS:Subscribe',
          'SNS:ListSubscriptionsByTopic',
          'SNS:Publish',
        ],
        Resource: arn,
        Condition: { StringEquals: { 'AWS:SourceOwner': account } },
      },
    ],
  });

export const snsTopicPolicy: ResourceProvider = {
  needs: ['sns'],
  async create(p, ctx) {
    for (const arn of p.Topics ?? [])
      await ctx.call('sns', 'SetTopicAttributes', {
        TopicArn: arn,
        AttributeName: 'Policy',
        AttributeValue: jsonString(p.PolicyDocument),
      });
    return { physicalId: ctx.physicalName() };
  },
  async update(p, prev, ctx) {
    await this.create(p, ctx);
    return { physicalId: prev.physicalId };
  },
  async delete(prev, ctx) {
    for (const arn of prev.props.Topics ?? []) {
      try {
        await ctx.call('sns', 'SetTopicAttributes', {
          TopicArn: arn,
          AttributeName: 'Policy',
          AttributeValue: defaultTopicPolicy(arn, ctx.accountId),
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  },
};
