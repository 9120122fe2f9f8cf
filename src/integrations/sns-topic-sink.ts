import type { RequestContext } from '../core/context.ts';
import type { ServiceImpl } from '../gateway/service.ts';
import type { Sink } from './outbox.ts';

/**
 * SNS topic targets (`arn:aws:sns:<region>:<account>:<topic>`): CloudWatch alarm actions and other
 * producers that notify a topic. The row is published with SNS's own Publish in the transaction that
 * clears it, so the topic's fan-out rows (one per subscription) commit with the removal.
 */
export function snsTopicSink(sns: ServiceImpl): Sink {
  return {
    accepts: (t) => /^arn:aws[\w-]*:sns:/.test(t),
    mode: 'sync',
    retryDelaysMs: [1_000, 5_000, 20_000],
    deliver(target, m) {
      const [, , , region, accountId] = target.split(':');
      const ctx = { accountId, region, service: 'sns', operation: 'Publish', requestId: 'delivery' } as RequestContext;
      const input: Record<string, unknown> = { TopicArn: target, Message: m.body };
      if (m.subject) input.Subject = m.subject;
      if (m.messageAttributes) input.MessageAttributes = m.messageAttributes;
      if (m.groupId) input.MessageGroupId = m.groupId;
      if (m.dedupId) input.MessageDeduplicationId = m.dedupId;
      const r = sns.operations.Publish(input, ctx);
      if (r instanceof Promise) throw new Error('SNS Publish must be synchronous for the outbox');
    },
  };
}
