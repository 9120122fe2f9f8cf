/**
 * Shard iterators: opaque tokens that carry the log, shard, the next position to read and when the
 * iterator was issued (so expiry needs no server-side state and survives restarts). A short digest
 * binds the fields together so a hand-edited or truncated token is recognised as invalid.
 */
import { createHash } from 'node:crypto';

export interface IteratorState {
  logId: string;
  shardId: string;
  /** Next position to read (inclusive). */
  seq: bigint;
  /** Clock time the iterator was issued, ms. */
  issuedAt: number;
}

const VERSION = 'e1';

function digest(s: string): string {
  return createHash('sha256').update(s).digest('base64url').slice(0, 12);
}

export function encodeIterator(it: IteratorState): string {
  const body = `${VERSION}|${it.shardId}|${it.seq}|${it.issuedAt}|${it.logId}`;
  return Buffer.from(`${body}|${digest(body)}`, 'utf8').toString('base64');
}

/** The iterator's state, or undefined when the token is not one Eddy issued. */
export function decodeIterator(token: string): IteratorState | undefined {
  let text: string;
  try {
    text = Buffer.from(token, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
  const cut = text.lastIndexOf('|');
  if (cut < 0) return undefined;
  const body = text.slice(0, cut);
  if (digest(body) !== text.slice(cut + 1)) return undefined;
  const parts = body.split('|');
  if (parts.length < 5 || parts[0] !== VERSION) return undefined;
  const [, shardId, seq, issuedAt] = parts;
  const logId = parts.slice(4).join('|');
  if (!/^\d+$/.test(seq) || !/^\d+$/.test(issuedAt)) return undefined;
  return { logId, shardId, seq: BigInt(seq), issuedAt: Number(issuedAt) };
}
