// FIFO queues: group ordering, one in-flight batch per group, deduplication windows, sequence numbers.
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Eddy, startEddy, VirtualClock } from '../src/index.ts';

let eddy: Eddy;
let sqs: SQSClient;
let clock: VirtualClock;
beforeAll(async () => {
  clock = new VirtualClock(Date.UTC(2026, 0, 1));
  eddy = await startEddy({ port: 0, memory: true, clock });
  sqs = new SQSClient({
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});
afterAll(async () => {
  sqs.destroy();
  await eddy.stop();
});
beforeEach(() => eddy.reset());

const fifo = async (name: string, extra: Record<string, string> = {}) =>
  (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true', ...extra } }))).QueueUrl!;
const receive = (QueueUrl: string, n = 10, extra: Record<string, unknown> = {}) =>
  sqs
    .send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: n, MessageSystemAttributeNames: ['All'], ...extra }),
    )
    .then((r) => r.Messages ?? []);

describe('FIFO', () => {
  it('requires .fifo names and MessageGroupId; refuses per-message delay', async () => {
    await expect(fifo('nosuffix')).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    const url = await fifo('a.fifo', { ContentBasedDeduplication: 'true' });
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }))).rejects.toMatchObject({
      name: 'MissingParameter',
      message: 'The request must contain the parameter MessageGroupId.',
    });
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', MessageGroupId: 'g', DelaySeconds: 5 })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
    const plain = await fifo('b.fifo');
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: plain, MessageBody: 'x', MessageGroupId: 'g' })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message:
        'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
    });
    const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })))
      .Attributes!;
    expect(attrs).toMatchObject({
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
      DeduplicationScope: 'queue',
      FifoThroughputLimit: 'perQueue',
    });
  });

  it('keeps order within a group and locks a group while a batch is in flight', async () => {
    const url = await fifo('o.fifo', { ContentBasedDeduplication: 'true', VisibilityTimeout: '30' });
    const seqs: string[] = [];
    for (const [g, b] of [
      ['g1', '1a'],
      ['g2', '2a'],
      ['g1', '1b'],
      ['g1', '1c'],
      ['g2', '2b'],
    ]) {
      const r = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: b, MessageGroupId: g }));
      expect(r.SequenceNumber).toMatch(/^\d{20}$/);
      seqs.push(r.SequenceNumber!);
    }
    expect([...seqs].sort()).toEqual(seqs);
    const first = await receive(url, 2);
    expect(first.map((m) => m.Body)).toEqual(['1a', '1b']);
    expect(first[0].Attributes).toMatchObject({ MessageGroupId: 'g1', SequenceNumber: seqs[0] });
    // g1 is locked while 1a/1b are in flight: only g2 comes next.
    const second = await receive(url, 10);
    expect(second.map((m) => m.Body)).toEqual(['2a', '2b']);
    expect(await receive(url)).toEqual([]);
    // Deleting 1a alone keeps g1 locked (1b is in flight).
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first[0].ReceiptHandle! }));
    expect(await receive(url)).toEqual([]);
    // Visibility runs out: 1b comes back before 1c.
    await clock.advance(30_000);
    const again = (await receive(url, 10)).map((m) => m.Body!);
    expect(again.filter((b) => b.startsWith('1'))).toEqual(['1b', '1c']);
    expect(again.filter((b) => b.startsWith('2'))).toEqual(['2a', '2b']);
  });

  it('deduplicates by content and by id for 5 minutes', async () => {
    const url = await fifo('d.fifo', { ContentBasedDeduplication: 'true' });
    const a = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'same', MessageGroupId: 'g' }));
    const b = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'same', MessageGroupId: 'g' }));
    expect(b.MessageId).toBe(a.MessageId);
    const c = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'other',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'id1',
      }),
    );
    const d = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'different body',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'id1',
      }),
    );
    expect(d.MessageId).toBe(c.MessageId);
    let msgs = await receive(url);
    expect(msgs.map((m) => m.Body)).toEqual(['same', 'other']);
    expect(msgs[0].Attributes!.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    for (const m of msgs) await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
    await clock.advance(4 * 60_000);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'same', MessageGroupId: 'g' }));
    expect(await receive(url)).toEqual([]);
    await clock.advance(60_000);
    const e = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'same', MessageGroupId: 'g' }));
    expect(e.MessageId).not.toBe(a.MessageId);
    msgs = await receive(url);
    expect(msgs.map((m) => m.Body)).toEqual(['same']);
  });

  it('batch sends keep order; ReceiveRequestAttemptId returns the same batch on retry', async () => {
    const url = await fifo('b.fifo', { ContentBasedDeduplication: 'true' });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: ['m1', 'm2', 'm3'].map((b, i) => ({ Id: `e${i}`, MessageBody: b, MessageGroupId: 'g' })),
      }),
    );
    const r1 = await receive(url, 2, { ReceiveRequestAttemptId: 'try-1' });
    const r2 = await receive(url, 2, { ReceiveRequestAttemptId: 'try-1' });
    expect(r2.map((m) => m.MessageId)).toEqual(r1.map((m) => m.MessageId));
    expect(r1.map((m) => m.Body)).toEqual(['m1', 'm2']);
  });

  it('redrives to a FIFO DLQ keeping the group', async () => {
    const dlq = await fifo('x-dlq.fifo');
    const url = await fifo('x.fifo', {
      ContentBasedDeduplication: 'true',
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:x-dlq.fifo',
        maxReceiveCount: 1,
      }),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'bad', MessageGroupId: 'g' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'good', MessageGroupId: 'g' }));
    expect((await receive(url, 1)).map((m) => m.Body)).toEqual(['bad']);
    await clock.advance(1_000);
    expect((await receive(url, 1)).map((m) => m.Body)).toEqual(['good']);
    const d = await receive(dlq);
    expect(d.map((m) => [m.Body, m.Attributes!.MessageGroupId])).toEqual([['bad', 'g']]);
  });
});
