// No message is lost between Publish and SQS delivery across a restart: the outbox row is written in
// the Publish transaction and delivered by the next process on the same data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { startEddy, VirtualClock } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'eddy-sns-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T0 = Date.UTC(2026, 0, 1);

describe('outbox across a restart', () => {
  it('delivers messages published before the restart', async () => {
    const creds = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    // Run 1: the target queue does not exist yet, so the delivery waits in the outbox (retry at +1 s).
    const a = await startEddy({ port: 0, dataDir: dir, clock: new VirtualClock(T0), logLevel: 'silent' });
    const sns1 = new SNSClient({ endpoint: a.endpoint, ...creds });
    const TopicArn = (await sns1.send(new CreateTopicCommand({ Name: 'durable' }))).TopicArn!;
    await sns1.send(
      new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: 'arn:aws:sqs:us-east-1:000000000000:later' }),
    );
    for (let i = 0; i < 5; i++) await sns1.send(new PublishCommand({ TopicArn, Message: `m${i}` }));
    sns1.destroy();
    await a.stop();

    // Run 2: same data dir, the queue appears; the drainer delivers every row.
    const b = await startEddy({ port: 0, dataDir: dir, clock: new VirtualClock(T0), logLevel: 'silent' });
    const sqs = new SQSClient({ endpoint: b.endpoint, ...creds });
    const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'later' }))).QueueUrl!;
    await (b.clock as VirtualClock).advance(1_000);
    await new Promise((r) => setTimeout(r, 20));
    const bodies: string[] = [];
    for (let i = 0; i < 3 && bodies.length < 5; i++) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
      for (const m of r.Messages ?? []) bodies.push(JSON.parse(m.Body!).Message);
    }
    expect(bodies.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    sqs.destroy();
    await b.stop();
  });
});
