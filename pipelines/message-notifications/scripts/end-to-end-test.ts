/**
 * end_to_end_test.py, in TypeScript: write messages to the table and wait for their notifications in
 * the topic's SQS subscription -- table -> stream -> message-stream-processor -> SNS -> SQS.
 * Scenarios of the seed: basic flow, reply chain (the reply carries the original), high volume.
 *
 *   npm run end-to-end-test -w @eddy-pipelines/message-notifications [-- --volume 1000]
 *   EDDY_TARGET=aws npm run end-to-end-test -w @eddy-pipelines/message-notifications
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig, describeTarget, isMain, resolveTarget, type Target } from '../../shared/target.ts';
import { type InsertedMessage, insertMessage } from './insert-messages.ts';
import { resolveResources } from './resources.ts';

export interface ScenarioResult {
  name: string;
  ok: boolean;
  detail: string;
}

export interface EndToEndOptions {
  target?: Target;
  env?: NodeJS.ProcessEnv;
  /** Messages in the high-volume scenario (the seed: 10). */
  volume?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** Notification bodies by message_id, read (and deleted) from the queue until every id has arrived. */
async function awaitNotifications(
  sqs: SQSClient,
  queueUrl: string,
  ids: Set<string>,
  timeoutMs: number,
): Promise<Map<string, any>> {
  const got = new Map<string, any>();
  const deadline = Date.now() + timeoutMs;
  while ([...ids].some((id) => !got.has(id)) && Date.now() < deadline) {
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
    );
    const done: { Id: string; ReceiptHandle: string }[] = [];
    for (const m of r.Messages ?? []) {
      let body: any;
      try {
        body = JSON.parse(JSON.parse(m.Body ?? '{}').Message ?? '{}');
      } catch {
        continue;
      }
      const id = body?.message?.message_id;
      if (typeof id === 'string' && ids.has(id)) {
        got.set(id, body);
        done.push({ Id: String(done.length), ReceiptHandle: m.ReceiptHandle! });
      }
    }
    if (done.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done }));
  }
  return got;
}

export async function runEndToEnd(opts: EndToEndOptions = {}): Promise<ScenarioResult[]> {
  const target = opts.target ?? resolveTarget(opts.env);
  const log = opts.log ?? (() => {});
  const volume = opts.volume ?? 10;
  const timeoutMs = opts.timeoutMs ?? 60_000 + volume * 50;
  const { tableName, queueUrl } = await resolveResources(target, opts.env);
  const ddb = new DynamoDBClient(clientConfig(target));
  const sqs = new SQSClient(clientConfig(target));
  const results: ScenarioResult[] = [];
  const wait = (messages: InsertedMessage[]) =>
    awaitNotifications(sqs, queueUrl, new Set(messages.map((m) => m.message_id)), timeoutMs);
  try {
    log('Scenario 1: basic message flow');
    const hello = await insertMessage(ddb, tableName, 'alice', 'Hello world!');
    let started = Date.now();
    let got = await wait([hello]);
    results.push({
      name: 'basic message flow',
      ok: got.get(hello.message_id)?.type === 'NEW_MESSAGE',
      detail: got.has(hello.message_id) ? `notified in ${Date.now() - started} ms` : 'no notification',
    });

    log('Scenario 2: reply chain');
    const question = await insertMessage(ddb, tableName, 'bob', "What's for lunch?");
    const reply = await insertMessage(ddb, tableName, 'charlie', 'Pizza!', question.message_id);
    got = await wait([question, reply]);
    const replied = got.get(reply.message_id);
    results.push({
      name: 'reply chain',
      ok:
        got.has(question.message_id) &&
        replied?.type === 'REPLY' &&
        replied?.original?.message_id === question.message_id &&
        replied?.original?.content === question.content,
      detail: replied
        ? `reply notification quotes ${replied.original ? `"${replied.original.content}"` : 'nothing'}`
        : 'no reply notification',
    });

    log(`Scenario 3: high volume (${volume} messages)`);
    const many: InsertedMessage[] = [];
    started = Date.now();
    for (let i = 0; i < volume; i += 25) {
      const chunk = Array.from({ length: Math.min(25, volume - i) }, (_, j) =>
        insertMessage(ddb, tableName, `user_${i + j}`, `Message ${i + j}`),
      );
      many.push(...(await Promise.all(chunk)));
    }
    got = await wait(many);
    results.push({
      name: `high volume (${volume})`,
      ok: got.size === volume,
      detail: `${got.size}/${volume} notifications in ${Date.now() - started} ms`,
    });
    return results;
  } finally {
    ddb.destroy();
    sqs.destroy();
  }
}

if (isMain(import.meta.url)) {
  const i = process.argv.indexOf('--volume');
  const volume = i > 0 ? Number(process.argv[i + 1]) : 10;
  if (!Number.isInteger(volume) || volume < 1) {
    console.error('--volume must be a positive integer');
    process.exit(2);
  }
  const target = resolveTarget();
  console.log(`End-to-end test (${describeTarget(target)})`);
  runEndToEnd({ target, volume, log: (l) => console.log(l) }).then(
    (results) => {
      for (const r of results) console.log(`  ${r.ok ? 'PASS' : 'FAIL'}  ${r.name}: ${r.detail}`);
      const failed = results.filter((r) => !r.ok).length;
      console.log(`${results.length - failed} passed, ${failed} failed`);
      process.exit(failed ? 1 : 0);
    },
    (e) => {
      console.error(`end-to-end-test failed: ${e instanceof Error ? e.message : e}`);
      process.exit(1);
    },
  );
}
