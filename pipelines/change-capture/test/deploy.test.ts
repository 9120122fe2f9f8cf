/**
 * The CDK app synthesized for real (esbuild bundle, SDK external), checked by cfn-lint, deployed to an
 * in-process Eddy with `eddy deploy`, then driven by the seed 000 test commands (scripts/test-commands.ts):
 * put-item / update-item / delete-item -> stream -> event source mapping -> stream processor -> S3 audit
 * objects + SNS -> SQS notifications + 'Processing' log lines, and a poison record into the DLQ.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Eddy, startEddy } from '../../../src/index.ts';
import type { Target } from '../../shared/target.ts';
import { clientConfig, stackOutputs } from '../../shared/target.ts';
import { ChangeCaptureStack } from '../infra/lib/change-capture-stack.ts';
import { resolveConfig } from '../infra/lib/config.ts';
import { resolveResources } from '../scripts/resources.ts';
import { runTestCommands } from '../scripts/test-commands.ts';
import { eddyDeploy } from './local-deploy.ts';

const config = resolveConfig({ notificationEmail: 'ops@example.com' });
const outdir = mkdtempSync(join(tmpdir(), 'change-capture-assembly-'));
let templatePath = '';
/** cfn-lint runs in the background while the stack deploys (it takes seconds of Python start-up). */
let lint: Promise<{ code: number; output: string }> | undefined;
/** `eddy deploy`, started as soon as Eddy is up. */
let deployment: ReturnType<typeof eddyDeploy>;
let eddy: Eddy;
let target: Target;
const env = { STACK_NAME: config.stackName };
const clients: { destroy(): void }[] = [];
/** An SQS queue subscribed to the alarm topic, standing in for the operator's inbox. */
let alarmQueueUrl = '';

const haveCfnLint = (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, 'cfn-lint')));
if (!haveCfnLint) console.warn('cfn-lint is not installed: skipping the cfn-lint check of the change-capture template');

beforeAll(async () => {
  const app = new App({ outdir });
  new ChangeCaptureStack(app, 'ChangeCapture', { stackName: config.stackName, config });
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
  target = {
    kind: 'eddy',
    region: 'us-east-1',
    endpoint: eddy.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await eddy?.stop();
  rmSync(outdir, { recursive: true, force: true });
});

describe('change-capture cloud assembly', () => {
  it('bundles the handler as CommonJS with the AWS SDK left to the runtime', () => {
    const assetDir = readdirSync(outdir).find((d) => d.startsWith('asset.'));
    const bundle = readFileSync(join(outdir, assetDir!, 'index.js'), 'utf8');
    expect(bundle).toMatch(/require\("@aws-sdk\/client-s3"\)/);
    expect(bundle).not.toMatch(/class S3Client/);
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

describe('change-capture deployed on Eddy (eddy deploy)', () => {
  beforeAll(async () => {
    const deployed = await deployment;
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    expect(deployed.stderr).toContain(`${config.stackName}: CREATE_COMPLETE`);
    const sns = new SNSClient(clientConfig(target));
    const sqs = new SQSClient(clientConfig(target));
    clients.push(sns, sqs);
    alarmQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'operator-inbox' }))).QueueUrl!;
    const arn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: alarmQueueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes!.QueueArn!;
    const { AlarmTopicArn } = await stackOutputs(target, config.stackName);
    await sns.send(new SubscribeCommand({ TopicArn: AlarmTopicArn, Protocol: 'sqs', Endpoint: arn }));
  }, 120_000);

  it('the scripts find every resource in the stack outputs', async () => {
    expect(await resolveResources(target, env)).toMatchObject({
      tableName: expect.stringContaining('UserActivityTable'),
      functionName: 'stream-processor-dev',
      logGroupName: '/aws/lambda/stream-processor-dev',
      topicArn: expect.stringMatching(/^arn:aws:sns:/),
      notificationQueueUrl: expect.stringContaining('NotificationQueue'),
      deadLetterQueueUrl: expect.stringContaining('StreamDeadLetterQueue'),
      auditBucket: expect.stringContaining('auditbucket'),
    });
  });

  it('the seed 000 test commands pass: audit objects, notifications, logs, poison record -> DLQ', async () => {
    const results = await runTestCommands({ target, env, remove: true, poison: true, timeoutMs: 30_000 });
    expect(results.map((r) => [r.name, r.ok, r.ok ? '' : r.detail])).toEqual([
      ['S3 audit records', true, ''],
      ['SNS notifications (SQS subscription)', true, ''],
      ["CloudWatch Logs 'Processing' in /aws/lambda/stream-processor-dev", true, ''],
      ['poison record -> DLQ', true, ''],
    ]);
  }, 90_000);

  it('the failed records raise the FailedEvents alarm (from the EMF metric), which notifies the alarm topic', async () => {
    const cw = new CloudWatchClient(clientConfig(target));
    const sqs = new SQSClient(clientConfig(target));
    clients.push(cw, sqs);
    let state: string | undefined;
    for (let i = 0; i < 90 && state !== 'ALARM'; i++) {
      const alarms = await cw.send(new DescribeAlarmsCommand({}));
      state = alarms.MetricAlarms?.find((a) => a.MetricName === 'FailedEvents')?.StateValue;
      if (state !== 'ALARM') await new Promise((r) => setTimeout(r, 1000));
    }
    expect(state).toBe('ALARM');
    let alarm: any;
    for (let i = 0; i < 20 && !alarm; i++) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: alarmQueueUrl, WaitTimeSeconds: 1 }));
      for (const m of r.Messages ?? []) {
        const body = JSON.parse(JSON.parse(m.Body!).Message);
        if (body.NewStateValue === 'ALARM' && body.Trigger?.MetricName === 'FailedEvents') alarm = body;
      }
    }
    expect(alarm).toMatchObject({
      NewStateValue: 'ALARM',
      Trigger: { MetricName: 'FailedEvents', Namespace: 'ChangeCapture' },
    });
  }, 120_000);
});
