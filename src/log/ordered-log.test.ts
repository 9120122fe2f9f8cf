import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../core/clock.ts';
import { openSqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import type { Storage } from '../storage/types.ts';
import { decodeIterator, encodeIterator, formatSequence, OrderedLogs, parseSequence } from './index.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
let storage: Storage;
let logs: OrderedLogs;

function setup(clock: VirtualClock) {
  storage = openSqliteStorage();
  logs = new OrderedLogs({ storage, clock, name: 't' });
  logs.start();
  return logs;
}

afterEach(() => {
  logs?.stop();
  storage?.close();
});

describe('sequence numbers', () => {
  it('are 21-digit strings whose order is numeric order and round-trip', () => {
    const a = formatSequence(0n);
    const b = formatSequence(41n);
    expect(a).toBe('100000000000000000000');
    expect(b).toHaveLength(21);
    expect(a < b).toBe(true);
    expect(parseSequence(b)).toBe(41n);
    expect(parseSequence('12')).toBeUndefined();
    expect(parseSequence('300000000000000499659')).toBeUndefined();
    expect(parseSequence('abc')).toBeUndefined();
  });
});

describe('iterators', () => {
  it('round-trip and reject tampering', () => {
    const tok = encodeIterator({ logId: 'arn:x|y', shardId: 's1', seq: 5n, issuedAt: 1234 });
    expect(decodeIterator(tok)).toEqual({ logId: 'arn:x|y', shardId: 's1', seq: 5n, issuedAt: 1234 });
    const raw = Buffer.from(tok, 'base64').toString().replace('|5|', '|6|');
    expect(decodeIterator(Buffer.from(raw).toString('base64'))).toBeUndefined();
    expect(decodeIterator('garbage')).toBeUndefined();
  });
});

describe('OrderedLogs', () => {
  it('appends with growing positions and reads in order', () => {
    const clock = new VirtualClock(T0);
    setup(clock);
    const meta = logs.create('L', T0, { retentionMs: 24 * H, rolloverMs: 4 * H, attrs: {} });
    expect(meta.shards).toHaveLength(1);
    expect(meta.shards[0].shardId).toMatch(/^shardId-\d{20}-[0-9a-f]{8}$/);
    const seqs = [1, 2, 3].map((i) => storage.tx(() => logs.append('L', `r${i}`, T0)!.seq));
    expect(seqs).toEqual([0n, 1n, 2n]);
    const rows = logs.read('L', meta.shards[0].shardId, 0n, 10);
    expect(rows.map((r) => r.data)).toEqual(['r1', 'r2', 'r3']);
    expect(logs.latest('L', meta.shards[0].shardId)).toBe(3n);
  });

  it('a rolled-back append leaves nothing behind', () => {
    const clock = new VirtualClock(T0);
    setup(clock);
    const meta = logs.create('L', T0, { retentionMs: 24 * H, rolloverMs: 4 * H, attrs: {} });
    expect(() =>
      storage.tx(() => {
        logs.append('L', 'x', T0);
        throw new Error('condition failed');
      }),
    ).toThrow();
    expect(logs.read('L', meta.shards[0].shardId, 0n, 10)).toEqual([]);
    expect(storage.tx(() => logs.append('L', 'y', T0)!.seq)).toBe(0n);
  });

  it('rolls the open shard over on the clock: closed parent, child after it, lineage kept', async () => {
    const clock = new VirtualClock(T0);
    setup(clock);
    logs.create('L', T0, { retentionMs: 24 * H, rolloverMs: 4 * H, attrs: {} });
    logs.append('L', 'a', T0);
    logs.append('L', 'b', T0);
    await clock.advance(4 * H);
    const m = logs.get('L')!;
    expect(m.shards).toHaveLength(2);
    const [p, c] = m.shards;
    expect(p.endSeq).toBe('1');
    expect(p.closedAt).toBe(T0 + 4 * H);
    expect(c.parents).toEqual([p.shardId]);
    expect(c.startSeq).toBe('2');
    expect(c.endSeq).toBeUndefined();
    expect(logs.append('L', 'c', clock.now())).toMatchObject({ shardId: c.shardId, seq: 2n });
  });

  it('after a long idle, a chain of empty shards keeps positions growing', () => {
    const clock = new VirtualClock(T0);
    setup(clock);
    logs.create('L', T0, { retentionMs: 24 * H, rolloverMs: 4 * H, attrs: {} });
    // No timers fire: the lazy path on append rolls the shards.
    const r = logs.append('L', 'x', T0 + 13 * H)!;
    const m = logs.get('L')!;
    expect(m.shards).toHaveLength(4);
    for (let i = 1; i < m.shards.length; i++) {
      expect(m.shards[i].parents).toEqual([m.shards[i - 1].shardId]);
      expect(BigInt(m.shards[i].startSeq)).toBeGreaterThan(BigInt(m.shards[i - 1].endSeq!));
    }
    expect(r.shardId).toBe(m.shards[3].shardId);
  });

  it('trims rows past retention on the clock and remembers how far', async () => {
    const clock = new VirtualClock(T0);
    setup(clock);
    const { shards } = logs.create('L', T0, { retentionMs: 24 * H, rolloverMs: null, attrs: {} });
    const sid = shards[0].shardId;
    logs.append('L', 'old', T0);
    await clock.advance(2 * H);
    logs.append('L', 'new', clock.now());
    await clock.advance(22 * H + 60_000);
    expect(logs.read('L', sid, 0n, 10).map((r) => r.data)).toEqual(['new']);
    expect(logs.get('L')!.shards[0].trimmedThrough).toBe('0');
    await clock.advance(3 * H);
    expect(logs.read('L', sid, 0n, 10)).toEqual([]);
    // Positions keep growing after everything was trimmed.
    expect(logs.append('L', 'later', clock.now())!.seq).toBe(2n);
  });

  it('reads apply retention exactly even before the sweep runs', () => {
    const clock = new VirtualClock(T0);
    setup(clock);
    const { shards } = logs.create('L', T0, { retentionMs: 24 * H, rolloverMs: null, attrs: {} });
    logs.append('L', 'a', T0);
    expect(logs.trimHorizon('L', shards[0].shardId, T0 + 24 * H - 1)).toBe(0n);
    expect(logs.trimHorizon('L', shards[0].shardId, T0 + 24 * H)).toBe(1n);
  });

  it('a closed log stays readable for its retention, then is deleted', async () => {
    const clock = new VirtualClock(T0);
    setup(clock);
    logs.create('L', T0, { retentionMs: 24 * H, rolloverMs: 4 * H, attrs: {} });
    logs.append('L', 'a', T0);
    storage.tx(() => logs.close('L', T0 + H));
    const m = logs.get('L')!;
    expect(m.status).toBe('closed');
    expect(m.shards[0].endSeq).toBe('0');
    expect(logs.append('L', 'b', T0 + H)).toBeUndefined();
    await clock.advance(24 * H);
    expect(logs.get('L')).toBeDefined();
    await clock.advance(H);
    expect(logs.get('L')).toBeUndefined();
  });

  it('wakes subscribers after the append, per shard', async () => {
    const clock = new VirtualClock(T0);
    setup(clock);
    const { shards } = logs.create('L', T0, { retentionMs: 24 * H, rolloverMs: 4 * H, attrs: {} });
    const seen: string[] = [];
    const off = logs.subscribe('L', shards[0].shardId, (e) => seen.push(e.kind));
    const offAll = logs.subscribe('L', undefined, (e) => seen.push(`all:${e.kind}`));
    storage.tx(() => {
      logs.append('L', 'a', T0);
      logs.append('L', 'b', T0);
      expect(seen).toEqual([]);
    });
    await Promise.resolve();
    expect(seen).toEqual(['appended', 'all:appended']);
    off();
    await clock.advance(4 * H);
    expect(seen).toEqual(['appended', 'all:appended', 'all:closed']);
    offAll();
  });

  it('lists logs by prefix with paging', () => {
    const clock = new VirtualClock(T0);
    setup(clock);
    for (const id of ['a/1', 'a/2', 'a/3', 'b/1']) logs.create(id, T0, { retentionMs: H, rolloverMs: null, attrs: {} });
    expect(logs.list('a/').map((m) => m.id)).toEqual(['a/1', 'a/2', 'a/3']);
    expect(logs.list('a/', { after: 'a/1', limit: 1 }).map((m) => m.id)).toEqual(['a/2']);
    expect(logs.list('').map((m) => m.id)).toHaveLength(4);
  });

  it('re-arms maintenance after a restart', async () => {
    const clock = new VirtualClock(T0);
    setup(clock);
    logs.create('L', T0, { retentionMs: 24 * H, rolloverMs: 4 * H, attrs: {} });
    logs.stop();
    const again = new OrderedLogs({ storage, clock, name: 't' });
    again.start();
    await clock.advance(4 * H);
    expect(again.get('L')!.shards).toHaveLength(2);
    again.stop();
  });

  it('splits and merges shards with lineage (Kinesis-style resharding)', () => {
    const clock = new VirtualClock(T0);
    setup(clock);
    const ids = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003'];
    let n = 0;
    const k = new OrderedLogs({ storage, clock, name: 'k', shardIdFor: () => ids[n++] });
    const m = k.create('S', T0, { retentionMs: 24 * H, shardCount: 1, attrs: {} });
    const root = m.shards[0].shardId;
    k.append('S', 'a', T0);
    const [c1, c2] = k.reshard('S', T0 + 1, [root], [{ attrs: { range: 'low' } }, { attrs: { range: 'high' } }]);
    expect(c1.parents).toEqual([root]);
    expect(c2.attrs).toEqual({ range: 'high' });
    expect(k.get('S')!.shards[0].endSeq).toBe('0');
    expect(k.append('S', 'b', T0 + 2, c2.shardId)).toMatchObject({ shardId: c2.shardId, seq: 1n });
    const [merged] = k.reshard('S', T0 + 3, [c1.shardId, c2.shardId], [{}]);
    expect(merged.parents).toEqual([c1.shardId, c2.shardId]);
    expect(merged.startSeq).toBe('2');
    k.stop();
  });
});
