import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetBucketNotificationConfigurationCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App, CfnOutput, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployAssembly, deployCommand, members } from '../src/cli/deploy.ts';
import { type Eddy, startEddy } from '../src/index.ts';
import { cfnClient } from './cloudformation-helpers.ts';

// The CDK's built-in template validation (a WASM CloudFormation validator) costs ~10 s per process;
// the templates are validated by cfn-lint below instead.
process.env.CDK_VALIDATION = 'false';

let hasCfnLint = false;
try {
  execFileSync('cfn-lint', ['--version'], { stdio: 'ignore' });
  hasCfnLint = true;
} catch {
  console.warn('SKIPPED: cfn-lint is not installed; the synthesized CDK templates were not linted.');
}

interface Version {
  gsi?: boolean;
  visibility: number;
  greeting: string;
  partitionKey: string;
  extraTopic?: boolean;
}

/** The CDK app under test, in versions: v1 → v2 (in-place updates) → v3 (table replacement). */
function synth(outdir: string, codeDir: string, v: Version): Template {
  const app = new App({ outdir });
  const stack = new Stack(app, 'CdkStack', { stackName: 'cdk-app' });
  const table = new dynamodb.Table(stack, 'Items', {
    partitionKey: { name: v.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    timeToLiveAttribute: 'ttl',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  if (v.gsi)
    table.addGlobalSecondaryIndex({
      indexName: 'byStatus',
      partitionKey: { name: 'status', type: dynamodb.AttributeType.STRING },
    });
  const dlq = new sqs.Queue(stack, 'Dlq', { retentionPeriod: Duration.days(14) });
  const queue = new sqs.Queue(stack, 'Work', {
    visibilityTimeout: Duration.seconds(v.visibility),
    deadLetterQueue: { queue: dlq, maxReceiveCount: 3 },
  });
  const topic = new sns.Topic(stack, 'Events', { displayName: 'events' });
  topic.addSubscription(new subs.SqsSubscription(queue, { rawMessageDelivery: true }));
  if (v.extraTopic) new sns.Topic(stack, 'Extra');
  const logGroup = new logs.LogGroup(stack, 'FnLogs', {
    retention: logs.RetentionDays.ONE_WEEK,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const fn = new lambda.Function(stack, 'Handler', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(codeDir),
    environment: { TABLE: table.tableName, GREETING: v.greeting },
    memorySize: 256,
    timeout: Duration.seconds(10),
    logGroup,
  });
  fn.addEventSource(
    new DynamoEventSource(table, { startingPosition: lambda.StartingPosition.TRIM_HORIZON, batchSize: 5 }),
  );
  table.grantReadWriteData(fn);
  topic.grantPublish(fn);
  const bucket = new s3.Bucket(stack, 'Files', {
    removalPolicy: RemovalPolicy.DESTROY,
    autoDeleteObjects: true,
    versioned: true,
  });
  new CfnOutput(stack, 'TableName', { value: table.tableName });
  new CfnOutput(stack, 'QueueUrl', { value: queue.queueUrl });
  new CfnOutput(stack, 'TopicArn', { value: topic.topicArn, exportName: 'cdk-app-topic' });
  new CfnOutput(stack, 'FunctionName', { value: fn.functionName });
  new CfnOutput(stack, 'BucketName', { value: bucket.bucketName });
  app.synth();
  return Template.fromStack(stack);
}

let eddy: Eddy;
let work: string;
let codeDir: string;
const clients: { destroy(): void }[] = [];
let ddb: DynamoDBClient;
let fns: LambdaClient;
let queues: SQSClient;
let objects: S3Client;

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true });
  work = mkdtempSync(join(tmpdir(), 'eddy-cdk-'));
  codeDir = join(work, 'code');
  mkdirSync(codeDir);
  writeFileSync(
    join(codeDir, 'index.js'),
    `exports.handler = async (event) => ({ table: process.env.TABLE, greeting: process.env.GREETING, records: (event.Records || []).length });\n`,
  );
  const cfg = {
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  ddb = new DynamoDBClient(cfg);
  fns = new LambdaClient(cfg);
  queues = new SQSClient(cfg);
  objects = new S3Client({ ...cfg, forcePathStyle: true });
  clients.push(ddb, fns, queues, objects);
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await eddy?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const deploy = async (dir: string) => {
  const [r] = await deployAssembly({ dir, endpoint: eddy.endpoint, region: 'us-east-1', pollMs: 20 });
  return r;
};

describe('CDK apps (aws-cdk-lib, synthesized in the test)', () => {
  it('deploys, updates in place keeping data, replaces the table on a key change, and deletes', async () => {
    const v1 = { visibility: 30, greeting: 'hello', partitionKey: 'pk' };
    const out1 = join(work, 'v1');
    const t1 = synth(out1, codeDir, v1);
    t1.resourceCountIs('AWS::DynamoDB::Table', 1);
    t1.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 5, StartingPosition: 'TRIM_HORIZON' });

    const r1 = await deploy(out1);
    expect(r1.status).toBe('CREATE_COMPLETE');
    const o = r1.outputs;
    expect(Object.keys(o).sort()).toEqual(['BucketName', 'FunctionName', 'QueueUrl', 'TableName', 'TopicArn']);

    // The resources exist in Eddy's services and work together.
    const desc = await ddb.send(new DescribeTableCommand({ TableName: o.TableName }));
    expect(desc.Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    await ddb.send(
      new PutItemCommand({ TableName: o.TableName, Item: { pk: { S: 'a' }, sk: { S: '1' }, status: { S: 'new' } } }),
    );
    const inv = await fns.send(new InvokeCommand({ FunctionName: o.FunctionName, Payload: Buffer.from('{}') }));
    expect(JSON.parse(Buffer.from(inv.Payload!).toString())).toEqual({
      table: o.TableName,
      greeting: 'hello',
      records: 0,
    });
    const redrive = await queues.send(new GetQueueAttributesCommand({ QueueUrl: o.QueueUrl, AttributeNames: ['All'] }));
    expect(redrive.Attributes?.VisibilityTimeout).toBe('30');
    expect(JSON.parse(redrive.Attributes?.RedrivePolicy ?? '{}').maxReceiveCount).toBe(3);
    await objects.send(new PutObjectCommand({ Bucket: o.BucketName, Key: 'k.txt', Body: 'x' }));

    // v2: a GSI, a new visibility timeout, a new environment, one more topic: all in place.
    const out2 = join(work, 'v2');
    synth(out2, codeDir, { ...v1, gsi: true, visibility: 60, greeting: 'bonjour', extraTopic: true });
    const r2 = await deploy(out2);
    expect(r2.status).toBe('UPDATE_COMPLETE');
    expect(r2.outputs).toEqual(o);
    const item = await ddb.send(
      new GetItemCommand({ TableName: o.TableName, Key: { pk: { S: 'a' }, sk: { S: '1' } } }),
    );
    expect(item.Item?.status?.S).toBe('new');
    const desc2 = await ddb.send(new DescribeTableCommand({ TableName: o.TableName }));
    expect(desc2.Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['byStatus']);
    const cfg = await fns.send(new GetFunctionConfigurationCommand({ FunctionName: o.FunctionName }));
    expect(cfg.Environment?.Variables?.GREETING).toBe('bonjour');
    const vt = await queues.send(
      new GetQueueAttributesCommand({ QueueUrl: o.QueueUrl, AttributeNames: ['VisibilityTimeout'] }),
    );
    expect(vt.Attributes?.VisibilityTimeout).toBe('60');

    // The same assembly again: no changes.
    expect((await deploy(out2)).noChanges).toBe(true);

    // v3: a new partition key replaces the table (a new name; the old table and its data go, as on AWS).
    const out3 = join(work, 'v3');
    synth(out3, codeDir, {
      ...v1,
      gsi: true,
      visibility: 60,
      greeting: 'bonjour',
      extraTopic: true,
      partitionKey: 'id',
    });
    const r3 = await deploy(out3);
    expect(r3.status).toBe('UPDATE_COMPLETE');
    expect(r3.outputs.TableName).not.toBe(o.TableName);
    await expect(ddb.send(new DescribeTableCommand({ TableName: o.TableName }))).rejects.toThrow(/not found/);
    const env3 = await fns.send(new GetFunctionConfigurationCommand({ FunctionName: o.FunctionName }));
    expect(env3.Environment?.Variables?.TABLE).toBe(r3.outputs.TableName);

    // Delete: everything goes, the versioned bucket emptied by the CDK's auto-delete-objects resource.
    const cfn = cfnClient(eddy);
    await cfn.call('DeleteStack', { StackName: 'cdk-app' });
    expect((await cfn.wait(r1.stackId)).StackStatus).toBe('DELETE_COMPLETE');
    await expect(ddb.send(new DescribeTableCommand({ TableName: r3.outputs.TableName }))).rejects.toThrow(/not found/);
    await expect(objects.send(new HeadBucketCommand({ Bucket: o.BucketName }))).rejects.toThrow();
    await expect(fns.send(new GetFunctionConfigurationCommand({ FunctionName: o.FunctionName }))).rejects.toThrow(
      /not found/i,
    );
    const exports = members((await cfn.call('ListExports')).Exports);
    expect(exports).toEqual([]);
  }, 60_000);

  it("the CDK's own custom resources run natively: AwsCustomResource (SDK call through Eddy) and bucket notifications", async () => {
    const outdir = join(work, 'custom');
    const app = new App({ outdir });
    const stack = new Stack(app, 'CustomStack', { stackName: 'cdk-custom' });
    const table = new dynamodb.Table(stack, 'T', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const seed = new cr.AwsCustomResource(stack, 'Seed', {
      onCreate: {
        service: 'DynamoDB',
        action: 'putItem',
        parameters: { TableName: table.tableName, Item: { pk: { S: 'seeded' }, n: { N: '1' } } },
        physicalResourceId: cr.PhysicalResourceId.of('seed-item'),
      },
      onDelete: {
        service: '@aws-sdk/client-dynamodb',
        action: 'DeleteItemCommand',
        parameters: { TableName: table.tableName, Key: { pk: { S: 'seeded' } } },
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [table.tableArn] }),
    });
    const read = new cr.AwsCustomResource(stack, 'Read', {
      onCreate: {
        service: 'DynamoDB',
        action: 'getItem',
        parameters: { TableName: table.tableName, Key: { pk: { S: 'seeded' } } },
        physicalResourceId: cr.PhysicalResourceId.of('read-item'),
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [table.tableArn] }),
    });
    read.node.addDependency(seed);
    const queue = new sqs.Queue(stack, 'Q');
    const bucket = new s3.Bucket(stack, 'B', { removalPolicy: RemovalPolicy.DESTROY });
    bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(queue), { prefix: 'in/' });
    new CfnOutput(stack, 'Table', { value: table.tableName });
    new CfnOutput(stack, 'Bucket', { value: bucket.bucketName });
    new CfnOutput(stack, 'ReadN', { value: read.getResponseField('Item.n.N') });
    app.synth();

    const r = await deploy(outdir);
    expect(r.status).toBe('CREATE_COMPLETE');
    expect(r.outputs.ReadN).toBe('1');
    const item = await ddb.send(new GetItemCommand({ TableName: r.outputs.Table, Key: { pk: { S: 'seeded' } } }));
    expect(item.Item?.n?.N).toBe('1');
    const n = await objects.send(new GetBucketNotificationConfigurationCommand({ Bucket: r.outputs.Bucket }));
    expect(n.QueueConfigurations?.[0].Events).toEqual(['s3:ObjectCreated:*']);
    const rule = n.QueueConfigurations?.[0].Filter?.Key?.FilterRules?.[0];
    expect([rule?.Name?.toLowerCase(), rule?.Value]).toEqual(['prefix', 'in/']);
    const cfn = cfnClient(eddy);
    await cfn.call('DeleteStack', { StackName: 'cdk-custom' });
    expect((await cfn.wait(r.stackId)).StackStatus).toBe('DELETE_COMPLETE');
  }, 60_000);

  it('custom resources through the CDK Provider framework: the user onEvent handler runs for Create/Update/Delete', async () => {
    const build = (answer: string) => {
      const outdir = join(work, `provider-${answer}`);
      const app = new App({ outdir });
      const stack = new Stack(app, 'ProviderStack', { stackName: 'cdk-provider' });
      const onEvent = new lambda.Function(stack, 'OnEvent', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline(
          `exports.handler = async (e) => ({ PhysicalResourceId: 'thing-' + e.ResourceProperties.Answer, Data: { Answer: e.ResourceProperties.Answer, Type: e.RequestType } });`,
        ),
      });
      const provider = new cr.Provider(stack, 'Provider', { onEventHandler: onEvent });
      const res = new CustomResource(stack, 'Thing', {
        serviceToken: provider.serviceToken,
        properties: { Answer: answer },
      });
      new CfnOutput(stack, 'Answer', { value: res.getAttString('Answer') });
      new CfnOutput(stack, 'Type', { value: res.getAttString('Type') });
      new CfnOutput(stack, 'Id', { value: res.ref });
      app.synth();
      return outdir;
    };
    const r1 = await deploy(build('42'));
    expect(r1.status).toBe('CREATE_COMPLETE');
    expect(r1.outputs).toEqual({ Answer: '42', Type: 'Create', Id: 'thing-42' });
    const r2 = await deploy(build('43'));
    expect(r2.outputs).toEqual({ Answer: '43', Type: 'Update', Id: 'thing-43' });
    const cfn = cfnClient(eddy);
    await cfn.call('DeleteStack', { StackName: 'cdk-provider' });
    expect((await cfn.wait(r1.stackId)).StackStatus).toBe('DELETE_COMPLETE');
  }, 60_000);

  it('templates over the 51,200-byte body limit go through S3 (TemplateURL), as the CDK CLI sends them', async () => {
    const outdir = join(work, 'big');
    const app = new App({ outdir });
    const stack = new Stack(app, 'BigStack', { stackName: 'cdk-big' });
    for (let i = 0; i < 250; i++)
      new sqs.Queue(stack, `Queue${i}`, {
        visibilityTimeout: Duration.seconds(30 + i),
        retentionPeriod: Duration.days(4),
      });
    app.synth();
    expect(readFileSync(join(outdir, 'BigStack.template.json')).length).toBeGreaterThan(51_200);
    const r = await deploy(outdir);
    expect(r.status).toBe('CREATE_COMPLETE');
    const cfn = cfnClient(eddy);
    let total = 0;
    let token: string | undefined;
    do {
      const page = await cfn.call('ListStackResources', { StackName: 'cdk-big', NextToken: token });
      total += members(page.StackResourceSummaries).length;
      token = page.NextToken || undefined;
    } while (token);
    expect(total).toBe(250);
    await cfn.call('DeleteStack', { StackName: 'cdk-big' });
    expect((await cfn.wait(r.stackId)).StackStatus).toBe('DELETE_COMPLETE');
  }, 60_000);

  it('eddy deploy <app dir>: synthesizes with the cdk.json app command, prints outputs, writes --outputs-file', async () => {
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'cdk.json'),
      JSON.stringify({ app: 'node app.cjs', context: { queueName: 'from-context' } }),
    );
    writeFileSync(
      join(app, 'app.cjs'),
      `const { App, Stack, CfnOutput } = require('aws-cdk-lib');
const sqs = require('aws-cdk-lib/aws-sqs');
const app = new App();
const stack = new Stack(app, 'AppDirStack');
const q = new sqs.Queue(stack, 'Q', { queueName: app.node.tryGetContext('queueName') });
new CfnOutput(stack, 'QueueName', { value: q.queueName });
app.synth();
`,
    );
    const printed: string[] = [];
    const outputsFile = join(work, 'outputs.json');
    const prevNodePath = process.env.NODE_PATH;
    process.env.NODE_PATH = join(process.cwd(), 'node_modules');
    try {
      const code = await deployCommand([app, '--endpoint', eddy.endpoint, '--outputs-file', outputsFile], (s) =>
        printed.push(s),
      );
      expect(code).toBe(0);
    } finally {
      if (prevNodePath === undefined) delete process.env.NODE_PATH;
      else process.env.NODE_PATH = prevNodePath;
    }
    expect(printed.join('')).toContain('AppDirStack.QueueName = from-context');
    expect(JSON.parse(readFileSync(outputsFile, 'utf8'))).toEqual({ AppDirStack: { QueueName: 'from-context' } });
    const url = (await queues.send(new GetQueueUrlCommand({ QueueName: 'from-context' }))).QueueUrl;
    expect(url).toBe(`${eddy.endpoint}/000000000000/from-context`);
  }, 60_000);

  it.skipIf(!hasCfnLint)(
    'the synthesized templates pass cfn-lint',
    () => {
      const files = ['v1', 'v3'].map((v) => join(work, v, 'CdkStack.template.json'));
      for (const f of files) JSON.parse(readFileSync(f, 'utf8'));
      const r = spawnSync('cfn-lint', ['--format', 'parseable', ...files], { encoding: 'utf8' });
      // Exit status bits: 2 = errors, 4 = warnings, 8 = informational. Errors fail the test.
      const errors = r.stdout.split('\n').filter((l) => /:E\d{4}:/.test(l));
      expect(errors).toEqual([]);
      expect(r.status! & 2).toBe(0);
    },
    60_000,
  );
});
