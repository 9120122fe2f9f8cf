import type { Logger } from '../core/logger.ts';
import type { MetricsPort } from '../core/ports.ts';
import type { SnsApi } from '../services/sns/index.ts';
import type { DeliveryMessage } from '../services/sns/ports.ts';
import type { SqsApi } from '../services/sqs/index.ts';
import type { Mailbox } from './mailbox.ts';
import type { OutboxObserver, OutboxRow, Sink } from './outbox.ts';

/** SQS targets: the message is written into the queue in the same transaction that clears the outbox row. */
export function sqsSink(sqs: SqsApi): Sink {
  return {
    accepts: (t) => t.startsWith('arn:aws:sqs:') || /^arn:aws[\w-]*:sqs:/.test(t),
    mode: 'sync',
    // SNS retries SQS deliveries for a long time; locally a missing queue gets a few quick retries.
    retryDelaysMs: [1_000, 5_000, 20_000],
    deliver(target, m) {
      sqs.sendByArn(target, {
        body: m.body,
        messageAttributes: m.messageAttributes,
        groupId: m.groupId,
        dedupId: m.dedupId,
        senderId: 'AIDAIT2UOQQY3AUEKVGXU',
      });
    },
  };
}

/** SNS topic targets (EventBridge, S3 notifications, destinations): published, fanned out in the same transaction. */
export function snsSink(sns: SnsApi): Sink {
  return {
    accepts: (t) => /^arn:aws[\w-]*:sns:/.test(t),
    mode: 'sync',
    retryDelaysMs: [1_000, 5_000, 20_000],
    deliver(target, m) {
      sns.publishByArn(target, {
        message: m.body,
        subject: m.subject,
        messageAttributes: m.messageAttributes,
        groupId: m.groupId,
        dedupId: m.dedupId,
      });
    },
  };
}

/** `mailto:` targets: into the local mailbox. */
export function mailSink(mailbox: Mailbox): Sink {
  return {
    accepts: (t) => t.startsWith('mailto:'),
    mode: 'sync',
    retryDelaysMs: [1_000],
    deliver(target, m) {
      const o = m.origin ?? {};
      mailbox.put({
        to: target.slice('mailto:'.length),
        from: o.from ?? 'AWS Notifications <no-reply@sns.amazonaws.com>',
        subject: m.subject ?? 'AWS Notification Message',
        body: m.body,
        topicArn: o.topicArn,
        subscriptionArn: o.subscriptionArn,
        type: o.type as 'SubscriptionConfirmation' | 'Notification' | undefined,
        confirmUrl: o.confirmUrl,
      });
    },
  };
}

/** HTTP(S) endpoints: POST, 2xx is success; SNS's default policy retries 3 times, 20 s apart. */
export function httpSink(): Sink {
  return {
    accepts: (t) => t.startsWith('http://') || t.startsWith('https://'),
    mode: 'async',
    retryDelaysMs: [20_000, 20_000, 20_000],
    async deliver(target, m) {
      const res = await fetch(target, {
        method: 'POST',
        headers: m.headers,
        body: m.body,
        signal: AbortSignal.timeout(15_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status} from ${target}`);
    },
  };
}

/** What Lambda offers integrations: an asynchronous (Event) invocation. */
export interface LambdaInvoker {
  invokeAsync(functionArn: string, payload: string): Promise<void>;
}

/** Adapt Lambda's in-process invoke to asynchronous (Event) semantics: a function error is a failed delivery. */
export function lambdaInvokerFrom(
  invoke: (
    fn: string,
    payload: Buffer,
    opts: { accountId: string; region: string },
  ) => Promise<{ FunctionError?: string; Payload?: Buffer }>,
): LambdaInvoker {
  return {
    async invokeAsync(functionArn, payload) {
      const m = /^arn:aws[\w-]*:lambda:([^:]+):(\d{12}):function:/.exec(functionArn);
      if (!m) throw new Error(`not a function ARN: ${functionArn}`);
      const r = await invoke(functionArn, Buffer.from(payload), { accountId: m[2], region: m[1] });
      if (r.FunctionError)
        throw new Error(`${r.FunctionError}: ${r.Payload ? Buffer.from(r.Payload).toString().slice(0, 500) : ''}`);
    },
  };
}

/**
 * Lambda targets. Until the Lambda service provides an invoker, deliveries are refused loudly
 * (an error log per message, then the subscription DLQ if any) — never dropped silently.
 */
export function lambdaSink(getInvoker: () => LambdaInvoker | undefined, logger: Logger): Sink {
  return {
    accepts: (t) => /^arn:aws[\w-]*:lambda:/.test(t),
    mode: 'async',
    // Asynchronous invocation: Lambda retries a failed event twice, after 1 and 2 more minutes.
    retryDelaysMs: [60_000, 120_000],
    async deliver(target, m: DeliveryMessage) {
      const invoker = getInvoker();
      if (!invoker) {
        logger.error('delivery: Lambda targets are not wired in this build; the invocation is refused', {
          target,
          ...m.origin,
        });
        throw new Error('Lambda delivery is not available');
      }
      await invoker.invokeAsync(target, m.body);
    },
  };
}

/**
 * Delivery outcomes as CloudWatch metrics. SNS notifications (rows whose origin names a topic and a
 * subscription), by TopicName: NumberOfNotificationsDelivered; NumberOfNotificationsFailed once SNS
 * gives up — for HTTP(S) endpoints every failed attempt, as AWS counts; NumberOfNotificationsRedrivenToDlq
 * and NumberOfNotificationsFailedToRedriveToDlq for the subscription's DLQ. Lambda's asynchronous
 * events bound for a function's DLQ (origin `deadLetterFor`): DeadLetterErrors when the DLQ refuses them.
 */
export function deliveryMetrics(metrics: MetricsPort): OutboxObserver {
  const topicOf = (row: OutboxRow) => {
    const o = row.message.origin;
    if (o?.type !== 'Notification' || !o.topicArn || !o.subscriptionArn) return undefined;
    const m = /^arn:aws[\w-]*:sns:([^:]+):(\d{12}):(.+)$/.exec(o.topicArn);
    return m ? { region: m[1], accountId: m[2], name: m[3] } : undefined;
  };
  const sns = (t: { region: string; accountId: string; name: string }, MetricName: string) =>
    metrics.put(t.accountId, t.region, 'AWS/SNS', [
      { MetricName, Value: 1, Unit: 'Count', Dimensions: [{ Name: 'TopicName', Value: t.name }] },
    ]);
  return {
    delivered(row) {
      const t = topicOf(row);
      if (t) sns(t, row.deadLetter ? 'NumberOfNotificationsRedrivenToDlq' : 'NumberOfNotificationsDelivered');
    },
    failed(row, final) {
      const t = topicOf(row);
      if (t) {
        if (row.deadLetter) {
          if (final) sns(t, 'NumberOfNotificationsFailedToRedriveToDlq');
        } else if (final || /^https?:/.test(row.target)) sns(t, 'NumberOfNotificationsFailed');
        return;
      }
      const fn = row.message.origin?.deadLetterFor;
      const m = fn && final ? /^arn:aws[\w-]*:lambda:([^:]+):(\d{12}):function:([^:]+)/.exec(fn) : null;
      if (m)
        metrics.put(m[2], m[1], 'AWS/Lambda', [
          {
            MetricName: 'DeadLetterErrors',
            Value: 1,
            Unit: 'Count',
            Dimensions: [{ Name: 'FunctionName', Value: m[3] }],
          },
        ]);
    },
  };
}
