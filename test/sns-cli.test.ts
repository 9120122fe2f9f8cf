// The `aws sns` / `aws sqs` CLI commands from the seeds (JSON protocol for SQS), against an in-process Eddy (skipped visibly without `aws`).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Eddy, startEddy } from '../src/index.ts';

const run = promisify(execFile);
const hasAws = await run('aws', ['--version']).then(
  () => true,
  () => false,
);
if (!hasAws) console.warn('SKIPPED: the `aws` CLI is not installed; CLI tests for SNS do not run');

let eddy: Eddy;
beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, logLevel: 'silent' });
});
afterAll(() => eddy.stop());

const aws = async (...args: string[]) => {
  const { stdout } = await run(
    'aws',
    ['--endpoint-url', eddy.endpoint, '--region', 'us-east-1', '--output', 'json', ...args],
    {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_PAGER: '' },
    },
  );
  return stdout.trim() ? JSON.parse(stdout) : {};
};

describe.skipIf(!hasAws)('aws sns / aws sqs CLI', () => {
  it('runs the seed commands', async () => {
    // Independent commands run side by side (each `aws` start costs a second or two).
    const [{ TopicArn }, { QueueUrl }] = await Promise.all([
      aws('sns', 'create-topic', '--name', 'cli-topic'),
      aws('sqs', 'create-queue', '--queue-name', 'cli-sub'),
    ]);
    const arn = `arn:aws:sqs:us-east-1:000000000000:cli-sub`;
    await Promise.all([
      aws('sns', 'subscribe', '--topic-arn', TopicArn, '--protocol', 'sqs', '--notification-endpoint', arn),
      aws(
        'sns',
        'subscribe',
        '--topic-arn',
        TopicArn,
        '--protocol',
        'email',
        '--notification-endpoint',
        'me@example.com',
      ),
    ]);
    const [subs, attrs, pub] = await Promise.all([
      aws('sns', 'list-subscriptions-by-topic', '--topic-arn', TopicArn),
      aws('sns', 'get-topic-attributes', '--topic-arn', TopicArn),
      aws(
        'sns',
        'publish',
        '--topic-arn',
        TopicArn,
        '--message',
        'from cli',
        '--message-attributes',
        'k={DataType=String,StringValue=v}',
      ),
    ]);
    expect(subs.Subscriptions.map((s: any) => [s.Protocol, s.SubscriptionArn === 'PendingConfirmation'])).toEqual(
      expect.arrayContaining([
        ['sqs', false],
        ['email', true],
      ]),
    );
    expect(attrs.Attributes).toMatchObject({ TopicArn, SubscriptionsConfirmed: '1', SubscriptionsPending: '1' });
    expect(pub.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const depth = await aws(
      'sqs',
      'get-queue-attributes',
      '--queue-url',
      QueueUrl,
      '--attribute-names',
      'ApproximateNumberOfMessages',
    );
    expect(depth).toEqual({ Attributes: { ApproximateNumberOfMessages: '1' } });
    const got = await aws('sqs', 'receive-message', '--queue-url', QueueUrl);
    expect(JSON.parse(got.Messages[0].Body)).toMatchObject({
      Message: 'from cli',
      MessageAttributes: { k: { Type: 'String', Value: 'v' } },
    });
  }, 60_000);
});
