/**
 * sns_test_script.py, in TypeScript: publish a test message straight to the notification topic and
 * read it back from the topic's SQS subscription. Proves SNS -> SQS without the table or the Lambda.
 *
 *   npm run sns-test -w @eddy-pipelines/message-notifications
 */
import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig, describeTarget, isMain, resolveTarget, type Target } from '../../shared/target.ts';
import { resolveResources } from './resources.ts';

export async function snsRoundTrip(target: Target = resolveTarget(), timeoutMs = 20_000, env = process.env) {
  const { topicArn, queueUrl } = await resolveResources(target, env);
  const sns = new SNSClient(clientConfig(target));
  const sqs = new SQSClient(clientConfig(target));
  const marker = `sns-test-${randomUUID()}`;
  try {
    const published = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: 'SNS test message',
        Message: JSON.stringify({ type: 'SNS_TEST', marker, sentAt: new Date().toISOString() }),
      }),
    );
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
      );
      for (const m of r.Messages ?? []) {
        const envelope = JSON.parse(m.Body ?? '{}');
        if (String(envelope.Message ?? '').includes(marker)) {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
          return { topicArn, queueUrl, messageId: published.MessageId!, envelope };
        }
      }
    }
    throw new Error(`the test message did not reach ${queueUrl} within ${timeoutMs / 1000}s`);
  } finally {
    sns.destroy();
    sqs.destroy();
  }
}

if (isMain(import.meta.url)) {
  const target = resolveTarget();
  console.log(`SNS test (${describeTarget(target)})`);
  snsRoundTrip(target).then(
    (r) => {
      console.log(`  published ${r.messageId} to ${r.topicArn}`);
      console.log(`  received it from ${r.queueUrl}: ${r.envelope.Type} "${r.envelope.Subject}"`);
      console.log('SNS -> SQS works.');
    },
    (e) => {
      console.error(`sns-test failed: ${e instanceof Error ? e.message : e}`);
      process.exit(1);
    },
  );
}
