import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../core/clock.ts';
import { createLogger } from '../core/logger.ts';
import { openSqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { createMessaging } from './messaging.ts';

const ctx = (clock: VirtualClock) => ({
  requestId: 'r',
  accountId: '000000000000',
  region: 'us-east-1',
  service: 'x',
  operation: 'x',
  clock,
  endpoint: 'http://127.0.0.1:4566',
});
const tick = () => new Promise((r) => setImmediate(r));

function setup() {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const storage = openSqliteStorage({});
  const lines: string[] = [];
  const logger = createLogger('warn', (l) => lines.push(l));
  const m = createMessaging({ storage, clock, logger, endpoint: () => 'http://127.0.0.1:4566' });
  const sqsOps = m.services.sqs.operations;
  const snsOps = m.services.sns.operations;
  return { clock, storage, lines, m, sqsOps, snsOps };
}

describe('outbox', () => {
  it('delivers to SQS and to SNS topics (fan-out) in the transaction that clears the row', async () => {
    const { clock, storage, m, sqsOps, snsOps } = setup();
    sqsOps.CreateQueue({ QueueName: 'a' }, ctx(clock));
    sqsOps.CreateQueue({ QueueName: 'b' }, ctx(clock));
    const { TopicArn } = snsOps.CreateTopic({ Name: 't' }, ctx(clock)) as { TopicArn: string };
    snsOps.Subscribe(
      {
        TopicArn,
        Protocol: 'sqs',
        Endpoint: 'arn:aws:sqs:us-east-1:000000000000:b',
        Attributes: { RawMessageDelivery: 'true' },
      },
      ctx(clock),
    );
    storage.tx(() => {
      m.outbox.deliver('arn:aws:sqs:us-east-1:000000000000:a', {
        body: 'direct',
        messageAttributes: { k: { DataType: 'String', StringValue: 'v' } },
      });
      m.outbox.deliver(TopicArn, { body: 'via topic' });
    });
    expect(m.outbox.pending()).toBe(2);
    await tick();
    expect(m.outbox.pending()).toBe(0);
    expect(m.sqs.peek('arn:aws:sqs:us-east-1:000000000000:a')).toEqual([
      { messageId: expect.any(String), body: 'direct', attributes: { k: { DataType: 'String', StringValue: 'v' } } },
    ]);
    expect(m.sqs.peek('arn:aws:sqs:us-east-1:000000000000:b').map((x) => x.body)).toEqual(['via topic']);
    m.stop();
  });

  it('retries on the clock, then dead-letters; unknown targets are dropped with an error log', async () => {
    const { clock, storage, lines, m, sqsOps } = setup();
    sqsOps.CreateQueue({ QueueName: 'dlq' }, ctx(clock));
    storage.tx(() => {
      m.outbox.deliver('arn:aws:sqs:us-east-1:000000000000:missing', {
        body: 'x',
        deadLetterTarget: 'arn:aws:sqs:us-east-1:000000000000:dlq',
      });
      m.outbox.deliver('gopher://nowhere', { body: 'y' });
    });
    await tick();
    expect(m.outbox.pending()).toBe(1);
    expect(lines.join('')).toContain('no sink for target');
    for (const ms of [1_000, 5_000, 20_000]) {
      await clock.advance(ms);
      await tick();
    }
    expect(m.outbox.pending()).toBe(0);
    expect(m.sqs.peek('arn:aws:sqs:us-east-1:000000000000:dlq').map((x) => x.body)).toEqual(['x']);
    expect(lines.join('')).toContain('moved to dead-letter target');
    m.stop();
  });

  it('a row written in a rolled-back transaction is never delivered', async () => {
    const { clock, storage, m, sqsOps } = setup();
    sqsOps.CreateQueue({ QueueName: 'a' }, ctx(clock));
    expect(() =>
      storage.tx(() => {
        m.outbox.deliver('arn:aws:sqs:us-east-1:000000000000:a', { body: 'never' });
        throw new Error('abort');
      }),
    ).toThrow('abort');
    await tick();
    expect(m.sqs.peek('arn:aws:sqs:us-east-1:000000000000:a')).toEqual([]);
    m.stop();
  });
});
