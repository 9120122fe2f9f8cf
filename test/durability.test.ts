// Acknowledged writes survive `kill -9` of the server under write load (built CLI, durable --data-dir).
// Assumes `npm run build` has run (npm test builds first).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, freePort, killServers, startServer } from './helpers/server-process.ts';

const TABLE = 'durability';
const WORKERS = 4;
const KEYS_PER_WORKER = 25;
/**
 * Where each round kills the server (same data dir throughout): right after the n-th acknowledgement of the round
 * (the newest commit must be there), or 1 ms after the n-th request was sent (that write is in flight).
 */
const KILL_POINTS: { after: 'ack' | 'send'; n: number }[] = [
  { after: 'ack', n: 150 },
  { after: 'send', n: 700 },
  { after: 'ack', n: 2000 },
];
/** Safety bound per round: no round issues more writes than this. */
const MAX_WRITES_PER_ROUND = 20_000;

function client(port: number): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDDURABILITY', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 15_000 },
  });
}

function integrityCheck(dataDir: string): string {
  const file = join(dataDir, 'eddy.db');
  expect(existsSync(file), `${file} exists`).toBe(true);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

interface KeyState {
  /** Last acknowledged value (undefined: never acknowledged → item may be absent). */
  acked?: number;
  /** Value of a write sent but not acknowledged when the server died (it may or may not have landed). */
  pending?: number;
}

const keyName = (w: number, k: number) => `w${w}#k${k}`;

describe('durability: kill -9 under write load', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'eddy-durability-'));
  afterAll(() => {
    killServers();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write across 3 kill points, and the database stays intact', {
    timeout: 60_000,
  }, async () => {
    const state = new Map<string, KeyState>();
    for (let w = 0; w < WORKERS; w++) for (let k = 0; k < KEYS_PER_WORKER; k++) state.set(keyName(w, k), {});
    let seq = 0;
    let rnd = 12345;
    const random = () => {
      rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
      return rnd / 0x7fffffff;
    };

    let port = await freePort();
    let server = await startServer(dataDir, port);
    let ddb = client(port);
    await ddb.send(
      new CreateTableCommand({
        TableName: TABLE,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    for (let i = 0; i < 200; i++) {
      const d = await ddb.send(new DescribeTableCommand({ TableName: TABLE }));
      if (d.Table?.TableStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 25));
    }

    for (const [round, point] of KILL_POINTS.entries()) {
      // Load: each worker owns its keys and writes them one at a time, so the last acknowledged value per key is
      // well defined; the kill lands while the other workers have requests in flight.
      let acked = 0;
      let issued = 0;
      let killed = false;
      const kill = () => {
        if (killed) return;
        killed = true;
        server.kill('SIGKILL');
      };
      const unexpected: string[] = [];
      const worker = async (w: number) => {
        while (!killed && issued < MAX_WRITES_PER_ROUND) {
          const key = keyName(w, Math.floor(random() * KEYS_PER_WORKER));
          const s = state.get(key)!;
          const value = ++seq;
          const payload = 'p'.repeat(200 + Math.floor(random() * 3000));
          s.pending = value;
          if (++issued === point.n && point.after === 'send') setTimeout(kill, 1);
          try {
            if (random() < 0.5) {
              await ddb.send(
                new PutItemCommand({
                  TableName: TABLE,
                  Item: { pk: { S: key }, v: { N: String(value) }, payload: { S: payload }, kind: { S: 'put' } },
                }),
              );
            } else {
              await ddb.send(
                new UpdateItemCommand({
                  TableName: TABLE,
                  Key: { pk: { S: key } },
                  UpdateExpression: 'SET v = :v, payload = :p, kind = :k',
                  ExpressionAttributeValues: {
                    ':v': { N: String(value) },
                    ':p': { S: payload },
                    ':k': { S: 'update' },
                  },
                }),
              );
            }
          } catch (e) {
            if (!killed) unexpected.push(`${key}=${value}: ${e instanceof Error ? e.message : String(e)}`);
            return; // outcome unknown: stays pending
          }
          s.acked = value;
          s.pending = undefined;
          if (++acked >= point.n && point.after === 'ack') kill();
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      expect(unexpected, `round ${round}: errors before the kill`).toEqual([]);
      expect(killed, `round ${round}: the kill point was reached`).toBe(true);
      expect(await exited(server)).toEqual({ code: null, signal: 'SIGKILL' });
      ddb.destroy();

      // The database file is intact right after the crash.
      expect(integrityCheck(dataDir), `round ${round}: integrity_check after kill -9`).toBe('ok');

      // Restart on the same data dir: every acknowledged write is there with its last acknowledged value.
      port = await freePort();
      server = await startServer(dataDir, port);
      ddb = client(port);
      const wrong: string[] = [];
      for (const [key, s] of state) {
        const got = await ddb.send(
          new GetItemCommand({ TableName: TABLE, Key: { pk: { S: key } }, ConsistentRead: true }),
        );
        const v = got.Item?.v?.N !== undefined ? Number(got.Item.v.N) : undefined;
        const allowed = [s.acked, s.pending].filter((x) => x !== undefined);
        const ok = v === undefined ? s.acked === undefined : allowed.includes(v);
        if (!ok)
          wrong.push(
            `${key}: found ${v ?? 'nothing'}, acknowledged ${s.acked ?? 'nothing'}${s.pending ? ` (in flight ${s.pending})` : ''}`,
          );
        // What is on disk is now the truth for the next round.
        s.acked = v;
        s.pending = undefined;
      }
      expect(wrong, `round ${round}: lost or stale acknowledged writes`).toEqual([]);
      expect(issued).toBeGreaterThanOrEqual(point.n);
    }

    // Clean shutdown closes the database; it is still intact.
    ddb.destroy();
    server.kill('SIGTERM');
    expect(await exited(server)).toEqual({ code: 0, signal: null });
    expect(integrityCheck(dataDir)).toBe('ok');
  });
});
