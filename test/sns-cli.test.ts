// The `aws sns` CLI commands from the seeds, against an in-process Eddy (skipped visibly without `aws`).
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

describe.skipIf(!hasAws)('aws sns CLI', () => {
  it('runs the seed commands', async () => {
    const { TopicArn } = await aws('sns', 'create-topic', '--name', 'cli-topic');
    const { QueueUrl } = await aws('sqs', 'create-queue', '--queue-name', 'cli-sub');
    const arn = `arn:aws:sqs:us-east-1:000000000000:cli-sub`;
    await aws('sns', 'subscribe', '--topic-arn', TopicArn, '--protocol', 'sqs', '--notification-endpoint', arn);
    await aws(
      'sns',
      'subscribe',
      '--topic-arn',
      TopicArn,
      '--protocol',
      'email',
      '--notification-endpoint',
      'me@example.com',
    );
    const subs = await aws('sns', 'list-subscriptions-by-topic', '--topic-arn', TopicArn);
    expect(subs.Subscriptions.map((s: any) => [s.Protocol, s.SubscriptionArn === 'PendingConfirmation'])).toEqual(
      expect.arrayContaining([
        ['sqs', false],
        ['email', true],
      ]),
    );
    const attrs = await aws('sns', 'get-topic-attributes', '--topic-arn', TopicArn);
    expect(attrs.Attributes).toMatchObject({ TopicArn, SubscriptionsConfirmed: '1', SubscriptionsPending: '1' });
    const pub = await aws(
      'sns',
      'publish',
      '--topic-arn',
      TopicArn,
      '--message',
      'from cli',
      '--message-attributes',
      'k={DataType=String,StringValue=v}',
    );
    expect(pub.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const got = await aws('sqs', 'receive-message', '--queue-url', QueueUrl);
    expect(JSON.parse(got.Messages[0].Body)).toMatchObject({
      Message: 'from cli',
      MessageAttributes: { k: { Type: 'String', Value: 'v' } },
    });
  }, 30_000);
});
