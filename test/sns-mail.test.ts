// `eddy mail` prints the mailbox of a running Eddy, including the confirmation link that works.
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mailCommand } from '../src/cli/mail.ts';
import { type Eddy, startEddy } from '../src/index.ts';

let eddy: Eddy;
beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, logLevel: 'silent' });
});
afterAll(() => eddy.stop());

it('eddy mail prints confirmations and notifications', async () => {
  const sns = new SNSClient({
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'seed-alerts' }));
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: 'me@example.com' }));
  let out = '';
  expect(await mailCommand(['--endpoint', eddy.endpoint], (s) => (out += s))).toBe(0);
  expect(out).toContain('To:      me@example.com');
  expect(out).toContain('Subject: AWS Notification - Subscription Confirmation');
  const link = /Confirm: (\S+)/.exec(out)![1];
  expect((await fetch(link)).status).toBe(200);
  await sns.send(new PublishCommand({ TopicArn, Message: 'disk full', Subject: 'Alarm' }));
  out = '';
  await mailCommand(['--endpoint', eddy.endpoint, '--to', 'me@example.com'], (s) => (out += s));
  expect(out).toContain('Subject: Alarm');
  expect(out).toContain('disk full');
  out = '';
  await mailCommand(['--endpoint', eddy.endpoint, '--clear'], (s) => (out += s));
  await mailCommand(['--endpoint', eddy.endpoint], (s) => (out += s));
  expect(out).toContain('The mailbox is empty.');
  sns.destroy();
});
