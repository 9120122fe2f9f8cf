/** Which changes notify, how they are audited, and which records are poison: pure functions, no I/O. */
import { describe, expect, it } from 'vitest';
import { Logger, Metrics, processStreamBatch } from '../../shared/powertools.ts';
import { PoisonRecordError } from '../../shared/stream-event.ts';
import {
  auditKey,
  auditRecord,
  DEFAULT_SECURITY_ACTIVITY_TYPES,
  decideNotification,
  notificationPayload,
  parseChange,
} from '../src/change.ts';
import { activity, streamRecord } from './events.ts';

const security = new Set<string>(DEFAULT_SECURITY_ACTIVITY_TYPES);
const login = activity('u1', 'a1', { ActivityType: { S: 'LOGIN' }, Timestamp: { N: '1795312433' } });
const decide = (r: ReturnType<typeof streamRecord>) => decideNotification(parseChange(r), security);

describe('notification rules', () => {
  it('INSERT: only security-relevant activity types notify', () => {
    expect(decide(streamRecord('INSERT', { new: login }))).toBeUndefined();
    const failed = activity('u1', 'a2', { ActivityType: { S: 'LOGIN_FAILED' } });
    expect(decide(streamRecord('INSERT', { new: failed }))).toMatchObject({
      reason: 'SECURITY_ACTIVITY',
      severity: 'MEDIUM',
    });
    // Case-insensitive on the configured list.
    const lower = activity('u1', 'a3', { ActivityType: { S: 'password_change' } });
    expect(decide(streamRecord('INSERT', { new: lower }))?.reason).toBe('SECURITY_ACTIVITY');
  });

  it('MODIFY: a rewritten ActivityType or any change to a security record notifies; enrichment does not', () => {
    const logout = { ...login, ActivityType: { S: 'LOGOUT' } };
    const d = decide(streamRecord('MODIFY', { old: login, new: logout }));
    expect(d).toMatchObject({ reason: 'ACTIVITY_TYPE_CHANGED', severity: 'HIGH' });
    expect(d?.summary).toContain('from LOGIN to LOGOUT');
    const enriched = { ...login, Country: { S: 'DE' } };
    expect(decide(streamRecord('MODIFY', { old: login, new: enriched }))).toBeUndefined();
    const reset = activity('u1', 'a4', { ActivityType: { S: 'PASSWORD_RESET' }, IPAddress: { S: '10.0.0.1' } });
    const resetMoved = { ...reset, IPAddress: { S: '10.0.0.2' } };
    expect(decide(streamRecord('MODIFY', { old: reset, new: resetMoved }))).toMatchObject({
      reason: 'SECURITY_ACTIVITY_MODIFIED',
    });
  });

  it('REMOVE: deletions by callers notify, TTL expiry is audit-only', () => {
    expect(decide(streamRecord('REMOVE', { old: login }))).toMatchObject({
      reason: 'ACTIVITY_REMOVED',
      severity: 'HIGH',
    });
    const ttl = parseChange(streamRecord('REMOVE', { old: login }, { ttl: true }));
    expect(ttl.expiredByTtl).toBe(true);
    expect(decideNotification(ttl, security)).toBeUndefined();
  });
});

describe('parsing', () => {
  it('computes changed attributes independent of map order', () => {
    const a = activity('u1', 'a1', { Meta: { M: { x: { S: '1' }, y: { N: '2' } } }, Tags: { SS: ['a', 'b'] } });
    const b = activity('u1', 'a1', {
      Meta: { M: { y: { N: '2' }, x: { S: '1' } } },
      Tags: { SS: ['a', 'b'] },
      New: { BOOL: true },
    });
    expect(parseChange(streamRecord('MODIFY', { old: a, new: b })).changedAttributes).toEqual(['New']);
  });

  it('rejects records no retry can fix as poison', () => {
    const bad = (r: ReturnType<typeof streamRecord>) => expect(() => parseChange(r)).toThrow(PoisonRecordError);
    bad(streamRecord('INSERT', { new: activity('u1', 'a1', { ActivityType: { N: '1' } }) }));
    bad(streamRecord('INSERT', { new: activity('u1', 'a1', { ActivityType: { S: ' ' } }) }));
    const noImage = streamRecord('INSERT', { new: login });
    delete noImage.dynamodb!.NewImage;
    bad(noImage);
    const noKey = streamRecord('INSERT', { new: login });
    noKey.dynamodb!.Keys = { UserId: { S: 'u1' } };
    bad(noKey);
    bad({ ...streamRecord('INSERT', { new: login }), eventName: 'UPSERT' as never });
  });
});

describe('audit records', () => {
  it('are keyed by the change time under audit-logs/YYYY/MM/DD and repeat the same key on retry', () => {
    const record = streamRecord('INSERT', { new: login });
    const change = parseChange(record);
    const key = auditKey(change, 'audit-logs');
    expect(key).toBe(`audit-logs/2026/11/22/015353Z-INSERT-${record.eventID}.json`);
    expect(auditKey(parseChange(record), 'audit-logs/')).toBe(key);
    const audit = auditRecord(change, undefined, new Date('2026-11-22T02:00:00Z'));
    expect(audit).toMatchObject({
      eventName: 'INSERT',
      eventTime: '2026-11-22T01:53:53.000Z',
      tableName: 'user-activity',
      keys: { UserId: 'u1', ActivityId: 'a1' },
      newImage: { UserId: 'u1', ActivityId: 'a1', ActivityType: 'LOGIN', Timestamp: 1795312433 },
      oldImage: null,
      notification: null,
    });
  });

  it('notification subjects are SNS-safe', () => {
    const odd = activity('ü'.repeat(200), 'a1', { ActivityType: { S: 'LOGIN_FAILED' } });
    const change = parseChange(streamRecord('INSERT', { new: odd }));
    const { subject, text, json } = notificationPayload(change, decideNotification(change, security)!, 's3://b/k');
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(text).toContain('s3://b/k');
    expect(json.auditRecord).toBe('s3://b/k');
  });
});

describe('powertools', () => {
  it('stops at the first failure and reports its sequence number', async () => {
    const records = [1, 2, 3, 4].map((n) => ({ n, dynamodb: { SequenceNumber: String(n) } }));
    const seen: number[] = [];
    const out = await processStreamBatch(
      records,
      async (r) => {
        if (r.n === 2) throw new Error('boom');
        seen.push(r.n);
      },
      () => {},
    );
    expect(seen).toEqual([1]);
    expect(out).toEqual({
      response: { batchItemFailures: [{ itemIdentifier: '2' }] },
      processed: 1,
      failed: 1,
      deferred: 2,
    });
    const noSeq = await processStreamBatch(
      [{}],
      async () => Promise.reject(new Error('x')),
      () => {},
    );
    expect(noSeq.response.batchItemFailures).toEqual([{ itemIdentifier: '' }]);
  });

  it('logs structured JSON and writes EMF metrics', () => {
    const lines: string[] = [];
    const logger = new Logger({ serviceName: 'svc', level: 'INFO', sink: (l) => lines.push(l) });
    logger.addContext({ awsRequestId: 'r1', functionName: 'f', memoryLimitInMB: '256' });
    logger.debug('hidden');
    logger.error('bad', { error: new Error('why'), id: 7 });
    const metrics = new Metrics({ namespace: 'NS', serviceName: 'svc', sink: (l) => lines.push(l) });
    metrics.add('ProcessedEvents', 'Count', 2);
    metrics.add('ProcessedEvents', 'Count', 1);
    metrics.add('FailedEvents', 'Count', 0);
    metrics.flush(1000);
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'ERROR',
      message: 'bad',
      service: 'svc',
      function_request_id: 'r1',
      cold_start: true,
      id: 7,
      error: { name: 'Error', message: 'why' },
    });
    expect(JSON.parse(lines[1])).toEqual({
      _aws: {
        Timestamp: 1000,
        CloudWatchMetrics: [
          {
            Namespace: 'NS',
            Dimensions: [['service']],
            Metrics: [
              { Name: 'ProcessedEvents', Unit: 'Count' },
              { Name: 'FailedEvents', Unit: 'Count' },
            ],
          },
        ],
      },
      service: 'svc',
      ProcessedEvents: 3,
      FailedEvents: 0,
    });
  });
});
