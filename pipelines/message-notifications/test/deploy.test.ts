/**
 * The CDK app synthesized for real (esbuild bundle, SDK external), checked by cfn-lint, deployed to an
 * in-process Eddy with `eddy deploy`, then driven by the seed's scripts: table -> stream -> event source
 * mapping -> message-stream-processor -> SNS -> SQS, a poison record retried into the DLQ, and the
 * function's logs in CloudWatch Logs.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Eddy, startEddy } from '../../../src/index.ts';
import type { Target } from '../../shared/target.ts';
import { resolveConfig } from '../infra/lib/config.ts';
import { MessageNotificationsStack } from '../infra/lib/message-notifications-stack.ts';
import { runEndToEnd } from '../scripts/end-to-end-test.ts';
import { resolveResources } from '../scripts/resources.ts';
import { snsRoundTrip } from '../scripts/sns-test.ts';
import { eddyDeploy } from './local-deploy.ts';

const config = resolveConfig({ notificationEmail: 'you@example.com' });
const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const outdir = mkdtempSync(join(tmpdir(), 'message-notifications-assembly-'));
let templatePath = '';
/** cfn-lint runs in the background while the stack deploys (it takes seconds of Python start-up). */
let lint: Promise<{ code: number; output: string }> | undefined;
/** `eddy deploy`, started as soon as Eddy is up. */
let deployment: ReturnType<typeof eddyDeploy>;
let eddy: Eddy;
let target: Target;
const env = { STACK_NAME: config.stackName };
const clients: { destroy(): void }[] = [];
/** The high-volume scenario: 1,000 writes (a few seconds on an idle machine); PIPELINES_E2E_VOLUME overrides. */
const volume = Number(process.env.PIPELINES_E2E_VOLUME ?? 1000);

const haveCfnLint = (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, 'cfn-lint')));
if (!haveCfnLint)
  console.warn('cfn-lint is not installed: skipping the cfn-lint check of the message-notifications template');

beforeAll(async () => {
  const app = new App({ outdir });
  new MessageNotificationsStack(app, 'MessageNotifications', { stackName: config.stackName, config });
  templatePath = join(outdir, app.synth().getStackByName(config.stackName).templateFile);
  if (haveCfnLint)
    lint = new Promise((resolve) =>
      // W3005: CDK adds an explicit DependsOn on the role that the GetAtt already implies; harmless.
      execFile('cfn-lint', ['--ignore-checks', 'W3005', '--', templatePath], { encoding: 'utf8' }, (e, out, err) =>
        resolve({ code: e ? Number(e.code ?? 1) : 0, output: out + err }),
      ),
    );
  eddy = await startEddy({ port: 0, memory: true, logLevel: 'silent' });
  deployment = eddyDeploy(outdir, eddy.endpoint);
  target = { kind: 'eddy', region, endpoint: eddy.endpoint, credentials };
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await eddy?.stop();
  rmSync(outdir, { recursive: true, force: true });
});

describe('message-notifications cloud assembly', () => {
  it('bundles the handler as CommonJS with the AWS SDK left to the runtime', () => {
    const assetDir = readdirSync(outdir).find((d) => d.startsWith('asset.'));
    const bundle = readFileSync(join(outdir, assetDir!, 'index.js'), 'utf8');
    expect(bundle).toMatch(/require\("@aws-sdk\/client-dynamodb"\)/);
    expect(bundle).not.toMatch(/class DynamoDBClient/);
  });

  it.skipIf(!haveCfnLint)(
    'passes cfn-lint',
    async () => {
      const result = await lint!;
      expect(result.output, 'cfn-lint findings').toBe('');
      expect(result.code).toBe(0);
    },
    180_000,
  );
});

describe('message-notifications deployed on Eddy (eddy deploy)', () => {
  beforeAll(async () => {
    const deployed = await deployment;
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    expect(deployed.stderr).toContain('message-notifications: CREATE_COMPLETE');
  }, 120_000);

  it('exposes the seed outputs to the scripts', async () => {
    const r = await resolveResources(target, env);
    expect(r).toMatchObject({
      tableName: 'messages',
      topicArn: `arn:aws:sns:${region}:000000000000:message-notifications`,
      queueUrl: expect.stringMatching(/\/message-notifications-queue$/),
      deadLetterQueueUrl: expect.stringMatching(/\/message-stream-processor-dlq$/),
      logGroupName: '/aws/lambda/message-stream-processor',
    });
  });

  it('sns-test: the topic delivers to its SQS subscription', async () => {
    const r = await snsRoundTrip(target, 10_000, env);
    expect(r.envelope).toMatchObject({ Type: 'Notification', Subject: 'SNS test message' });
  });

  it(`end-to-end-test: basic flow, reply chain and ${volume} messages all notified`, async () => {
    const results = await runEndToEnd({ target, env, volume, timeoutMs: 90_000 });
    expect(results.map((r) => [r.name, r.ok, r.ok ? '' : r.detail])).toEqual([
      ['basic message flow', true, ''],
      ['reply chain', true, ''],
      [`high volume (${volume})`, true, ''],
    ]);
  }, 120_000);

  it('a poison message is retried with bisect and lands in the DLQ; logs are in CloudWatch Logs', async () => {
    const cfg = { region, endpoint: eddy.endpoint, credentials };
    const ddb = new DynamoDBClient(cfg);
    const sqs = new SQSClient(cfg);
    const logs = new CloudWatchLogsClient(cfg);
    clients.push(ddb, sqs, logs);
    const { deadLetterQueueUrl, logGroupName } = await resolveResources(target, env);
    await ddb.send(
      new PutItemCommand({
        TableName: config.tableName,
        Item: { message_id: { S: 'poison-1' }, author: { S: 'mallory' } },
      }),
    );
    let record: any;
    for (let i = 0; i < 60 && !record; i++) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetterQueueUrl, WaitTimeSeconds: 1 }));
      if (r.Messages?.length) record = JSON.parse(r.Messages[0].Body!);
    }
    expect(record).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: config.retryAttempts + 1 },
      DDBStreamBatchInfo: { batchSize: 1, streamArn: expect.stringContaining(`table/${config.tableName}/stream/`) },
    });

    const processing = await logs.send(new FilterLogEventsCommand({ logGroupName, filterPattern: 'Processing' }));
    expect(processing.events?.length).toBeGreaterThanOrEqual(volume + 3);
    const errors = await logs.send(new FilterLogEventsCommand({ logGroupName, filterPattern: '"Poison record"' }));
    expect(errors.events?.length).toBe(config.retryAttempts + 1);
    expect(JSON.parse(errors.events![0].message!)).toMatchObject({
      level: 'ERROR',
      service: 'message-notifications',
      error: { name: 'PoisonRecordError', message: 'message has no content' },
    });
  }, 60_000);
});
