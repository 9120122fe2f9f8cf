import { describe, expect, it } from 'vitest';
import { esmArn, sourceKind } from './control.ts';
import { itemFailures } from './queue-worker.ts';
import { backoffMs, batchItemFailures } from './stream-worker.ts';

const recs = ['100', '101', '102'].map((s) => ({ sequenceNumber: `100000000000000000${s}` }));
const seq = (i: number) => recs[i].sequenceNumber;

describe('stream ReportBatchItemFailures', () => {
  it('treats empty and null replies as success', () => {
    for (const r of [null, undefined, '', {}, { batchItemFailures: null }, { batchItemFailures: [] }])
      expect(batchItemFailures(r, recs)).toBeUndefined();
  });
  it('checkpoints at the lowest reported sequence number', () => {
    expect(
      batchItemFailures({ batchItemFailures: [{ itemIdentifier: seq(2) }, { itemIdentifier: seq(1) }] }, recs),
    ).toBe(1);
    expect(batchItemFailures({ batchItemFailures: [{ itemIdentifier: seq(0) }] }, recs)).toBe(0);
  });
  it('fails the whole batch on a malformed reply', () => {
    for (const r of [
      'text',
      [1],
      { batchItemFailures: 'x' },
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{ itemIdentifier: null }] },
      { batchItemFailures: [{ wrongKey: seq(0) }] },
      { batchItemFailures: [{ itemIdentifier: '999' }] },
      { batchItemFailures: [null] },
    ])
      expect(batchItemFailures(r, recs)).toBe('malformed');
  });
});

describe('SQS ReportBatchItemFailures', () => {
  const ids = ['a', 'b', 'c'];
  const reply = (v: unknown) => Buffer.from(JSON.stringify(v));
  it('deletes all but the reported messages; malformed means none', () => {
    expect(itemFailures(undefined, ids)).toEqual(new Set());
    expect(itemFailures(reply(null), ids)).toEqual(new Set());
    expect(itemFailures(reply({ batchItemFailures: [] }), ids)).toEqual(new Set());
    expect(itemFailures(reply({ batchItemFailures: [{ itemIdentifier: 'b' }] }), ids)).toEqual(new Set(['b']));
    expect(itemFailures(reply({ batchItemFailures: [{ itemIdentifier: 'zzz' }] }), ids)).toBe('all');
    expect(itemFailures(reply({ batchItemFailures: [{ itemIdentifier: '' }] }), ids)).toBe('all');
    expect(itemFailures(Buffer.from('not json'), ids)).toBe('all');
  });
});

describe('helpers', () => {
  it('classifies event source ARNs', () => {
    expect(sourceKind('arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000')).toBe(
      'dynamodb',
    );
    expect(sourceKind('arn:aws:sqs:us-east-1:000000000000:q')).toBe('sqs');
    expect(sourceKind('arn:aws:kinesis:us-east-1:000000000000:stream/s')).toBe('kinesis');
    expect(sourceKind('arn:aws:s3:::b')).toBeUndefined();
    expect(esmArn({ region: 'eu-west-1', accountId: '123456789012', uuid: 'u' })).toBe(
      'arn:aws:lambda:eu-west-1:123456789012:event-source-mapping:u',
    );
  });
  it('backs off 1 s doubling to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
});
