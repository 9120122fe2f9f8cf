import type { ItemChange, StreamsPort } from '../../../core/ports.ts';
import type { KvStore } from '../../../storage/types.ts';
import { itemKey, keyOf, partitionPrefix, prefixEnd } from '../keys.ts';
import { type IndexMeta, indexNs, itemsNs, type TableMeta } from '../tables/catalog.ts';
import type { Item } from '../types.ts';
import { attributeEquals } from '../values/attribute.ts';
import { encodeNumberKey, parseDecimalLoose } from '../values/numbers.ts';

/**
 * Items and their index entries. Every write goes through `write`, which keeps secondary indexes
 * in step and hands the stream its record, all inside the caller's transaction.
 */
export class ItemStore {
  /** Capacity units touched since the caller last zeroed it (reads strongly consistent), for metrics. */
  readonly meter = { readUnits: 0, writeUnits: 0 };

  constructor(
    private kv: KvStore,
    private streams: StreamsPort | undefined,
    /** Told of each TTL expiry time written (ms), so the sweeper can wake up in time. */
    private onExpiry: (atMs: number) => void = () => {},
  ) {}

  get(t: TableMeta, key: Buffer): Item | undefined {
    const raw = this.kv.get(itemsNs(t), key);
    this.meter.readUnits += raw === undefined ? 1 : Math.ceil(raw.length / 4096) || 1;
    return raw === undefined ? undefined : (JSON.parse(raw) as Item);
  }

  /** A table whose writes need nothing but the item row itself. */
  isPlain(t: TableMeta): boolean {
    return t.indexes.length === 0 && !t.stream?.enabled && !t.ttl?.enabled;
  }

  /** Upsert an item of a plain table without reading the old one (see isPlain). */
  overwrite(t: TableMeta, key: Buffer, item: Item): void {
    const json = JSON.stringify(item);
    this.meter.writeUnits += Math.ceil(json.length / 1024) || 1;
    this.kv.put(itemsNs(t), key, json);
  }

  /**
   * Replace `oldItem` by `newItem` (undefined = delete). Returns false, writing nothing and emitting no
   * stream record, when the change is a no-op.
   */
  write(
    t: TableMeta,
    key: Buffer,
    oldItem: Item | undefined,
    newItem: Item | undefined,
    now: number,
    userIdentity?: ItemChange['userIdentity'],
  ): boolean {
    if (!oldItem && !newItem) return false;
    if (oldItem && newItem && itemsEqual(oldItem, newItem)) return false;
    const ns = itemsNs(t);
    if (newItem) {
      const json = JSON.stringify(newItem);
      this.meter.writeUnits += Math.ceil(json.length / 1024) || 1;
      this.kv.put(ns, key, json);
    } else {
      this.meter.writeUnits += 1;
      this.kv.delete(ns, key);
    }
    for (const idx of t.indexes) {
      const before = oldItem && indexEntryKey(t, idx, oldItem, key);
      const after = newItem && indexEntryKey(t, idx, newItem, key);
      const ins = indexNs(t, idx.name);
      if (before && (!after || !before.equals(after))) this.kv.delete(ins, before);
      if (after) this.kv.put(ins, after, JSON.stringify(projectForIndex(t, idx, newItem!)));
    }
    if (t.ttl?.enabled) {
      const before = oldItem && ttlEntryKey(t, oldItem, key);
      const after = newItem && ttlEntryKey(t, newItem, key);
      if (before && (!after || !before.equals(after))) this.kv.delete(ttlNs(t), before);
      if (after) {
        this.kv.put(ttlNs(t), after, newItem![t.ttl.attributeName].N!);
        this.onExpiry(Number(newItem![t.ttl.attributeName].N) * 1000);
      }
    }
    if (t.stream?.enabled && t.stream.arn && this.streams) {
      const item = (newItem ?? oldItem)!;
      this.streams.recordChange(
        t.stream.arn,
        {
          accountId: t.accountId,
          region: t.region,
          tableName: t.name,
          keys: keyOf(item, t.key),
          oldImage: oldItem,
          newImage: newItem,
          userIdentity,
        },
        now,
      );
    }
    return true;
  }

  /** Build one index's entries from the table's items (GSI creation). */
  backfill(t: TableMeta, idx: IndexMeta): void {
    const ins = indexNs(t, idx.name);
    for (const [key, raw] of this.kv.range(itemsNs(t))) {
      const item = JSON.parse(raw) as Item;
      const k = indexEntryKey(t, idx, item, key);
      if (k) this.kv.put(ins, k, JSON.stringify(projectForIndex(t, idx, item)));
    }
  }

  /** Build the expiry index when TTL is enabled; drop it when disabled. */
  rebuildTtl(t: TableMeta): void {
    this.kv.drop(ttlNs(t));
    if (!t.ttl?.enabled) return;
    for (const [key, raw] of this.kv.range(itemsNs(t))) {
      const item = JSON.parse(raw) as Item;
      const k = ttlEntryKey(t, item, key);
      if (k) {
        this.kv.put(ttlNs(t), k, item[t.ttl.attributeName].N!);
        this.onExpiry(Number(item[t.ttl.attributeName].N) * 1000);
      }
    }
  }

  /** Expiry entries (seconds, item key) with expiry in [fromSec, toSec]. */
  *expiring(t: TableMeta, fromSec: number, toSec: number): Generator<{ key: Buffer; expiresSec: number }> {
    const lo = encodeNumberKey(parseDecimalLoose(String(fromSec))!);
    const hi = prefixEnd(encodeNumberKey(parseDecimalLoose(String(toSec))!));
    for (const [k, v] of this.kv.range(ttlNs(t), { gte: lo, ...(hi ? { lt: hi } : {}) })) {
      yield { key: k.subarray(numberKeyLength(k)), expiresSec: Number(v) };
    }
  }

  /** The earliest expiry (seconds) at or after `fromSec`, if any. */
  nextExpiry(t: TableMeta, fromSec: number): number | undefined {
    const lo = encodeNumberKey(parseDecimalLoose(String(fromSec))!);
    for (const [, v] of this.kv.range(ttlNs(t), { gte: lo, limit: 1 })) return Number(v);
    return undefined;
  }

  dropIndex(t: TableMeta, idx: IndexMeta): void {
    this.kv.drop(indexNs(t, idx.name));
  }

  dropTable(t: TableMeta): void {
    this.kv.drop(itemsNs(t));
    this.kv.drop(ttlNs(t));
    for (const idx of t.indexes) this.kv.drop(indexNs(t, idx.name));
  }
}

/**
 * An index entry's key: the index's partition and sort key, then the table key (which makes it
 * unique). Items without the index's key attributes (or with the wrong type) are not indexed.
 */
export function indexEntryKey(t: TableMeta, idx: IndexMeta, item: Item, tableKey?: Buffer): Buffer | undefined {
  const h = item[idx.key.hash];
  if (!h || !(idx.key.hashType in h)) return undefined;
  let r: Item[string] | undefined;
  if (idx.key.range) {
    r = item[idx.key.range];
    if (!r || !(idx.key.rangeType! in r)) return undefined;
  }
  const ik = idx.key.range ? itemKey(item, idx.key) : partitionPrefix(h, idx.key);
  return Buffer.concat([ik, tableKey ?? itemKey(item, t.key)]);
}

const ttlNs = (t: TableMeta) => `ddb:ttl:${t.id}`;

/** TTL entries are keyed by expiry then item key; only numeric TTL attributes count, as on AWS. */
function ttlEntryKey(t: TableMeta, item: Item, key: Buffer): Buffer | undefined {
  const v = item[t.ttl!.attributeName];
  if (!v?.N) return undefined;
  const d = parseDecimalLoose(v.N);
  if (!d) return undefined;
  return Buffer.concat([encodeNumberKey(d), key]);
}

/** Length of the self-delimiting number encoding at the start of `k`. */
function numberKeyLength(k: Buffer): number {
  if (k[0] === 0x80) return 1;
  const term = k[0] === 0x81 ? 0x00 : 0xff;
  let i = 2;
  while (k[i] !== term) i++;
  return i + 1;
}

export function projectForIndex(t: TableMeta, idx: IndexMeta, item: Item): Item {
  const type = idx.projection.ProjectionType ?? 'ALL';
  if (type === 'ALL') return item;
  const keep = new Set([t.key.hash, idx.key.hash]);
  if (t.key.range) keep.add(t.key.range);
  if (idx.key.range) keep.add(idx.key.range);
  if (type === 'INCLUDE') for (const a of idx.projection.NonKeyAttributes ?? []) keep.add(a);
  const out: Item = {};
  for (const a of keep) if (item[a] !== undefined) out[a] = item[a];
  return out;
}

export function itemsEqual(a: Item, b: Item): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    const bv = b[k];
    if (bv === undefined || !attributeEquals(a[k], bv)) return false;
  }
  return true;
}
