import { createHash } from 'node:crypto';

/** SNS message attribute as stored after Publish validation. */
export interface SnsAttr {
  DataType: string;
  StringValue?: string;
  /** base64 */
  BinaryValue?: string;
}

export interface Published {
  messageId: string;
  topicArn: string;
  subject?: string;
  /** The message text for this protocol (MessageStructure json already resolved). */
  message: string;
  timestamp: string;
  attributes: Record<string, SnsAttr>;
  sequenceNumber?: string;
}

export interface Urls {
  signingCertUrl: string;
  unsubscribeUrl: string;
  /** The topic's SignatureVersion attribute ('1' unless set to '2'). */
  signatureVersion?: string;
}

/** A stable, AWS-looking signature (not verifiable: Eddy has no SNS signing key; see docs). */
export function fakeSignature(...parts: string[]): string {
  const h = (s: string) => createHash('sha512').update(s).digest('base64');
  const seed = parts.join('\n');
  return (h(seed) + h(`1${seed}`) + h(`2${seed}`) + h(`3${seed}`)).slice(0, 344);
}

/** SNS pretty-prints its JSON documents with Jackson's default printer: `"Key" : value`, two-space indent. */
function pretty(entries: [string, unknown][]): string {
  const lines = entries
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      if (k === 'MessageAttributes') {
        const attrs = v as Record<string, { Type: string; Value: string }>;
        const inner = Object.entries(attrs)
          .map(([n, a]) => `    ${JSON.stringify(n)} : ${JSON.stringify({ Type: a.Type, Value: a.Value })}`)
          .join(',\n');
        return `  "MessageAttributes" : {\n${inner}\n  }`;
      }
      return `  ${JSON.stringify(k)} : ${JSON.stringify(v)}`;
    });
  return `{\n${lines.join(',\n')}\n}`;
}

export function deliveredAttributes(attrs: Record<string, SnsAttr>): Record<string, { Type: string; Value: string }> {
  const out: Record<string, { Type: string; Value: string }> = {};
  for (const [k, a] of Object.entries(attrs))
    out[k] = { Type: a.DataType, Value: a.StringValue ?? a.BinaryValue ?? '' };
  return out;
}

/** The Notification document SQS, HTTP and email-json subscribers receive. */
export function notificationEnvelope(p: Published, urls: Urls, fifo: boolean): string {
  const hasAttrs = Object.keys(p.attributes).length > 0;
  const sig = fakeSignature(p.messageId, p.topicArn, p.message, p.timestamp);
  return pretty([
    ['Type', 'Notification'],
    ['MessageId', p.messageId],
    ['SequenceNumber', fifo ? p.sequenceNumber : undefined],
    ['TopicArn', p.topicArn],
    ['Subject', p.subject],
    ['Message', p.message],
    ['Timestamp', p.timestamp],
    ['SignatureVersion', urls.signatureVersion ?? '1'],
    ['Signature', sig],
    ['SigningCertURL', urls.signingCertUrl],
    ['UnsubscribeURL', urls.unsubscribeUrl],
    ['MessageAttributes', hasAttrs ? deliveredAttributes(p.attributes) : undefined],
  ]);
}

export function confirmationEnvelope(o: {
  messageId: string;
  token: string;
  topicArn: string;
  subscribeUrl: string;
  timestamp: string;
  signingCertUrl: string;
  /** UnsubscribeConfirmation: sent to an HTTP/S endpoint after it was unsubscribed. */
  unsubscribe?: boolean;
  subscriptionArn?: string;
}): string {
  const message = o.unsubscribe
    ? `You have chosen to deactivate subscription ${o.subscriptionArn ?? ''}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`
    : `You have chosen to subscribe to the topic ${o.topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`;
  return pretty([
    ['Type', o.unsubscribe ? 'UnsubscribeConfirmation' : 'SubscriptionConfirmation'],
    ['MessageId', o.messageId],
    ['Token', o.token],
    ['TopicArn', o.topicArn],
    ['Message', message],
    ['SubscribeURL', o.subscribeUrl],
    ['Timestamp', o.timestamp],
    ['SignatureVersion', '1'],
    ['Signature', fakeSignature(o.messageId, o.token, o.topicArn)],
    ['SigningCertURL', o.signingCertUrl],
  ]);
}

/** The event a Lambda subscriber is invoked with. */
export function lambdaEvent(p: Published, subscriptionArn: string, urls: Urls): string {
  return JSON.stringify({
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: subscriptionArn,
        Sns: {
          Type: 'Notification',
          MessageId: p.messageId,
          TopicArn: p.topicArn,
          Subject: p.subject ?? null,
          Message: p.message,
          Timestamp: p.timestamp,
          SignatureVersion: urls.signatureVersion ?? '1',
          Signature: fakeSignature(p.messageId, p.topicArn, p.message, p.timestamp),
          SigningCertUrl: urls.signingCertUrl,
          UnsubscribeUrl: urls.unsubscribeUrl,
          MessageAttributes: deliveredAttributes(p.attributes),
        },
      },
    ],
  });
}

export function emailBody(p: Published, urls: Urls): string {
  return (
    `${p.message}\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n` +
    `${urls.unsubscribeUrl}\n\nPlease do not reply directly to this email. If you have any questions or comments regarding this email, please contact us at https://aws.amazon.com/support`
  );
}

export function confirmationEmail(
  topicArn: string,
  _displayName: string | undefined,
  confirmUrl: string,
): { subject: string; body: string } {
  return {
    subject: 'AWS Notification - Subscription Confirmation',
    body:
      `You have chosen to subscribe to the topic: \n${topicArn}\n\n` +
      `To confirm this subscription, click or visit the link below (If this was in error no action is necessary): \n` +
      `Confirm subscription\n${confirmUrl}\n\n` +
      'Please do not reply directly to this email. If you wish to remove yourself from receiving all future SNS subscription confirmation requests please send an email to sns-opt-out',
  };
}
