/**
 * Event source mappings on SQS, end to end with real handler processes: the event shape, AWS's
 * SQS-specific validation, partial batch failures by messageId, visibility timeouts and redrive to
 * the dead-letter queue, FIFO order per message group, filters (dropped messages deleted), and
 * ScalingConfig.MaximumConcurrency.
 */
import { CreateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hub, type Json, Kit } from './esm-helpers.ts';

const hub = new Hub();
/** Function timeout (s): the virtual clock moves while handlers cold-start, so keep it well above a few steps. */
const FN_TIMEOUT = 120;
const STEP = 250;
const kit = new Kit(hub);
beforeAll(async () => {
  await hub.start();
  await kit.start();
});
afterAll(async () => {
  await kit.stop();
  await hub.stop();
});

const bodies = (e: Json): string[] => e.Records.map((r: Json) => r.body);
const send = (url: string, body: string, extra: Record<string, unknown> = {}) =>
  kit.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, ...extra }));
const counts = async (url: string) => {
  const a = await kit.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  return (
    Number(a.Attributes!.ApproximateNumberOfMessages) + Number(a.Attributes!.ApproximateNumberOfMessagesNotVisible)
  );
};
const err = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return { name: (e as Error).name, message: (e as Error).message };
  }
  throw new Error('expected an error');
};

describe('SQS → Lambda', () => {
  it('refuses what AWS refuses for SQS sources', async () => {
    const q = await kit.queue('val-q');
    const fifo = await kit.queue('val-q.fifo', { FifoQueue: 'true' });
    await kit.fn('sqs-val', undefined, {}, 30);
    const create = (x: Record<string, unknown>) =>
      err(
        kit.lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'sqs-val', EventSourceArn: q.arn, ...x })),
      );
    expect(await create({ BatchSize: 11 })).toEqual({
      name: 'InvalidParameterValueException',
      message: 'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
    });
    expect((await create({ StartingPosition: 'LATEST' })).name).toBe('InvalidParameterValueException');
    expect((await create({ ParallelizationFactor: 2 })).message).toBe(
      'Unsupported ParallelizationFactor parameter for SQS event source mapping.',
    );
    expect(
      (
        await err(
          kit.lambda.send(
            new CreateEventSourceMappingCommand({
              FunctionName: 'sqs-val',
              EventSourceArn: fifo.arn,
              BatchSize: 11,
              MaximumBatchingWindowInSeconds: 1,
            }),
          ),
        )
      ).name,
    ).toBe('InvalidParameterValueException');
    await kit.fn('sqs-slow', undefined, {}, 60);
    expect(
      await err(
        kit.lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'sqs-slow', EventSourceArn: q.arn })),
      ),
    ).toEqual({
      name: 'InvalidParameterValueException',
      message: 'Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds',
    });
    const ok = await kit.mapping({
      FunctionName: 'sqs-val',
      EventSourceArn: q.arn,
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
    });
    expect(ok).toMatchObject({
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      State: 'Enabled',
      FunctionResponseTypes: [],
    });
    expect(ok.StartingPosition).toBeUndefined();
    expect(ok.ParallelizationFactor).toBeUndefined();
  });

  it('delivers the exact SQS event shape and deletes the batch on success', async () => {
    const q = await kit.queue('shape-q', { VisibilityTimeout: '120' });
    await kit.fn('sqs-shape', undefined, {}, FN_TIMEOUT);
    await kit.mapping({ FunctionName: 'sqs-shape', EventSourceArn: q.arn, BatchSize: 10 });
    await send(q.url, 'hello', { MessageAttributes: { color: { DataType: 'String', StringValue: 'blue' } } });
    await hub.count('sqs-shape', 1);
    const r = hub.calls['sqs-shape'][0].Records[0];
    expect(Object.keys(r)).toEqual([
      'messageId',
      'receiptHandle',
      'body',
      'attributes',
      'messageAttributes',
      'md5OfMessageAttributes',
      'md5OfBody',
      'eventSource',
      'eventSourceARN',
      'awsRegion',
    ]);
    expect(r).toMatchObject({
      body: 'hello',
      md5OfBody: '5d41402abc4b2a76b9719d911017c592',
      eventSource: 'aws:sqs',
      eventSourceARN: q.arn,
      awsRegion: 'us-east-1',
      messageAttributes: {
        color: { stringValue: 'blue', stringListValues: [], binaryListValues: [], dataType: 'String' },
      },
      attributes: { ApproximateReceiveCount: '1' },
    });
    expect(r.md5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(r.attributes.SentTimestamp).toMatch(/^\d+$/);
    expect(r.attributes.ApproximateFirstReceiveTimestamp).toMatch(/^\d+$/);
    await kit.advanceUntil(
      (async () => {
        while ((await counts(q.url)) > 0) await new Promise((res) => setTimeout(res, 5));
      })(),
      STEP,
    );
  });

  it('ReportBatchItemFailures by messageId: failures reappear after the visibility timeout, then redrive to the DLQ', async () => {
    const dlq = await kit.queue('redrive-dlq');
    const q = await kit.queue('redrive-q', {
      VisibilityTimeout: '120',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
    });
    await kit.fn('sqs-partial', undefined, {}, FN_TIMEOUT);
    hub.behaviours['sqs-partial'] = (e) => ({
      result: {
        batchItemFailures: e.Records.filter((r: Json) => r.body === 'bad').map((r: Json) => ({
          itemIdentifier: r.messageId,
        })),
      },
    });
    await kit.mapping({
      FunctionName: 'sqs-partial',
      EventSourceArn: q.arn,
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    for (const b of ['good1', 'bad', 'good2']) await send(q.url, b);
    await kit.advanceUntil(
      hub.until('sqs-partial', (c) => c.flatMap(bodies).filter((b: string) => b === 'bad').length >= 2),
      STEP,
    );
    const [dead] = await kit.advanceUntil(
      (async () => {
        const { ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
        for (;;) {
          const r = await kit.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, WaitTimeSeconds: 20 }));
          if (r.Messages?.length) return r.Messages;
        }
      })(),
      STEP,
    );
    expect(dead.Body).toBe('bad');
    const all = hub.calls['sqs-partial'].flatMap(bodies);
    expect(all.filter((b: string) => b.startsWith('good')).sort()).toEqual(['good1', 'good2']);
    expect(all.filter((b: string) => b === 'bad')).toHaveLength(2);
    const second = hub.calls['sqs-partial'].flatMap((e: Json) => e.Records).filter((r: Json) => r.body === 'bad')[1];
    expect(second.attributes.ApproximateReceiveCount).toBe('2');
  });

  it('FIFO: order per message group; a failure holds back the rest of its group only', async () => {
    const q = await kit.queue('order-q.fifo', {
      FifoQueue: 'true',
      VisibilityTimeout: '120',
      ContentBasedDeduplication: 'true',
    });
    await kit.fn('sqs-fifo', undefined, {}, FN_TIMEOUT);
    let failedOnce = false;
    hub.behaviours['sqs-fifo'] = (e) => {
      const b3 = e.Records.find((r: Json) => r.body === 'b3');
      if (b3 && !failedOnce) {
        failedOnce = true;
        return { result: { batchItemFailures: [{ itemIdentifier: b3.messageId }] } };
      }
      return undefined;
    };
    await kit.mapping({
      FunctionName: 'sqs-fifo',
      EventSourceArn: q.arn,
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    for (let i = 1; i <= 5; i++) {
      await send(q.url, `a${i}`, { MessageGroupId: 'A' });
      await send(q.url, `b${i}`, { MessageGroupId: 'B' });
    }
    await kit.advanceUntil(
      hub.until('sqs-fifo', (c) => c.flatMap(bodies).filter((b: string) => b === 'b5').length >= 2),
      STEP,
    );
    // What each group saw, in order: A straight through; B up to b3, then b3..b5 again after the timeout.
    const seen = hub.calls['sqs-fifo'].flatMap(bodies);
    expect(seen.filter((b: string) => b.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(seen.filter((b: string) => b.startsWith('b'))).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b3', 'b4', 'b5']);
  });

  it('FilterCriteria on the body: filtered-out messages are deleted, never invoked', async () => {
    const q = await kit.queue('filter-q', { VisibilityTimeout: '120' });
    await kit.fn('sqs-filter', undefined, {}, FN_TIMEOUT);
    await kit.mapping({
      FunctionName: 'sqs-filter',
      EventSourceArn: q.arn,
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ body: { type: ['order'] } }) }] },
    });
    await send(q.url, JSON.stringify({ type: 'ping' }));
    await send(q.url, 'plain text');
    await send(q.url, JSON.stringify({ type: 'order', id: 7 }));
    await hub.count('sqs-filter', 1);
    await kit.advanceUntil(
      (async () => {
        while ((await counts(q.url)) > 0) await new Promise((res) => setTimeout(res, 5));
      })(),
      STEP,
    );
    expect(hub.calls['sqs-filter'].flatMap(bodies)).toEqual([JSON.stringify({ type: 'order', id: 7 })]);
  });

  it('ScalingConfig.MaximumConcurrency caps concurrent invocations', async () => {
    const q = await kit.queue('conc-q', { VisibilityTimeout: '120' });
    await kit.fn('sqs-conc', undefined, {}, FN_TIMEOUT);
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    hub.behaviours['sqs-conc'] = () => ({ hold: held });
    const m = await kit.mapping({
      FunctionName: 'sqs-conc',
      EventSourceArn: q.arn,
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(m.ScalingConfig).toEqual({ MaximumConcurrency: 2 });
    for (let i = 0; i < 6; i++) await send(q.url, `m${i}`);
    await hub.count('sqs-conc', 2);
    // Give any extra poller every chance to show up before releasing.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(hub.calls['sqs-conc']).toHaveLength(2);
    hub.behaviours['sqs-conc'] = () => undefined;
    release();
    await hub.count('sqs-conc', 6);
    expect(hub.calls['sqs-conc'].flatMap(bodies).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  });
});
