/**
 * Stream records as DynamoDB Streams returns them. A record is stored in the ordered log without its
 * sequence number (the log assigns the position); `recordFromRow` adds it back.
 */
import { randomUUID } from 'node:crypto';
import type { ItemChange, StreamViewType } from '../../core/ports.ts';
import { DYNAMODB_SEQUENCE, formatSequence } from '../../log/index.ts';
import type { LogRow } from '../../storage/types.ts';

type AttrMap = Record<string, unknown>;

/** The stored form: `dynamodb.ApproximateCreationDateTime` in epoch seconds, no SequenceNumber. */
export interface StoredRecord {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventVersion: string;
  eventSource: string;
  awsRegion: string;
  dynamodb: {
    ApproximateCreationDateTime: number;
    Keys: AttrMap;
    NewImage?: AttrMap;
    OldImage?: AttrMap;
    SizeBytes: number;
    StreamViewType: StreamViewType;
  };
  userIdentity?: { PrincipalId: string; Type: string };
}

/** A record with its sequence number, `ApproximateCreationDateTime` still in epoch seconds. */
export interface StreamRecord extends Omit<StoredRecord, 'dynamodb'> {
  dynamodb: StoredRecord['dynamodb'] & { SequenceNumber: string };
}

/** Build the stored JSON for one change, the view type applied. */
export function buildRecord(change: ItemChange, viewType: StreamViewType, nowMs: number): string {
  const eventName = !change.oldImage ? 'INSERT' : !change.newImage ? 'REMOVE' : 'MODIFY';
  const keys = change.keys;
  let size = mapSize(keys);
  const dynamodb: StoredRecord['dynamodb'] = {
    ApproximateCreationDateTime: Math.floor(nowMs / 1000),
    Keys: keys,
  } as StoredRecord['dynamodb'];
  if ((viewType === 'NEW_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES') && change.newImage) {
    dynamodb.NewImage = change.newImage;
    size += mapSize(change.newImage);
  }
  if ((viewType === 'OLD_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES') && change.oldImage) {
    dynamodb.OldImage = change.oldImage;
    size += mapSize(change.oldImage);
  }
  dynamodb.SizeBytes = Math.max(1, size);
  dynamodb.StreamViewType = viewType;
  const rec: StoredRecord = {
    eventID: randomUUID().replaceAll('-', ''),
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: change.region,
    dynamodb,
  };
  if (change.userIdentity)
    rec.userIdentity = { PrincipalId: change.userIdentity.principalId, Type: change.userIdentity.type };
  return JSON.stringify(rec);
}

/** A log row as the record consumers see (SequenceNumber in place, field order as AWS sends it). */
export function recordFromRow(row: LogRow): StreamRecord {
  const r = JSON.parse(row.data) as StoredRecord;
  const d = r.dynamodb;
  const dynamodb: StreamRecord['dynamodb'] = {
    ApproximateCreationDateTime: d.ApproximateCreationDateTime,
    Keys: d.Keys,
  } as StreamRecord['dynamodb'];
  if (d.NewImage) dynamodb.NewImage = d.NewImage;
  if (d.OldImage) dynamodb.OldImage = d.OldImage;
  dynamodb.SequenceNumber = formatSequence(row.seq, DYNAMODB_SEQUENCE);
  dynamodb.SizeBytes = d.SizeBytes;
  dynamodb.StreamViewType = d.StreamViewType;
  const out: StreamRecord = {
    eventID: r.eventID,
    eventName: r.eventName,
    eventVersion: r.eventVersion,
    eventSource: r.eventSource,
    awsRegion: r.awsRegion,
    dynamodb,
  };
  if (r.userIdentity) out.userIdentity = r.userIdentity;
  return out;
}

// ---- DynamoDB item size rules (what SizeBytes counts) ------------------------------------------

function mapSize(m: AttrMap): number {
  let n = 0;
  for (const k in m) n += Buffer.byteLength(k, 'utf8') + valueSize(m[k] as Record<string, unknown>);
  return n;
}

function valueSize(v: Record<string, unknown>): number {
  if (!v || typeof v !== 'object') return 0;
  if (v.S !== undefined) return Buffer.byteLength(v.S as string, 'utf8');
  if (v.N !== undefined) return numberSize(v.N as string);
  if (v.B !== undefined) return binarySize(v.B);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return (v.SS as string[]).reduce((a, s) => a + Buffer.byteLength(s, 'utf8'), 0);
  if (v.NS) return (v.NS as string[]).reduce((a, s) => a + numberSize(s), 0);
  if (v.BS) return (v.BS as unknown[]).reduce((a: number, s) => a + binarySize(s), 0);
  if (v.M) {
    const m = v.M as AttrMap;
    let n = 3;
    for (const k in m) n += Buffer.byteLength(k, 'utf8') + valueSize(m[k] as Record<string, unknown>) + 1;
    return n;
  }
  if (v.L) return (v.L as Record<string, unknown>[]).reduce((a, e) => a + valueSize(e) + 1, 3);
  return 0;
}

/** Numbers: 1 byte per two significant digits, plus 1. */
function numberSize(s: string): number {
  const digits = s
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function binarySize(b: unknown): number {
  if (typeof b === 'string') {
    const pad = b.endsWith('==') ? 2 : b.endsWith('=') ? 1 : 0;
    return Math.floor((b.length * 3) / 4) - pad;
  }
  if (b instanceof Uint8Array) return b.length;
  return 0;
}
