/**
 * Durable checkpoints under `kill -9`: Eddy runs in a child process on a data dir; a stream mapping
 * delivers acknowledged writes to a real handler while the server is SIGKILLed mid-stream; after a
 * restart on the same data dir every acknowledged change is delivered, in order, and the only
 * records delivered twice are those of the batch that was in flight at the kill.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateEventSourceMappingCommand, CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../src/core/zip.ts';
import { HANDLER, Hub, type Json, ROLE } from './esm-helpers.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const BATCH = 10;

const hub = new Hub();
let dir: string;
let script: string;
const started = new Set<number>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'eddy-esm-crash-'));
  script = join(dir, 'server.mts');
  await hub.start();
  writeFileSync(
    script,
    `import { startEddy } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
const e = await startEddy({ port: 0, dataDir: process.argv[2], logLevel: 'error' });
console.log('READY ' + e.endpoint);`,
  );
});
afterAll(async () => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function startServer(): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, join(dir, 'data')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child.pid!);
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const endpoint = await new Promise<string>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /READY (\S+)/.exec(out);
      if (m) res(m[1]);
    });
    child.once('exit', (code, sig) => rej(new Error(`server exited (${sig ?? code}): ${err}`)));
  });
  return { child, endpoint };
}

/** SIGKILL the server and the function processes it started (they are ours too). */
function kill9(child: ChildProcess): void {
  let kids: number[] = [];
  try {
    kids = execFileSync('pgrep', ['-P', String(child.pid)])
      .toString()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    // no children
  }
  child.kill('SIGKILL');
  for (const pid of kids) {
    started.add(pid);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

const clients = (endpoint: string) => {
  const cfg = { endpoint, region: 'us-east-1', credentials, maxAttempts: 1 };
  return { ddb: new DynamoDBClient(cfg), lambda: new LambdaClient(cfg) };
};

describe('kill -9', () => {
  it('resumes from the durable checkpoint: every acknowledged change once, in order, only the in-flight batch again', async () => {
    let { child, endpoint } = await startServer();
    let c = clients(endpoint);
    await c.ddb.send(
      new CreateTableCommand({
        TableName: 'crash',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
      }),
    );
    const arn = (await c.ddb.send(new DescribeTableCommand({ TableName: 'crash' }))).Table!.LatestStreamArn!;
    await c.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'crash-fn',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        // A loaded machine must not turn a slow invocation into a timeout (and a retry) here.
        Timeout: 120,
        Environment: { Variables: { HUB: hub.url } },
        Code: { ZipFile: writeZip([{ name: 'index.js', data: HANDLER }]) },
      }),
    );
    await c.lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'crash-fn',
        EventSourceArn: arn,
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: BATCH,
      }),
    );
    const acked: string[] = [];
    const id = (i: number) => `k${String(i).padStart(4, '0')}`;
    let i = 0;
    // Write until the mapping has delivered a good part, then kill -9 while writes and deliveries run.
    const writer = (async () => {
      for (; i < 400; i++) {
        try {
          await c.ddb.send(new PutItemCommand({ TableName: 'crash', Item: { id: { S: id(i) } } }));
          acked.push(id(i));
        } catch {
          return; // the server died under this write: it may or may not have landed
        }
      }
    })();
    await hub.until('crash-fn', (calls) => calls.flatMap((e: Json) => e.Records).length >= 60);
    kill9(child);
    await writer;
    c.ddb.destroy();
    c.lambda.destroy();
    const before = hub.calls['crash-fn'].length;

    ({ child, endpoint } = await startServer());
    c = clients(endpoint);
    const last = i + 1;
    for (let j = last; j < last + 20; j++) {
      await c.ddb.send(new PutItemCommand({ TableName: 'crash', Item: { id: { S: id(j) } } }));
      acked.push(id(j));
    }
    const lastId = acked[acked.length - 1];
    await hub.until('crash-fn', (calls) =>
      calls.some((e: Json) => e.Records.some((r: Json) => r.dynamodb.Keys.id.S === lastId)),
    );
    kill9(child);
    c.ddb.destroy();
    c.lambda.destroy();

    const delivered: string[] = hub.calls['crash-fn'].flatMap((e: Json) =>
      e.Records.map((r: Json) => r.dynamodb.Keys.id.S),
    );
    // Every acknowledged change arrived.
    for (const a of acked) expect(delivered).toContain(a);
    // In order, once each — apart from one replay after the restart of what was in flight at the kill.
    const firstRun = hub.calls['crash-fn']
      .slice(0, before)
      .flatMap((e: Json) => e.Records.map((r: Json) => r.dynamodb.Keys.id.S));
    const secondRun = hub.calls['crash-fn']
      .slice(before)
      .flatMap((e: Json) => e.Records.map((r: Json) => r.dynamodb.Keys.id.S));
    const dedupe = [...new Set(delivered)];
    expect(dedupe).toEqual([...dedupe].sort());
    expect(new Set(firstRun).size).toBe(firstRun.length);
    expect(new Set(secondRun).size).toBe(secondRun.length);
    const replayed = secondRun.filter((x) => firstRun.includes(x));
    expect(replayed.length).toBeLessThanOrEqual(BATCH);
    // The replay is the tail of the first run (the in-flight batch), then the stream continues.
    expect(replayed).toEqual(firstRun.slice(firstRun.length - replayed.length));
    expect(secondRun.slice(0, replayed.length)).toEqual(replayed);
    console.log(
      `kill -9: ${acked.length} acknowledged writes, ${firstRun.length} delivered before the kill, ${replayed.length} redelivered after the restart`,
    );
  });
});
