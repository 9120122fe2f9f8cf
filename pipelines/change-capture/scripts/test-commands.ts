/**
 * The seed's "Testing the Deployment" and "Monitoring and Validation" commands as one script:
 *
 *   aws dynamodb put-item     (LOGIN for test-user-001)              -> INSERT: audit record only
 *   aws dynamodb update-item  (SET ActivityType = LOGOUT)           -> MODIFY: audit + notification
 *   aws s3 ls s3://<bucket>/audit-logs/ --recursive                  -> the audit records
 *   aws sqs receive-message   (the notification queue)             -> the ACTIVITY_TYPE_CHANGED notification
 *   aws logs filter-log-events --filter-pattern 'Processing'        -> one line per processed record
 *   aws sqs get-queue-attributes (the DLQ)                         -> ApproximateNumberOfMessages
 * plus, with --remove, a delete-item (REMOVE -> notification), and with --poison, an item whose
 * ActivityType is a number: it fails, is retried 3 times with bisect, and lands in the DLQ.
 *
 *   npm run test-commands -w @eddy-pipelines/change-capture [-- --remove] [-- --poison]
 *   EDDY_TARGET=aws npm run test-commands -w @eddy-pipelines/change-capture
 */

import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig, describeTarget, isMain, resolveTarget, sleep, type Target } from '../../shared/target.ts';
import { type Resources, resolveResources } from './resources.ts';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export interface TestCommandOptions {
  target?: Target;
  env?: NodeJS.ProcessEnv;
  remove?: boolean;
  poison?: boolean;
  userId?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
}

async function until<T>(timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined || Date.now() >= deadline) return v;
    await sleep(500);
  }
}

export async function runTestCommands(opts: TestCommandOptions = {}): Promise<CheckResult[]> {
  const target = opts.target ?? resolveTarget(opts.env);
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const r: Resources = await resolveResources(target, opts.env);
  const cfg = clientConfig(target);
  const ddb = new DynamoDBClient(cfg);
  const s3 = new S3Client({ ...cfg, forcePathStyle: target.kind === 'eddy' });
  const sqs = new SQSClient(cfg);
  const logs = new CloudWatchLogsClient(cfg);
  const results: CheckResult[] = [];
  const userId = opts.userId ?? 'test-user-001';
  const activityId = `login-${Date.now().toString(36)}`;
  const key = { UserId: { S: userId }, ActivityId: { S: activityId } };
  const startedAt = Date.now();
  try {
    log(`put-item ${r.tableName} ${userId}/${activityId} ActivityType=LOGIN`);
    await ddb.send(
      new PutItemCommand({
        TableName: r.tableName,
        Item: {
          ...key,
          ActivityType: { S: 'LOGIN' },
          Timestamp: { N: String(Math.floor(Date.now() / 1000)) },
          IPAddress: { S: '192.168.1.100' },
        },
      }),
    );
    log('update-item SET ActivityType = LOGOUT');
    await ddb.send(
      new UpdateItemCommand({
        TableName: r.tableName,
        Key: key,
        UpdateExpression: 'SET ActivityType = :type',
        ExpressionAttributeValues: { ':type': { S: 'LOGOUT' } },
      }),
    );
    const expected = ['INSERT', 'MODIFY'];
    if (opts.remove) {
      log('delete-item');
      await ddb.send(new DeleteItemCommand({ TableName: r.tableName, Key: key }));
      expected.push('REMOVE');
    }

    // aws s3 ls s3://bucket/audit-logs/ --recursive, then the records for this item.
    const audits = await until(timeoutMs, async () => {
      const found: { key: string; eventName: string }[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: r.auditBucket, Prefix: 'audit-logs/', ContinuationToken }),
        );
        for (const o of page.Contents ?? []) {
          if (!o.Key || (o.LastModified && o.LastModified.getTime() < startedAt - 5_000)) continue;
          const body = await (
            await s3.send(new GetObjectCommand({ Bucket: r.auditBucket, Key: o.Key }))
          ).Body!.transformToString();
          const rec = JSON.parse(body);
          if (rec.keys?.UserId === userId && rec.keys?.ActivityId === activityId)
            found.push({ key: o.Key, eventName: rec.eventName });
        }
        ContinuationToken = page.NextContinuationToken;
      } while (ContinuationToken);
      return found.length >= expected.length ? found : undefined;
    });
    results.push({
      name: 'S3 audit records',
      ok: !!audits && expected.every((e) => audits.some((a) => a.eventName === e)),
      detail: audits ? audits.map((a) => `s3://${r.auditBucket}/${a.key}`).join(', ') : 'none within the timeout',
    });

    // aws sqs receive-message --queue-url <notification queue>
    if (r.notificationQueueUrl) {
      const reasons = new Set<string>();
      const want = opts.remove ? ['ACTIVITY_TYPE_CHANGED', 'ACTIVITY_REMOVED'] : ['ACTIVITY_TYPE_CHANGED'];
      await until(timeoutMs, async () => {
        const got = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: r.notificationQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
        );
        for (const m of got.Messages ?? []) {
          const body = JSON.parse(JSON.parse(m.Body ?? '{}').Message ?? '{}');
          if (body.activityId !== activityId) continue;
          reasons.add(body.reason);
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: r.notificationQueueUrl, ReceiptHandle: m.ReceiptHandle! }),
          );
        }
        return want.every((w) => reasons.has(w)) ? true : undefined;
      });
      results.push({
        name: 'SNS notifications (SQS subscription)',
        ok: want.every((w) => reasons.has(w)),
        detail: reasons.size ? [...reasons].join(', ') : 'none within the timeout',
      });
    }

    // aws logs filter-log-events --log-group-name /aws/lambda/<fn> --filter-pattern 'Processing'
    const processing = await until(timeoutMs, async () => {
      try {
        const out = await logs.send(
          new FilterLogEventsCommand({
            logGroupName: r.logGroupName,
            startTime: startedAt - 60_000,
            filterPattern: 'Processing',
          }),
        );
        const mine = (out.events ?? []).filter((e) => e.message?.includes(activityId));
        return mine.length >= expected.length ? mine.length : undefined;
      } catch {
        return undefined;
      }
    });
    results.push({
      name: `CloudWatch Logs 'Processing' in ${r.logGroupName}`,
      ok: processing !== undefined,
      detail: processing !== undefined ? `${processing} lines for this item` : 'none within the timeout',
    });

    if (r.deadLetterQueueUrl) {
      const depth = async () =>
        Number(
          (
            await sqs.send(
              new GetQueueAttributesCommand({
                QueueUrl: r.deadLetterQueueUrl,
                AttributeNames: ['ApproximateNumberOfMessages'],
              }),
            )
          ).Attributes?.ApproximateNumberOfMessages ?? 0,
        );
      const before = await depth();
      if (opts.poison) {
        log('put-item with ActivityType as a number (poison record)');
        await ddb.send(
          new PutItemCommand({
            TableName: r.tableName,
            Item: { UserId: { S: userId }, ActivityId: { S: `${activityId}-poison` }, ActivityType: { N: '42' } },
          }),
        );
        const after = await until(Math.max(timeoutMs, 120_000), async () => {
          const d = await depth();
          return d > before ? d : undefined;
        });
        results.push({
          name: 'poison record -> DLQ',
          ok: after !== undefined,
          detail: after !== undefined ? `DLQ depth ${before} -> ${after}` : `DLQ depth still ${before}`,
        });
      } else {
        results.push({ name: 'DLQ depth', ok: true, detail: `ApproximateNumberOfMessages ${before}` });
      }
    }
    return results;
  } finally {
    for (const c of [ddb, s3, sqs, logs]) c.destroy();
  }
}

if (isMain(import.meta.url)) {
  const target = resolveTarget();
  console.log(`Seed 000 test commands (${describeTarget(target)})`);
  runTestCommands({
    target,
    remove: process.argv.includes('--remove'),
    poison: process.argv.includes('--poison'),
    log: (l) => console.log(`  $ ${l}`),
  }).then(
    (results) => {
      for (const c of results) console.log(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
      const failed = results.filter((c) => !c.ok).length;
      console.log(`${results.length - failed} passed, ${failed} failed`);
      process.exit(failed ? 1 : 0);
    },
    (e) => {
      console.error(`test-commands failed: ${e instanceof Error ? e.message : e}`);
      process.exit(1);
    },
  );
}
