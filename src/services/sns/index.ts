import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { RequestContext } from '../../core/context.ts';
import { AwsError } from '../../core/errors.ts';
import {
  type CompiledPattern,
  compilePattern,
  formatPatternError,
  isPatternError,
  matchesSnsAttributes,
  matchesSnsBody,
} from '../../core/pattern/index.ts';
import type { MetricsPort, ServiceDeps } from '../../core/ports.ts';
import type { ServiceImpl } from '../../gateway/service.ts';
import type { RawRequest, RawResponse } from '../../protocol/types.ts';
import { escapeXml } from '../../protocol/xml.ts';
import { effectiveRetry, retryDelays, retryPolicyProblem } from './delivery-policy.ts';
import {
  confirmationEmail,
  confirmationEnvelope,
  emailBody,
  lambdaEvent,
  notificationEnvelope,
  type Published,
  type SnsAttr,
  type Urls,
} from './messages.ts';
import type { DeliveryMessage, DeliveryPort } from './ports.ts';

export type { DeliveryMessage, DeliveryPort } from './ports.ts';

interface Topic {
  arn: string;
  name: string;
  account: string;
  region: string;
  fifo: boolean;
  attributes: Record<string, string>;
  tags: { Key: string; Value: string }[];
}

interface Subscription {
  arn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
  owner: string;
  region: string;
  attributes: Record<string, string>;
  confirmed: boolean;
  token: string;
  authenticated?: boolean;
}

const TOPICS = 'sns:t';
const SUBS = 'sns:s';
const TOPIC_SUBS = 'sns:ts';
const DEDUP = 'sns:d';
/** FIFO deduplication entries by time (8-byte ms + key), so expired ones are dropped as new ones arrive. */
const DEDUP_TIME = 'sns:dt';
const SEQ = 'sns:seq';
/** Unsubscribed HTTP/S subscriptions, by the token of their UnsubscribeConfirmation's resubscribe link. */
const RESUBSCRIBE = 'sns:resub';
const PAGE = 100;
const MAX_MESSAGE_BYTES = 262_144;
const DEDUP_WINDOW_MS = 5 * 60 * 1000;
const PROTOCOLS = new Set(['sqs', 'lambda', 'http', 'https', 'email', 'email-json']);
const REFUSED_PROTOCOLS = new Set(['sms', 'application', 'firehose']);
const TOPIC_SETTABLE = new Set([
  'DisplayName',
  'Policy',
  'DeliveryPolicy',
  'KmsMasterKeyId',
  'SignatureVersion',
  'TracingConfig',
  'ContentBasedDeduplication',
  'ArchivePolicy',
  'DataProtectionPolicy',
  'FifoThroughputScope',
  'HTTPSuccessFeedbackRoleArn',
  'HTTPFailureFeedbackRoleArn',
  'HTTPSuccessFeedbackSampleRate',
  'SQSSuccessFeedbackRoleArn',
  'SQSFailureFeedbackRoleArn',
  'SQSSuccessFeedbackSampleRate',
  'LambdaSuccessFeedbackRoleArn',
  'LambdaFailureFeedbackRoleArn',
  'LambdaSuccessFeedbackSampleRate',
]);
const SUB_SETTABLE = new Set([
  'DeliveryPolicy',
  'FilterPolicy',
  'FilterPolicyScope',
  'RawMessageDelivery',
  'RedrivePolicy',
  'SubscriptionRoleArn',
  'ReplayPolicy',
]);

export const invalidParameter = (what: string) => new AwsError('InvalidParameter', `Invalid parameter: ${what}`, 400);
const notFound = (what: string) => new AwsError('NotFound', what, 404);
const unsupported = (what: string) =>
  new AwsError(
    'InvalidParameter',
    `Invalid parameter: ${what} is not supported by Eddy (see docs/services/sns.md)`,
    400,
  );

const key = (s: string) => Buffer.from(s);
const topicKey = (account: string, region: string, name: string) => key(`${account}:${region}:${name}`);

export interface SnsOptions {
  delivery: DeliveryPort;
  /** Extra plain-HTTP routes served with SNS's (the mailbox). */
  routes?: (req: RawRequest) => RawResponse | undefined;
  /** AWS/SNS metrics (NumberOfMessagesPublished, PublishSize); deliveries are counted by the delivery path. */
  metrics?: MetricsPort;
}

/** What other services reach SNS through (EventBridge targets, S3 notifications, destinations). */
export interface SnsApi {
  /**
   * Publish to a topic by ARN inside the caller's transaction (fan-out rows join it). Throws the
   * AwsError Publish would (missing topic, FIFO parameters...).
   */
  publishByArn(
    topicArn: string,
    m: {
      message: string;
      subject?: string;
      messageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
      groupId?: string;
      dedupId?: string;
    },
  ): { MessageId: string; SequenceNumber?: string };
}

export function createSnsService(
  deps: ServiceDeps,
  opts: SnsOptions,
): { service: ServiceImpl; api: SnsApi; stop(): void } {
  const { storage, clock } = deps;
  const kv = storage.kv;
  const patterns = new Map<string, CompiledPattern>();

  // ---- repository ----
  const parseTopicArn = (arn: unknown) =>
    typeof arn === 'string' ? /^arn:aws[\w-]*:sns:([^:]+):(\d{12}):([A-Za-z0-9_.-]{1,256})$/.exec(arn) : null;
  function getTopic(arn: unknown): Topic | undefined {
    const m = parseTopicArn(arn);
    if (!m) return undefined;
    const raw = kv.get(TOPICS, topicKey(m[2], m[1], m[3]));
    return raw ? (JSON.parse(raw) as Topic) : undefined;
  }
  function requireTopic(arn: unknown, param = 'TopicArn'): Topic {
    if (arn === undefined || arn === null || arn === '') throw invalidParameter(param);
    if (!parseTopicArn(arn)) throw invalidParameter(param);
    const t = getTopic(arn);
    if (!t) throw notFound('Topic does not exist');
    return t;
  }
  const putTopic = (t: Topic) => kv.put(TOPICS, topicKey(t.account, t.region, t.name), JSON.stringify(t));
  const getSub = (arn: string): Subscription | undefined => {
    const raw = kv.get(SUBS, key(arn));
    return raw ? (JSON.parse(raw) as Subscription) : undefined;
  };
  const putSub = (s: Subscription) => {
    kv.put(SUBS, key(s.arn), JSON.stringify(s));
    kv.put(TOPIC_SUBS, key(`${s.topicArn}\u0000${s.arn}`), '');
  };
  const deleteSub = (s: Subscription) => {
    kv.delete(SUBS, key(s.arn));
    kv.delete(TOPIC_SUBS, key(`${s.topicArn}\u0000${s.arn}`));
  };
  function subsOf(topicArn: string): Subscription[] {
    const prefix = `${topicArn}\u0000`;
    const out: Subscription[] = [];
    for (const [k] of kv.range(TOPIC_SUBS, { gte: key(prefix) })) {
      const ks = k.toString();
      if (!ks.startsWith(prefix)) break;
      const s = getSub(ks.slice(prefix.length));
      if (s) out.push(s);
    }
    return out;
  }

  // ---- URLs ----
  const endpoint = (ctx?: RequestContext) => ctx?.endpoint ?? deps.endpoint();
  const urlsFor = (sub: Subscription, ctx?: RequestContext): Urls => ({
    signingCertUrl: `${endpoint(ctx)}/_eddy/sns/SimpleNotificationService.pem`,
    unsubscribeUrl: `${endpoint(ctx)}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(sub.arn)}`,
  });
  const confirmUrl = (sub: Subscription, ctx?: RequestContext) =>
    `${endpoint(ctx)}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(sub.topicArn)}&Token=${sub.token}`;

  // ---- filter policies (the shared matcher) ----
  function compileFilter(
    policy: string,
    scope: string | undefined,
    operation: 'Subscribe' | 'SetSubscriptionAttributes',
  ): CompiledPattern {
    const dialect = scope === 'MessageBody' ? 'sns-body' : 'sns-attributes';
    const cacheKey = `${dialect}\u0000${policy}`;
    let p = patterns.get(cacheKey);
    if (p) return p;
    try {
      p = compilePattern(policy, dialect);
    } catch (e) {
      if (isPatternError(e)) {
        const f = formatPatternError(dialect, e, { operation });
        throw new AwsError(f.code, f.message, 400);
      }
      throw e;
    }
    patterns.set(cacheKey, p);
    return p;
  }
  function filterAccepts(sub: Subscription, message: string, attrs: Record<string, SnsAttr>): boolean {
    const policy = sub.attributes.FilterPolicy;
    if (!policy) return true;
    const scope = sub.attributes.FilterPolicyScope ?? 'MessageAttributes';
    const p = compileFilter(policy, scope, 'SetSubscriptionAttributes');
    return scope === 'MessageBody' ? matchesSnsBody(p, message) : matchesSnsAttributes(p, attrs);
  }

  // ---- validation ----
  function validateSubAttributes(
    attrs: Record<string, string>,
    protocol: string,
    operation: 'Subscribe' | 'SetSubscriptionAttributes',
    existing?: Record<string, string>,
  ) {
    for (const [name, value] of Object.entries(attrs)) {
      if (!SUB_SETTABLE.has(name))
        throw invalidParameter(
          operation === 'Subscribe' ? `Attributes Reason: Unknown attribute ${name}` : 'AttributeName',
        );
      if (name === 'ReplayPolicy') throw unsupported('ReplayPolicy (message replay)');
      if (name === 'RawMessageDelivery') {
        if (!['true', 'false'].includes(String(value).toLowerCase()))
          throw invalidParameter('RawMessageDelivery: Invalid value [' + value + ']. Must be true or false.');
        if (!['sqs', 'http', 'https', 'firehose'].includes(protocol))
          throw invalidParameter(`Delivery protocol [${protocol}] does not support raw message delivery.`);
      }
      if (name === 'FilterPolicyScope' && value !== 'MessageAttributes' && value !== 'MessageBody') {
        throw invalidParameter(
          `FilterPolicyScope: Invalid value [${value}]. Please use either MessageBody or MessageAttributes`,
        );
      }
      if (name === 'RedrivePolicy' && value !== '') {
        let p: any;
        try {
          p = JSON.parse(value);
        } catch {
          throw invalidParameter('RedrivePolicy: failed to parse JSON.');
        }
        if (
          typeof p?.deadLetterTargetArn !== 'string' ||
          !/^arn:aws[\w-]*:sqs:[^:]+:\d{12}:.+$/.test(p.deadLetterTargetArn)
        ) {
          throw invalidParameter('RedrivePolicy: deadLetterTargetArn is an invalid arn');
        }
      }
      if (name === 'DeliveryPolicy' && value !== '') {
        let p: any;
        try {
          p = JSON.parse(value);
        } catch {
          throw invalidParameter('DeliveryPolicy: failed to parse JSON.');
        }
        if (protocol !== 'http' && protocol !== 'https')
          throw invalidParameter(
            `DeliveryPolicy: only HTTP/S subscriptions take a delivery policy in Eddy (protocol ${protocol})`,
          );
        const problem = retryPolicyProblem(p?.healthyRetryPolicy);
        if (problem) throw invalidParameter(`DeliveryPolicy: ${problem}`);
        if (p?.throttlePolicy !== undefined || p?.requestPolicy !== undefined)
          throw unsupported('DeliveryPolicy throttlePolicy/requestPolicy');
      }
    }
    const merged = { ...(existing ?? {}), ...attrs };
    if (merged.FilterPolicy) compileFilter(merged.FilterPolicy, merged.FilterPolicyScope, operation);
  }

  function validateEndpoint(protocol: string, ep: string | undefined) {
    if (REFUSED_PROTOCOLS.has(protocol)) throw unsupported(`Protocol ${protocol}`);
    if (!PROTOCOLS.has(protocol)) throw invalidParameter(`Invalid protocol type: ${protocol}`);
    const e = ep ?? '';
    switch (protocol) {
      case 'sqs':
        if (!/^arn:aws[\w-]*:sqs:[^:]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(e))
          throw invalidParameter('SQS endpoint ARN');
        break;
      case 'lambda':
        if (!/^arn:aws[\w-]*:lambda:[^:]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$/.test(e))
          throw invalidParameter('Lambda endpoint ARN');
        break;
      case 'http':
      case 'https':
        if (!e.toLowerCase().startsWith(`${protocol}://`))
          throw invalidParameter('Endpoint must match the specified protocol');
        break;
      default:
        if (!/^[^@\s]+@[^@\s]+$/.test(e)) throw invalidParameter('Email address');
    }
  }

  function normaliseAttrs(raw: Record<string, any> | undefined): { attrs: Record<string, SnsAttr>; size: number } {
    const attrs: Record<string, SnsAttr> = {};
    let size = 0;
    for (const [name, v] of Object.entries(raw ?? {})) {
      const type: string = v?.DataType;
      if (!type)
        throw invalidParameter(`The message attribute '${name}' must contain non-empty message attribute type.`);
      const base = type.split('.')[0];
      if (!['String', 'Number', 'Binary'].includes(base)) {
        throw invalidParameter(
          `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
        );
      }
      const a: SnsAttr = { DataType: type };
      if (base === 'Binary') {
        const b = v.BinaryValue;
        if (b === undefined || b === null)
          throw invalidParameter(`The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
        a.BinaryValue = Buffer.isBuffer(b) || b instanceof Uint8Array ? Buffer.from(b).toString('base64') : String(b);
        size += Buffer.from(a.BinaryValue, 'base64').length;
      } else {
        const s = v.StringValue;
        if (s === undefined || s === null)
          throw invalidParameter(
            `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${type}'.`,
          );
        if (base === 'Number' && !Number.isFinite(Number(s)))
          throw invalidParameter(`Could not cast message attribute '${name}' value to number.`);
        if (type === 'String.Array') {
          let ok = false;
          try {
            ok = Array.isArray(JSON.parse(s));
          } catch {}
          if (!ok)
            throw invalidParameter(`The message attribute '${name}' with type 'String.Array' has an invalid value.`);
        }
        a.StringValue = String(s);
        size += Buffer.byteLength(a.StringValue);
      }
      size += Buffer.byteLength(name) + Buffer.byteLength(type);
      attrs[name] = a;
    }
    if (Object.keys(attrs).length > 10)
      throw invalidParameter('MessageAttributes: Number of message attributes exceeds the maximum of 10');
    return { attrs, size };
  }

  // ---- publish ----
  interface PublishEntry {
    Message?: string;
    Subject?: string;
    MessageStructure?: string;
    MessageAttributes?: Record<string, any>;
    MessageDeduplicationId?: string;
    MessageGroupId?: string;
  }

  function prepare(topic: Topic, e: PublishEntry) {
    const message = e.Message;
    if (message === undefined || message === null || message === '') throw invalidParameter('Empty message');
    if (e.Subject !== undefined && e.Subject !== null) {
      if (!e.Subject.length || e.Subject.length > 100 || !/^[\x20-\x7e]+$/.test(e.Subject))
        throw invalidParameter('Subject');
    }
    let perProtocol: Record<string, string> | undefined;
    if (e.MessageStructure !== undefined && e.MessageStructure !== null) {
      if (e.MessageStructure !== 'json') throw invalidParameter('MessageStructure');
      let parsed: any;
      try {
        parsed = JSON.parse(message);
      } catch {
        throw invalidParameter('Message Structure - JSON message body failed to parse');
      }
      if (!parsed || typeof parsed !== 'object' || typeof parsed.default !== 'string') {
        throw invalidParameter('Message Structure - No default entry in JSON message body');
      }
      perProtocol = parsed;
    }
    const { attrs, size } = normaliseAttrs(e.MessageAttributes);
    if (Buffer.byteLength(message) + size > MAX_MESSAGE_BYTES) throw invalidParameter('Message too long');
    if (topic.fifo) {
      if (!e.MessageGroupId) throw invalidParameter('The MessageGroupId parameter is required for FIFO topics');
      if (!e.MessageDeduplicationId && topic.attributes.ContentBasedDeduplication !== 'true') {
        throw invalidParameter(
          'The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
      }
    } else {
      if (e.MessageDeduplicationId)
        throw invalidParameter(
          'MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type',
        );
    }
    return {
      message,
      perProtocol,
      attrs,
      size: Buffer.byteLength(message) + size,
      subject: e.Subject ?? undefined,
      groupId: e.MessageGroupId ?? undefined,
      dedupId: e.MessageDeduplicationId ?? undefined,
    };
  }

  /** Write one outbox row per matching subscription, in the caller's transaction. */
  function fanOut(topic: Topic, prep: ReturnType<typeof prepare>): { MessageId: string; SequenceNumber?: string } {
    const now = clock.now();
    let sequenceNumber: string | undefined;
    let dedupId: string | undefined;
    const messageId = randomUUID();
    if (topic.fifo) {
      dedupId = prep.dedupId ?? createHash('sha256').update(prep.message).digest('hex');
      const dk = key(`${topic.arn}\u0000${dedupId}`);
      const prior = kv.get(DEDUP, dk);
      if (prior) {
        const p = JSON.parse(prior) as { at: number; id: string; seq: string };
        if (p.at + DEDUP_WINDOW_MS > now) return { MessageId: p.id, SequenceNumber: p.seq };
      }
      const n = BigInt(kv.get(SEQ, key(topic.arn)) ?? '0') + 1n;
      kv.put(SEQ, key(topic.arn), String(n));
      sequenceNumber = String(10_000_000_000_000_000_000n + n);
      kv.put(DEDUP, dk, JSON.stringify({ at: now, id: messageId, seq: sequenceNumber }));
      const at = Buffer.alloc(8);
      at.writeBigUInt64BE(BigInt(now));
      kv.put(DEDUP_TIME, Buffer.concat([at, dk]), '');
      const cutoff = Buffer.alloc(8);
      cutoff.writeBigUInt64BE(BigInt(Math.max(0, now - DEDUP_WINDOW_MS)));
      for (const [k] of [...kv.range(DEDUP_TIME, { lt: cutoff, limit: 100 })]) {
        kv.delete(DEDUP_TIME, k);
        const old = kv.get(DEDUP, k.subarray(8));
        if (old && (JSON.parse(old) as { at: number }).at + DEDUP_WINDOW_MS <= now) kv.delete(DEDUP, k.subarray(8));
      }
    }
    const dims = [{ Name: 'TopicName', Value: topic.name }];
    const metrics = [
      { MetricName: 'NumberOfMessagesPublished', Value: 1, Unit: 'Count', Dimensions: dims },
      { MetricName: 'PublishSize', Value: prep.size, Unit: 'Bytes', Dimensions: dims },
    ];
    /** Subscriptions whose filter policy rejected the message, by AWS's metric name suffix. */
    let filteredOut: Map<string, number> | undefined;
    const timestamp = new Date(now).toISOString();
    for (const sub of subsOf(topic.arn)) {
      if (!sub.confirmed) continue;
      const message = prep.perProtocol ? (prep.perProtocol[sub.protocol] ?? prep.perProtocol.default) : prep.message;
      if (!filterAccepts(sub, prep.message, prep.attrs)) {
        const scope = sub.attributes.FilterPolicyScope === 'MessageBody' ? 'MessageBody' : 'MessageAttributes';
        const why = scope === 'MessageAttributes' && !Object.keys(prep.attrs).length ? 'NoMessageAttributes' : scope;
        filteredOut ??= new Map();
        filteredOut.set('', (filteredOut.get('') ?? 0) + 1);
        filteredOut.set(`-${why}`, (filteredOut.get(`-${why}`) ?? 0) + 1);
        continue;
      }
      const p: Published = {
        messageId,
        topicArn: topic.arn,
        subject: prep.subject,
        message,
        timestamp,
        attributes: prep.attrs,
        sequenceNumber,
      };
      const urls = { ...urlsFor(sub), signatureVersion: topic.attributes.SignatureVersion };
      const raw = sub.attributes.RawMessageDelivery === 'true';
      const dlq = sub.attributes.RedrivePolicy
        ? (JSON.parse(sub.attributes.RedrivePolicy).deadLetterTargetArn as string)
        : undefined;
      const origin = {
        topicArn: topic.arn,
        subscriptionArn: sub.arn,
        messageId,
        type: 'Notification',
        from: mailFrom(topic),
      };
      const base: Partial<DeliveryMessage> = { deadLetterTarget: dlq, origin, groupId: prep.groupId, dedupId };
      const envelope = () => notificationEnvelope(p, urls, topic.fifo);
      let target = sub.endpoint;
      let dm: DeliveryMessage;
      switch (sub.protocol) {
        case 'sqs':
          dm = raw
            ? { ...base, body: message, messageAttributes: Object.keys(prep.attrs).length ? prep.attrs : undefined }
            : { ...base, body: envelope() };
          break;
        case 'lambda':
          dm = { ...base, body: lambdaEvent(p, sub.arn, urls) };
          break;
        case 'http':
        case 'https':
          dm = {
            ...base,
            retryDelaysMs: retryDelays(effectiveRetry(topic.attributes.DeliveryPolicy, sub.attributes.DeliveryPolicy)),
            body: raw ? message : envelope(),
            headers: {
              'content-type': 'text/plain; charset=UTF-8',
              'user-agent': 'Amazon Simple Notification Service Agent',
              'x-amz-sns-message-type': 'Notification',
              'x-amz-sns-message-id': messageId,
              'x-amz-sns-topic-arn': topic.arn,
              'x-amz-sns-subscription-arn': sub.arn,
              ...(raw ? { 'x-amz-sns-rawdelivery': 'true' } : {}),
            },
          };
          break;
        case 'email':
          target = `mailto:${sub.endpoint}`;
          dm = {
            ...base,
            body: emailBody(p, urls),
            subject: prep.subject ?? 'AWS Notification Message',
          };
          break;
        default:
          target = `mailto:${sub.endpoint}`;
          dm = {
            ...base,
            body: envelope(),
            subject: prep.subject ?? 'AWS Notification Message',
          };
      }
      opts.delivery.deliver(target, dm);
    }
    if (opts.metrics) {
      for (const [suffix, n] of filteredOut ?? [])
        metrics.push({
          MetricName: `NumberOfNotificationsFilteredOut${suffix}`,
          Value: n,
          Unit: 'Count',
          Dimensions: dims,
        });
      opts.metrics.put(topic.account, topic.region, 'AWS/SNS', metrics);
    }
    return sequenceNumber ? { MessageId: messageId, SequenceNumber: sequenceNumber } : { MessageId: messageId };
  }

  function sendConfirmation(sub: Subscription, topic: Topic, ctx?: RequestContext) {
    const messageId = randomUUID();
    const url = confirmUrl(sub, ctx);
    const origin = {
      topicArn: topic.arn,
      subscriptionArn: sub.arn,
      type: 'SubscriptionConfirmation',
      confirmUrl: url,
      from: mailFrom(topic),
    };
    const timestamp = new Date(clock.now()).toISOString();
    const doc = () =>
      confirmationEnvelope({
        messageId,
        token: sub.token,
        topicArn: topic.arn,
        subscribeUrl: url,
        timestamp,
        signingCertUrl: urlsFor(sub, ctx).signingCertUrl,
      });
    if (sub.protocol === 'http' || sub.protocol === 'https') {
      opts.delivery.deliver(sub.endpoint, {
        body: doc(),
        origin,
        headers: {
          'content-type': 'text/plain; charset=UTF-8',
          'user-agent': 'Amazon Simple Notification Service Agent',
          'x-amz-sns-message-type': 'SubscriptionConfirmation',
          'x-amz-sns-message-id': messageId,
          'x-amz-sns-topic-arn': topic.arn,
        },
      });
    } else if (sub.protocol === 'email') {
      const mail = confirmationEmail(topic.arn, topic.attributes.DisplayName, url);
      opts.delivery.deliver(`mailto:${sub.endpoint}`, { body: mail.body, subject: mail.subject, origin });
    } else {
      const mail = confirmationEmail(topic.arn, topic.attributes.DisplayName, url);
      opts.delivery.deliver(`mailto:${sub.endpoint}`, { body: doc(), subject: mail.subject, origin });
    }
  }

  /** Delete a subscription; HTTP/S endpoints get an UnsubscribeConfirmation (with a link to resubscribe). */
  function unsubscribe(sub: Subscription) {
    deleteSub(sub);
    if (!sub.confirmed || (sub.protocol !== 'http' && sub.protocol !== 'https')) return;
    const messageId = randomUUID();
    // The SubscribeURL of an UnsubscribeConfirmation resubscribes the endpoint.
    const resubscribe: Subscription = { ...sub, confirmed: false, token: randomBytes(64).toString('hex') };
    kv.put(RESUBSCRIBE, key(resubscribe.token), JSON.stringify(resubscribe));
    opts.delivery.deliver(sub.endpoint, {
      body: confirmationEnvelope({
        messageId,
        token: resubscribe.token,
        topicArn: sub.topicArn,
        subscribeUrl: confirmUrl(resubscribe),
        timestamp: new Date(clock.now()).toISOString(),
        signingCertUrl: urlsFor(sub).signingCertUrl,
        unsubscribe: true,
        subscriptionArn: sub.arn,
      }),
      origin: { topicArn: sub.topicArn, subscriptionArn: sub.arn, type: 'UnsubscribeConfirmation' },
      headers: {
        'content-type': 'text/plain; charset=UTF-8',
        'user-agent': 'Amazon Simple Notification Service Agent',
        'x-amz-sns-message-type': 'UnsubscribeConfirmation',
        'x-amz-sns-message-id': messageId,
        'x-amz-sns-topic-arn': sub.topicArn,
        'x-amz-sns-subscription-arn': sub.arn,
      },
    });
  }

  function confirm(topicArn: unknown, token: unknown): Subscription {
    const topic = requireTopic(topicArn);
    if (typeof token !== 'string' || !token) throw invalidParameter('Token');
    let sub = subsOf(topic.arn).find((s) => s.token === token);
    if (!sub) {
      const raw = kv.get(RESUBSCRIBE, key(token));
      if (!raw) throw invalidParameter('Invalid token');
      sub = JSON.parse(raw) as Subscription;
      storage.tx(() => kv.delete(RESUBSCRIBE, key(token)));
    }
    if (!sub.confirmed) {
      sub.confirmed = true;
      storage.tx(() => putSub(sub));
    }
    return sub;
  }

  // ---- attributes ----
  function defaultPolicy(t: Topic) {
    return JSON.stringify({
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
          Resource: t.arn,
          Condition: { StringEquals: { 'AWS:SourceOwner': t.account } },
        },
      ],
    });
  }
  const effectiveTopicPolicy = (raw: string | undefined) => {
    const r = effectiveRetry(raw, undefined);
    return JSON.stringify({
      http: {
        defaultHealthyRetryPolicy: r,
        disableSubscriptionOverrides: raw ? Boolean(JSON.parse(raw)?.http?.disableSubscriptionOverrides) : false,
        defaultRequestPolicy: { headerContentType: 'text/plain; charset=UTF-8' },
      },
    });
  };

  function validateTopicAttributes(attrs: Record<string, string>, fifo: boolean, creating: boolean) {
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'FifoTopic' && creating) {
        if (v !== 'true' && v !== 'false') throw invalidParameter('Attributes Reason: FifoTopic');
        continue;
      }
      if (!TOPIC_SETTABLE.has(k))
        throw invalidParameter(creating ? `Attributes Reason: Unknown attribute ${k}` : 'AttributeName');
      if (k === 'SignatureVersion' && v !== '1' && v !== '2')
        throw invalidParameter(`${creating ? 'Attributes Reason: ' : ''}SignatureVersion`);
      if (k === 'ArchivePolicy') throw unsupported('Attributes Reason: ArchivePolicy (message archiving and replay)');
      if (k === 'ContentBasedDeduplication') {
        if (!fifo)
          throw invalidParameter('Attributes Reason: Content-based deduplication can only be set for FIFO topics');
        if (v !== 'true' && v !== 'false') throw invalidParameter('Attributes Reason: ContentBasedDeduplication');
      }
      if ((k === 'Policy' || k === 'DeliveryPolicy') && v !== '') {
        let p: any;
        try {
          p = JSON.parse(v);
        } catch {
          throw invalidParameter(`Attributes Reason: ${k}: failed to parse JSON.`);
        }
        if (k === 'DeliveryPolicy') {
          for (const proto of Object.keys(p ?? {}))
            if (proto !== 'http' && proto !== 'https') throw unsupported(`DeliveryPolicy for ${proto}`);
          for (const proto of ['http', 'https']) {
            const problem = retryPolicyProblem(p?.[proto]?.defaultHealthyRetryPolicy);
            if (problem) throw invalidParameter(`Attributes Reason: DeliveryPolicy: ${problem}`);
          }
        }
      }
    }
  }

  function page<T>(items: T[], token: string | undefined, keyOf: (t: T) => string) {
    let start = 0;
    if (token) {
      const after = Buffer.from(token, 'base64').toString();
      start = items.findIndex((i) => keyOf(i) > after);
      if (start < 0) start = items.length;
    }
    const slice = items.slice(start, start + PAGE);
    const more = start + PAGE < items.length;
    return { slice, next: more ? Buffer.from(keyOf(slice.at(-1)!)).toString('base64') : undefined };
  }

  function listSubs(ctx: RequestContext, topicArn?: string): Subscription[] {
    if (topicArn) return subsOf(topicArn).sort((a, b) => (a.arn < b.arn ? -1 : 1));
    const prefix = `arn:aws:sns:${ctx.region}:${ctx.accountId}:`;
    const out: Subscription[] = [];
    for (const [k, v] of kv.range(SUBS, { gte: key(prefix) })) {
      if (!k.toString().startsWith(prefix)) break;
      out.push(JSON.parse(v) as Subscription);
    }
    return out;
  }
  const renderSub = (s: Subscription) => ({
    SubscriptionArn: s.confirmed ? s.arn : 'PendingConfirmation',
    Owner: s.owner,
    Protocol: s.protocol,
    Endpoint: s.endpoint,
    TopicArn: s.topicArn,
  });

  const requireSub = (arn: unknown) => {
    if (typeof arn !== 'string' || !/^arn:aws[\w-]*:sns:[^:]+:\d{12}:[^:]+:[0-9a-f-]{36}$/.test(arn))
      throw invalidParameter('SubscriptionArn');
    const s = getSub(arn);
    if (!s) throw notFound('Subscription does not exist');
    return s;
  };

  const operations: ServiceImpl['operations'] = {
    CreateTopic(
      input: {
        Name: string;
        Attributes?: Record<string, string>;
        Tags?: { Key: string; Value: string }[];
        DataProtectionPolicy?: string;
      },
      ctx,
    ) {
      const attrs = { ...(input.Attributes ?? {}) };
      const fifo = attrs.FifoTopic === 'true';
      const name = input.Name ?? '';
      if (fifo ? !/^[A-Za-z0-9_-]{1,251}\.fifo$/.test(name) : !/^[A-Za-z0-9_-]{1,256}$/.test(name)) {
        throw invalidParameter(
          fifo || name.endsWith('.fifo')
            ? 'Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.'
            : 'Topic Name',
        );
      }
      validateTopicAttributes(attrs, fifo, true);
      if (input.DataProtectionPolicy) throw unsupported('DataProtectionPolicy');
      const arn = `arn:aws:sns:${ctx.region}:${ctx.accountId}:${name}`;
      const existing = getTopic(arn);
      if (existing) {
        for (const [k, v] of Object.entries(attrs)) {
          if (k === 'FifoTopic' ? v !== String(existing.fifo) : (existing.attributes[k] ?? '') !== v) {
            throw invalidParameter('Attributes Reason: Topic already exists with different attributes');
          }
        }
        return { TopicArn: arn };
      }
      delete attrs.FifoTopic;
      const topic: Topic = {
        arn,
        name,
        account: ctx.accountId,
        region: ctx.region,
        fifo,
        attributes: attrs,
        tags: input.Tags ?? [],
      };
      if (fifo && topic.attributes.ContentBasedDeduplication === undefined)
        topic.attributes.ContentBasedDeduplication = 'false';
      storage.tx(() => putTopic(topic));
      return { TopicArn: arn };
    },

    ListTopics(input: { NextToken?: string }, ctx) {
      const prefix = `${ctx.accountId}:${ctx.region}:`;
      const all: Topic[] = [];
      for (const [k, v] of kv.range(TOPICS, { gte: key(prefix) })) {
        if (!k.toString().startsWith(prefix)) break;
        all.push(JSON.parse(v) as Topic);
      }
      const { slice, next } = page(all, input.NextToken, (t) => t.arn);
      return { Topics: slice.map((t) => ({ TopicArn: t.arn })), NextToken: next };
    },

    GetTopicAttributes(input: { TopicArn: string }) {
      const t = requireTopic(input.TopicArn);
      const subs = subsOf(t.arn);
      const a: Record<string, string> = {
        Policy: t.attributes.Policy ?? defaultPolicy(t),
        Owner: t.account,
        SubscriptionsPending: String(subs.filter((s) => !s.confirmed).length),
        TopicArn: t.arn,
        EffectiveDeliveryPolicy: effectiveTopicPolicy(t.attributes.DeliveryPolicy),
        SubscriptionsConfirmed: String(subs.filter((s) => s.confirmed).length),
        DisplayName: t.attributes.DisplayName ?? '',
        SubscriptionsDeleted: '0',
      };
      for (const [k, v] of Object.entries(t.attributes)) if (k !== 'Policy' && k !== 'DisplayName') a[k] = v;
      if (t.fifo) a.FifoTopic = 'true';
      return { Attributes: a };
    },

    SetTopicAttributes(input: { TopicArn: string; AttributeName: string; AttributeValue?: string }) {
      const t = requireTopic(input.TopicArn);
      const value = input.AttributeValue ?? '';
      validateTopicAttributes({ [input.AttributeName]: value }, t.fifo, false);
      if (value === '' && input.AttributeName !== 'DisplayName') delete t.attributes[input.AttributeName];
      else t.attributes[input.AttributeName] = value;
      storage.tx(() => putTopic(t));
      return {};
    },

    DeleteTopic(input: { TopicArn: string }) {
      if (!parseTopicArn(input.TopicArn)) throw invalidParameter('TopicArn');
      const t = getTopic(input.TopicArn);
      if (!t) return {};
      storage.tx(() => {
        for (const s of subsOf(t.arn)) deleteSub(s);
        kv.delete(TOPICS, topicKey(t.account, t.region, t.name));
        const prefix = `${t.arn}\u0000`;
        for (const [k] of [...kv.range(DEDUP, { gte: key(prefix) })]) {
          if (!k.toString().startsWith(prefix)) break;
          kv.delete(DEDUP, k);
        }
        kv.delete(SEQ, key(t.arn));
      });
      return {};
    },

    Subscribe(
      input: {
        TopicArn: string;
        Protocol: string;
        Endpoint?: string;
        Attributes?: Record<string, string>;
        ReturnSubscriptionArn?: boolean;
      },
      ctx,
    ) {
      const topic = requireTopic(input.TopicArn);
      const protocol = String(input.Protocol ?? '').toLowerCase();
      validateEndpoint(protocol, input.Endpoint);
      const attrs = { ...(input.Attributes ?? {}) };
      validateSubAttributes(attrs, protocol, 'Subscribe');
      if (attrs.RawMessageDelivery) attrs.RawMessageDelivery = attrs.RawMessageDelivery.toLowerCase();
      if (attrs.FilterPolicy && !attrs.FilterPolicyScope) attrs.FilterPolicyScope = 'MessageAttributes';
      if (protocol === 'sqs' && !topic.fifo && input.Endpoint!.endsWith('.fifo')) {
        throw invalidParameter(
          'Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics',
        );
      }
      const existing = subsOf(topic.arn).find((s) => s.protocol === protocol && s.endpoint === input.Endpoint);
      if (existing) {
        const same = Object.entries(attrs).every(([k, v]) => existing.attributes[k] === v);
        if (!same) throw invalidParameter('Attributes Reason: Subscription already exists with different attributes');
        return {
          SubscriptionArn: existing.confirmed || input.ReturnSubscriptionArn ? existing.arn : 'pending confirmation',
        };
      }
      const autoConfirmed = protocol === 'sqs' || protocol === 'lambda';
      const sub: Subscription = {
        arn: `${topic.arn}:${randomUUID()}`,
        topicArn: topic.arn,
        protocol,
        endpoint: input.Endpoint!,
        owner: ctx.accountId,
        region: ctx.region,
        attributes: attrs,
        confirmed: autoConfirmed,
        token: randomBytes(64).toString('hex'),
      };
      storage.tx(() => {
        putSub(sub);
        if (!autoConfirmed) sendConfirmation(sub, topic, ctx);
      });
      return { SubscriptionArn: autoConfirmed || input.ReturnSubscriptionArn ? sub.arn : 'pending confirmation' };
    },

    ConfirmSubscription(input: { TopicArn: string; Token: string; AuthenticateOnUnsubscribe?: string }) {
      const sub = confirm(input.TopicArn, input.Token);
      if (input.AuthenticateOnUnsubscribe === 'true') {
        sub.authenticated = true;
        storage.tx(() => putSub(sub));
      }
      return { SubscriptionArn: sub.arn };
    },

    Unsubscribe(input: { SubscriptionArn: string }) {
      if (
        typeof input.SubscriptionArn !== 'string' ||
        !/^arn:aws[\w-]*:sns:[^:]+:\d{12}:[^:]+:[0-9a-f-]{36}$/.test(input.SubscriptionArn)
      ) {
        throw invalidParameter('SubscriptionArn');
      }
      const s = getSub(input.SubscriptionArn);
      if (s) storage.tx(() => unsubscribe(s));
      return {};
    },

    ListSubscriptions(input: { NextToken?: string }, ctx) {
      const { slice, next } = page(listSubs(ctx), input.NextToken, (s) => s.arn);
      return { Subscriptions: slice.map(renderSub), NextToken: next };
    },

    ListSubscriptionsByTopic(input: { TopicArn: string; NextToken?: string }, ctx) {
      const t = requireTopic(input.TopicArn);
      const { slice, next } = page(listSubs(ctx, t.arn), input.NextToken, (s) => s.arn);
      return { Subscriptions: slice.map(renderSub), NextToken: next };
    },

    GetSubscriptionAttributes(input: { SubscriptionArn: string }) {
      const s = requireSub(input.SubscriptionArn);
      const a: Record<string, string> = {
        Owner: s.owner,
        RawMessageDelivery: 'false',
        TopicArn: s.topicArn,
        Endpoint: s.endpoint,
        Protocol: s.protocol,
        PendingConfirmation: String(!s.confirmed),
        ConfirmationWasAuthenticated: String(s.authenticated ?? s.protocol === 'sqs'),
        SubscriptionArn: s.arn,
        SubscriptionPrincipal: `arn:aws:iam::${s.owner}:root`,
        ...s.attributes,
      };
      if (s.protocol === 'http' || s.protocol === 'https') {
        const topic = getTopic(s.topicArn);
        a.EffectiveDeliveryPolicy = JSON.stringify({
          healthyRetryPolicy: effectiveRetry(topic?.attributes.DeliveryPolicy, s.attributes.DeliveryPolicy),
          sicklyRetryPolicy: null,
          throttlePolicy: null,
          guaranteed: false,
        });
      }
      return { Attributes: a };
    },

    SetSubscriptionAttributes(input: { SubscriptionArn: string; AttributeName: string; AttributeValue?: string }) {
      const s = requireSub(input.SubscriptionArn);
      let value = input.AttributeValue ?? '';
      validateSubAttributes({ [input.AttributeName]: value }, s.protocol, 'SetSubscriptionAttributes', s.attributes);
      if (input.AttributeName === 'RawMessageDelivery') value = value.toLowerCase();
      if (value === '') delete s.attributes[input.AttributeName];
      else s.attributes[input.AttributeName] = value;
      if (input.AttributeName === 'FilterPolicy') {
        if (value === '') delete s.attributes.FilterPolicyScope;
        else s.attributes.FilterPolicyScope ??= 'MessageAttributes';
      }
      storage.tx(() => putSub(s));
      return {};
    },

    Publish(input: PublishEntry & { TopicArn?: string; TargetArn?: string; PhoneNumber?: string }) {
      if (input.PhoneNumber) throw unsupported('PhoneNumber (SMS)');
      const arn = input.TopicArn ?? input.TargetArn;
      if (!input.TopicArn && input.TargetArn && !parseTopicArn(input.TargetArn))
        throw unsupported('TargetArn for platform endpoints');
      const topic = requireTopic(arn, input.TopicArn ? 'TopicArn' : 'TargetArn');
      const prep = prepare(topic, input);
      return storage.tx(() => fanOut(topic, prep));
    },

    PublishBatch(input: { TopicArn: string; PublishBatchRequestEntries: (PublishEntry & { Id: string })[] }) {
      const topic = requireTopic(input.TopicArn);
      const entries = input.PublishBatchRequestEntries ?? [];
      if (!entries.length)
        throw new AwsError('EmptyBatchRequest', "The batch request doesn't contain any entries", 400);
      if (entries.length > 10)
        throw new AwsError(
          'TooManyEntriesInBatchRequest',
          'The batch request contains more entries than permissible',
          400,
        );
      const ids = new Set<string>();
      for (const e of entries) {
        if (!/^[A-Za-z0-9_-]{1,80}$/.test(e.Id ?? ''))
          throw new AwsError(
            'InvalidBatchEntryId',
            "The Id of a batch entry in a batch request doesn't abide by the specification",
            400,
          );
        if (ids.has(e.Id))
          throw new AwsError(
            'BatchEntryIdsNotDistinct',
            'Two or more batch entries in the request have the same Id',
            400,
          );
        ids.add(e.Id);
      }
      const total = entries.reduce((n, e) => n + Buffer.byteLength(e.Message ?? ''), 0);
      if (total > MAX_MESSAGE_BYTES)
        throw new AwsError(
          'BatchRequestTooLong',
          'The length of all the messages put together is more than the limit',
          400,
        );
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      storage.tx(() => {
        for (const e of entries) {
          try {
            const r = fanOut(topic, prepare(topic, e));
            Successful.push({ Id: e.Id, ...r });
          } catch (err) {
            if (!(err instanceof AwsError)) throw err;
            Failed.push({ Id: e.Id, Code: err.code, Message: err.message, SenderFault: true });
          }
        }
      });
      return { Successful, Failed };
    },

    TagResource(input: { ResourceArn: string; Tags: { Key: string; Value: string }[] }) {
      const t = getTopic(input.ResourceArn);
      if (!t) throw new AwsError('ResourceNotFound', 'Resource does not exist', 404);
      const tags = new Map(t.tags.map((x) => [x.Key, x.Value]));
      for (const x of input.Tags ?? []) tags.set(x.Key, x.Value);
      if (tags.size > 50)
        throw new AwsError('TagLimitExceeded', 'Could not complete request: tag quota of per resource exceeded', 400);
      t.tags = [...tags].map(([Key, Value]) => ({ Key, Value }));
      storage.tx(() => putTopic(t));
      return {};
    },
    UntagResource(input: { ResourceArn: string; TagKeys: string[] }) {
      const t = getTopic(input.ResourceArn);
      if (!t) throw new AwsError('ResourceNotFound', 'Resource does not exist', 404);
      t.tags = t.tags.filter((x) => !(input.TagKeys ?? []).includes(x.Key));
      storage.tx(() => putTopic(t));
      return {};
    },
    ListTagsForResource(input: { ResourceArn: string }) {
      const t = getTopic(input.ResourceArn);
      if (!t) throw new AwsError('ResourceNotFound', 'Resource does not exist', 404);
      return { Tags: t.tags };
    },
  };

  for (const name of [
    'AddPermission',
    'RemovePermission',
    'CreatePlatformApplication',
    'CreatePlatformEndpoint',
    'CreateSMSSandboxPhoneNumber',
    'CheckIfPhoneNumberIsOptedOut',
    'GetSMSAttributes',
    'SetSMSAttributes',
    'ListPhoneNumbersOptedOut',
    'OptInPhoneNumber',
    'ListPlatformApplications',
    'ListEndpointsByPlatformApplication',
    'PutDataProtectionPolicy',
    'GetDataProtectionPolicy',
  ]) {
    operations[name] = () => {
      throw new AwsError(
        'InvalidAction',
        `The action ${name} is not supported by Eddy (see docs/services/sns.md).`,
        400,
      );
    };
  }

  /** Confirm and unsubscribe links (what email recipients and HTTP endpoints GET). */
  const routes = (req: RawRequest): RawResponse | undefined => {
    const extra = opts.routes?.(req);
    if (extra) return extra;
    if (req.method !== 'GET') return undefined;
    const q = req.query;
    const action = q.get('Action');
    const isLink =
      (req.path === '/' && !req.headers.authorization && !q.has('X-Amz-Credential')) || req.path === '/_eddy/confirm';
    if (!isLink) return undefined;
    try {
      if (req.path === '/_eddy/confirm' || action === 'ConfirmSubscription') {
        const sub = confirm(q.get('TopicArn'), q.get('Token'));
        return xml('ConfirmSubscription', `<SubscriptionArn>${escapeXml(sub.arn)}</SubscriptionArn>`);
      }
      if (action === 'Unsubscribe') {
        const arn = q.get('SubscriptionArn') ?? '';
        const s = getSub(arn);
        if (s) storage.tx(() => unsubscribe(s));
        return xml('Unsubscribe', '');
      }
    } catch (e) {
      if (e instanceof AwsError) {
        return {
          status: e.status,
          headers: { 'content-type': 'text/xml' },
          body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
        };
      }
      throw e;
    }
    return undefined;
  };

  const api: SnsApi = {
    publishByArn(topicArn, m) {
      const topic = requireTopic(topicArn);
      const prep = prepare(topic, {
        Message: m.message,
        Subject: m.subject,
        MessageAttributes: m.messageAttributes,
        MessageGroupId: m.groupId,
        MessageDeduplicationId: topic.fifo ? m.dedupId : undefined,
      });
      return storage.tx(() => fanOut(topic, prep));
    },
  };

  return {
    service: { model: 'sns', operations, routes },
    api,
    stop() {},
  };
}

/** Mail from SNS shows the topic's DisplayName as the sender name. */
function mailFrom(topic: { attributes: Record<string, string> }): string {
  const name = topic.attributes.DisplayName || 'AWS Notifications';
  return `${name} <no-reply@sns.amazonaws.com>`;
}

function xml(op: string, inner: string): RawResponse {
  const result = inner ? `<${op}Result>${inner}</${op}Result>` : '';
  return {
    status: 200,
    headers: { 'content-type': 'text/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<${op}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/">${result}<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${op}Response>`,
  };
}
