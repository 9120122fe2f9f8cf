/**
 * The stream processor invoked directly with AWS-shaped DynamoDB Streams events, its SDK clients pointed
 * at an in-process Eddy: SNS notifications land in the topic's SQS subscription, audit records land in
 * S3, poison records come back as partial batch failures.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Eddy, startEddy } from '../../../src/index.ts';
import { Logger, Metrics } from '../../shared/powertools.ts';
import { DEFAULT_SECURITY_ACTIVITY_TYPES } from '../src/change.ts';
import { createHandler, type Deps, type HandlerConfig } from '../src/handler.ts';
import { activity, batch, context, streamRecord } from './events.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let eddy: Eddy;
let sns: SNSClient;
let sqs: SQSClient;
let s3: S3Client;
let s3Served = false;
let topicArn = '';
let queueUrl = '';
let bucket = '';
let n = 0;

/** Stands in for S3 while Eddy does not serve it yet: keeps PutObject bodies in memory. */
class MemoryS3 {
  readonly objects = new Map<string, string>();
  async send(cmd: PutObjectCommand): Promise<unknown> {
    if (!(cmd instanceof PutObjectCommand)) throw new Error('MemoryS3 supports PutObject only');
    this.objects.set(`${cmd.input.Bucket}/${cmd.input.Key}`, String(cmd.input.Body));
    return {};
  }
}
let memoryS3: MemoryS3;

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, logLevel: 'silent' });
  const cfg = { endpoint: eddy.endpoint, region, credentials };
  sns = new SNSClient(cfg);
  sqs = new SQSClient(cfg);
  s3 = new S3Client({ ...cfg, forcePathStyle: true });
  const health = (await (await fetch(`${eddy.endpoint}/_eddy/health`)).json()) as { services: string[] };
  s3Served = health.services.includes('s3');
  if (!s3Served) console.warn('Eddy does not serve S3 yet: audit records are checked in memory, not in S3');
});

afterAll(async () => {
  for (const c of [sns, sqs, s3]) c?.destroy();
  await eddy?.stop();
});

beforeEach(async () => {
  n++;
  topicArn = (await sns.send(new CreateTopicCommand({ Name: `notifications-${n}` }))).TopicArn!;
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `notifications-${n}` }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  bucket = `audit-${n}`;
  memoryS3 = new MemoryS3();
  if (s3Served) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

interface Harness {
  handler: ReturnType<typeof createHandler>;
  lines: string[];
}

function harness(overrides: Partial<HandlerConfig> = {}): Harness {
  const lines: string[] = [];
  const sink = (l: string) => lines.push(l);
  const config: HandlerConfig = {
    topicArn,
    bucket,
    auditPrefix: 'audit-logs',
    securityTypes: new Set(DEFAULT_SECURITY_ACTIVITY_TYPES),
    serviceName: 'change-capture',
    metricsNamespace: 'ChangeCapture',
    ...overrides,
  };
  const deps: Deps = {
    s3: s3Served ? s3 : (memoryS3 as unknown as S3Client),
    sns,
    config,
    logger: new Logger({ serviceName: 'change-capture', level: 'INFO', sink }),
    metrics: new Metrics({ namespace: 'ChangeCapture', serviceName: 'change-capture', sink }),
  };
  return { handler: createHandler(deps), lines };
}

/** Receive until `count` SNS envelopes arrived (SNS delivers through Eddy's outbox, asynchronously). */
async function notifications(count: number, url = queueUrl): Promise<any[]> {
  const got: any[] = [];
  const deadline = Date.now() + 10_000;
  while (got.length < count && Date.now() < deadline) {
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }),
    );
    for (const m of r.Messages ?? []) got.push(JSON.parse(m.Body!));
  }
  return got;
}

async function auditObjects(): Promise<Map<string, any>> {
  if (!s3Served) {
    const out = new Map<string, any>();
    for (const [k, v] of memoryS3.objects) out.set(k.slice(bucket.length + 1), JSON.parse(v));
    return out;
  }
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'audit-logs/' }));
  const out = new Map<string, any>();
  for (const o of listed.Contents ?? []) {
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))).Body!.transformToString();
    out.set(o.Key!, JSON.parse(body));
  }
  return out;
}

const emf = (lines: string[]) => lines.map((l) => JSON.parse(l)).filter((d) => d._aws);

describe('change-capture stream processor against Eddy', () => {
  it('audits every change and notifies SNS -> SQS for the ones that matter', async () => {
    const { handler, lines } = harness();
    const login = activity('test-user-001', 'login-001', {
      ActivityType: { S: 'LOGIN' },
      Timestamp: { N: '1795312433' },
      IPAddress: { S: '192.168.1.100' },
    });
    const logout = { ...login, ActivityType: { S: 'LOGOUT' } };
    const reset = activity('test-user-002', 'pw-001', { ActivityType: { S: 'PASSWORD_RESET' } });
    const event = batch(
      streamRecord('INSERT', { new: login }),
      streamRecord('MODIFY', { old: login, new: logout }),
      streamRecord('INSERT', { new: reset }),
      streamRecord('REMOVE', { old: logout }),
      streamRecord('REMOVE', { old: reset }, { ttl: true }),
    );
    const result = await handler(event, context());
    expect(result).toEqual({ batchItemFailures: [] });

    const got = await notifications(3);
    expect(got).toHaveLength(3);
    for (const envelope of got) {
      expect(envelope).toMatchObject({ Type: 'Notification', TopicArn: topicArn });
      expect(envelope.MessageAttributes.severity.Value).toMatch(/HIGH|MEDIUM/);
    }
    const bodies = got.map((e) => JSON.parse(e.Message));
    expect(bodies.map((b) => b.reason).sort()).toEqual([
      'ACTIVITY_REMOVED',
      'ACTIVITY_TYPE_CHANGED',
      'SECURITY_ACTIVITY',
    ]);
    const changed = bodies.find((b) => b.reason === 'ACTIVITY_TYPE_CHANGED');
    expect(changed).toMatchObject({
      source: 'change-capture',
      eventName: 'MODIFY',
      userId: 'test-user-001',
      activityType: 'LOGOUT',
      previousActivityType: 'LOGIN',
      changedAttributes: ['ActivityType'],
    });
    expect(changed.auditRecord).toMatch(new RegExp(`^s3://${bucket}/audit-logs/2026/11/22/015353Z-MODIFY-`));

    const audits = await auditObjects();
    expect(audits.size).toBe(5);
    for (const key of audits.keys())
      expect(key).toMatch(/^audit-logs\/2026\/11\/22\/015353Z-(INSERT|MODIFY|REMOVE)-.+\.json$/);
    const records = [...audits.values()];
    expect(records.map((r) => r.eventName).sort()).toEqual(['INSERT', 'INSERT', 'MODIFY', 'REMOVE', 'REMOVE']);
    const modify = records.find((r) => r.eventName === 'MODIFY');
    expect(modify).toMatchObject({
      keys: { UserId: 'test-user-001', ActivityId: 'login-001' },
      oldImage: { ActivityType: 'LOGIN', IPAddress: '192.168.1.100', Timestamp: 1795312433 },
      newImage: { ActivityType: 'LOGOUT' },
      notification: { reason: 'ACTIVITY_TYPE_CHANGED', severity: 'HIGH' },
    });
    expect(records.find((r) => r.expiredByTtl)).toMatchObject({ eventName: 'REMOVE', notification: null });

    // Logs: the seed's `--filter-pattern 'Processing'` finds one line per record; one EMF line per batch.
    const logs = lines.map((l) => JSON.parse(l));
    expect(logs.filter((l) => String(l.message).startsWith('Processing'))).toHaveLength(5);
    expect(emf(lines)).toEqual([
      expect.objectContaining({
        service: 'change-capture',
        ProcessedEvents: 5,
        FailedEvents: 0,
        NotificationsPublished: 3,
      }),
    ]);
  });

  it('reports a poison record as a partial batch failure and leaves the rest for the retry', async () => {
    const { handler, lines } = harness();
    const first = streamRecord('INSERT', {
      new: activity('u-1', 'a-1', { ActivityType: { S: 'LOGIN_FAILED' } }),
    });
    const poison = streamRecord('INSERT', { new: activity('u-1', 'a-2', { ActivityType: { N: '42' } }) });
    const after = streamRecord('INSERT', { new: activity('u-1', 'a-3', { ActivityType: { S: 'LOGIN' } }) });
    const result = await handler(batch(first, poison, after), context());
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: poison.dynamodb!.SequenceNumber }] });
    const audits = await auditObjects();
    expect([...audits.values()].map((r) => r.keys.ActivityId)).toEqual(['a-1']);
    expect(await notifications(1)).toHaveLength(1);
    const error = lines.map((l) => JSON.parse(l)).find((l) => l.level === 'ERROR');
    expect(error).toMatchObject({
      message: 'Poison record',
      sequenceNumber: poison.dynamodb!.SequenceNumber,
      deferred: 1,
      error: { name: 'PoisonRecordError' },
    });
    expect(emf(lines)[0]).toMatchObject({ ProcessedEvents: 1, FailedEvents: 1 });

    // The mapping retries from the failed record: a batch of just the poison record fails again ...
    expect(await harness().handler(batch(poison), context())).toEqual({
      batchItemFailures: [{ itemIdentifier: poison.dynamodb!.SequenceNumber }],
    });
    // ... while the record after it succeeds once bisect has split them.
    expect(await harness().handler(batch(after), context())).toEqual({ batchItemFailures: [] });
  });

  it('reports a downstream failure (unknown topic) at the record that hit it', async () => {
    const { handler } = harness({ topicArn: `arn:aws:sns:${region}:000000000000:no-such-topic` });
    const quiet = streamRecord('INSERT', { new: activity('u-2', 'a-1', { ActivityType: { S: 'LOGIN' } }) });
    const loud = streamRecord('INSERT', { new: activity('u-2', 'a-2', { ActivityType: { S: 'MFA_DISABLED' } }) });
    const result = await handler(batch(quiet, loud), context());
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: loud.dynamodb!.SequenceNumber }] });
    // The audit record is written before publishing: a retry rewrites the same key, no duplicates.
    expect((await auditObjects()).size).toBe(2);
    await handler(batch(loud), context());
    expect((await auditObjects()).size).toBe(2);
  });

  it('the exported handler reads its configuration and endpoint from the environment', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      TOPIC_ARN: topicArn,
      AUDIT_BUCKET: bucket,
      AWS_ENDPOINT_URL: eddy.endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      NOTIFY_ACTIVITY_TYPES: 'LOGIN',
      LOG_LEVEL: 'ERROR',
    });
    // The default logger and metrics write JSON lines to stdout, as in Lambda: capture them.
    const stdout: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
      stdout.push(String(chunk));
      return true;
    });
    try {
      const { handler } = await import('../src/handler.ts');
      const event = batch(streamRecord('INSERT', { new: activity('u-3', 'a-1', { ActivityType: { S: 'LOGIN' } }) }));
      if (!s3Served) {
        await expect(handler(event, context())).resolves.toMatchObject({ batchItemFailures: [expect.anything()] });
        return;
      }
      expect(await handler(event, context())).toEqual({ batchItemFailures: [] });
      const [n1] = await notifications(1);
      expect(JSON.parse(n1.Message)).toMatchObject({ reason: 'SECURITY_ACTIVITY', activityType: 'LOGIN' });
      expect((await auditObjects()).size).toBe(1);
      expect(stdout.map((l) => JSON.parse(l))).toEqual([
        expect.objectContaining({ _aws: expect.anything(), ProcessedEvents: 1, NotificationsPublished: 1 }),
      ]);
    } finally {
      spy.mockRestore();
      process.env = saved;
    }
  });
});
