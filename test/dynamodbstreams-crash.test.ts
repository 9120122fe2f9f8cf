// Stream consistency under crash: write under load to a stream-enabled table, `kill -9` the server,
// restart it on the same data dir, and check the stream holds exactly one record per acknowledged
// change, in order, with no gaps and no phantoms (the single write per worker that was in flight at
// the kill may have landed — then its item and its record both exist, or neither does).
// Runs the built CLI (`npm run build` first; `npm test` builds before vitest).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, freePort, killServers, startServer } from './helpers/server-process.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUILT = existsSync(join(ROOT, 'dist', 'cli.js'));
if (!BUILT) console.warn('SKIPPED: test/dynamodbstreams-crash.test.ts needs `npm run build` (dist/cli.js)');

const TABLE = 'crash-streams';
const WORKERS = 6;
const KEYS_PER_WORKER = 4;
const KILL_POINTS = [300, 900];
const CREDS = { accessKeyId: 'test', secretAccessKey: 'test' };

const clients = (port: number) => {
  const opts = { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 };
  return { ddb: new DynamoDBClient(opts), streams: new DynamoDBStreamsClient(opts) };
};

async function readStream(streams: DynamoDBStreamsClient, arn: string): Promise<StreamRecord[]> {
  const shards = [];
  let start: string | undefined;
  do {
    const d = await streams.send(new DescribeStreamCommand({ StreamArn: arn, ExclusiveStartShardId: start }));
    shards.push(...d.StreamDescription!.Shards!);
    start = d.StreamDescription!.LastEvaluatedShardId;
  } while (start);
  const out: StreamRecord[] = [];
  for (const s of shards) {
    let it = (
      await streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      )
    ).ShardIterator;
    while (it) {
      const r = await streams.send(new GetRecordsCommand({ ShardIterator: it }));
      out.push(...r.Records!);
      if (!r.Records!.length) break;
      it = r.NextShardIterator;
    }
  }
  return out;
}

/** One attempted write: the value a worker put on a key; `acked` once the server answered 200. */
interface Attempt {
  key: string;
  value: number;
  acked: boolean;
}

describe.skipIf(!BUILT)('DynamoDB Streams: kill -9 under write load', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'eddy-streams-crash-'));
  afterAll(() => {
    killServers();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('holds exactly one record per acknowledged change, in order, after each restart', {
    timeout: 120_000,
  }, async () => {
    let port = await freePort();
    let server = await startServer(dataDir, port);
    let { ddb, streams } = clients(port);
    const created = await ddb.send(
      new CreateTableCommand({
        TableName: TABLE,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
    );
    const arn = created.TableDescription!.LatestStreamArn!;
    const attempts: Attempt[][] = Array.from({ length: WORKERS }, () => []);
    let value = 0;
    const figures: string[] = [];

    for (const killAt of KILL_POINTS) {
      let acked = 0;
      let killed = false;
      const unexpected: string[] = [];
      const t0 = performance.now();
      const worker = async (w: number) => {
        let i = 0;
        while (!killed) {
          const a: Attempt = { key: `w${w}#${i++ % KEYS_PER_WORKER}`, value: ++value, acked: false };
          attempts[w].push(a);
          try {
            await ddb.send(
              new PutItemCommand({
                TableName: TABLE,
                Item: { pk: { S: a.key }, v: { N: String(a.value) }, w: { N: String(w) } },
              }),
            );
          } catch (e) {
            if (!killed) unexpected.push(e instanceof Error ? e.message : String(e));
            return;
          }
          a.acked = true;
          if (++acked >= killAt && !killed) {
            killed = true;
            server.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      await exited(server);
      expect(unexpected).toEqual([]);
      figures.push(`${acked} acked writes in ${Math.round(performance.now() - t0)} ms before kill -9`);

      ddb.destroy();
      streams.destroy();
      port = await freePort();
      server = await startServer(dataDir, port);
      ({ ddb, streams } = clients(port));

      const records = await readStream(streams, arn);
      // Sequence numbers strictly grow in stream order; event ids are unique.
      const seqs = records.map((r) => BigInt(r.dynamodb!.SequenceNumber!));
      for (let i = 1; i < seqs.length; i++) expect(seqs[i] > seqs[i - 1]).toBe(true);
      expect(new Set(records.map((r) => r.eventID)).size).toBe(records.length);

      for (let w = 0; w < WORKERS; w++) {
        const got = records
          .filter((r) => r.dynamodb!.NewImage!.w.N === String(w))
          .map((r) => Number(r.dynamodb!.NewImage!.v.N));
        const mine = attempts[w];
        const ackedValues = mine.filter((a) => a.acked).map((a) => a.value);
        const unacked = mine.filter((a) => !a.acked);
        // Every attempt but the in-flight one(s) of a killed round was acknowledged.
        const expected = mine.filter((a) => a.acked || got.includes(a.value)).map((a) => a.value);
        expect(got, `worker ${w}: records in order, no gaps, no phantoms`).toEqual(expected);
        for (const v of ackedValues) expect(got).toContain(v);
        // An unacknowledged write landed completely (item + record) or not at all.
        for (const u of unacked) {
          const last = [...mine].reverse().find((a) => a.key === u.key && (a.acked || got.includes(a.value)));
          const item = await ddb.send(
            new GetItemCommand({ TableName: TABLE, Key: { pk: { S: u.key } }, ConsistentRead: true }),
          );
          expect(item.Item?.v.N, `item ${u.key} matches its last record`).toBe(last ? String(last.value) : undefined);
        }
        // Forget unacknowledged attempts that did not land, so the next round's expectation is exact.
        attempts[w] = mine.filter((a) => a.acked || got.includes(a.value)).map((a) => ({ ...a, acked: true }));
      }
    }
    console.log(`dynamodbstreams crash: ${figures.join('; ')}`);
    ddb.destroy();
    streams.destroy();
    server.kill('SIGKILL');
    await exited(server);
  });
});
