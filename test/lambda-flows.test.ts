import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  AddPermissionCommand,
  CreateAliasCommand,
  CreateFunctionCommand,
  GetAliasCommand,
  GetPolicyCommand,
  InvokeCommand,
  LambdaClient,
  ListTagsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  PutProvisionedConcurrencyConfigCommand,
  RemovePermissionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../src/core/zip.ts';
import { type Eddy, startEddy, type VirtualClock } from '../src/index.ts';

let eddy: Eddy;
let lambda: LambdaClient;
let ddb: DynamoDBClient;
const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

let hub: http.Server;
let hubUrl: string;
const waiters: ((v: any) => void)[] = [];
const received: any[] = [];
const nextHit = () => new Promise<any>((r) => waiters.push(r));

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, clock: 'virtual' });
  lambda = new LambdaClient({ endpoint: eddy.endpoint, region: 'us-east-1', credentials });
  ddb = new DynamoDBClient({ endpoint: eddy.endpoint, region: 'us-east-1', credentials });
  hub = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.end('ok');
      const body = JSON.parse(Buffer.concat(chunks).toString());
      received.push(body);
      waiters.shift()?.(body);
    });
  });
  await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
  hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
});
afterAll(async () => {
  lambda?.destroy();
  ddb?.destroy();
  await eddy?.stop();
  hub?.closeAllConnections();
  await new Promise((r) => hub?.close(r));
});

/** Wait (on state, not time) until the failed attempt is recorded and its retry scheduled. */
async function retryScheduled(id: string) {
  for (;;) {
    const row = eddy.storage.queue.get('lambda.async', id);
    if (row && row.visibleAt > eddy.clock.now() && row.visibleAt < eddy.clock.now() + 3600_000) return;
    await new Promise((res) => setImmediate(res));
  }
}

const zip = (src: string) => writeZip([{ name: 'index.js', data: src }]);

describe('Lambda flows', () => {
  it('a handler writes to DynamoDB with the SDK it does not bundle, at Eddy, in its own account', async () => {
    await ddb.send(
      new CreateTableCommand({
        TableName: 'orders',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'writer',
        Runtime: 'nodejs22.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: {
          ZipFile: zip(`const { DynamoDBClient, PutItemCommand, GetItemCommand } = require('@aws-sdk/client-dynamodb');
const ddb = new DynamoDBClient({});
exports.handler = async (event) => {
  await ddb.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: event.id }, total: { N: String(event.total) } } }));
  const got = await ddb.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: event.id } } }));
  return got.Item;
};`),
        },
      }),
    );
    const r = await lambda.send(
      new InvokeCommand({ FunctionName: 'writer', Payload: Buffer.from(JSON.stringify({ id: 'o-1', total: 42 })) }),
    );
    expect(r.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(r.Payload!).toString())).toEqual({ id: { S: 'o-1' }, total: { N: '42' } });
    const item = await ddb.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'o-1' } } }));
    expect(item.Item?.total).toEqual({ N: '42' });
  });

  it('retries a failing asynchronous invocation twice, after 1 and 2 minutes of clock time', async () => {
    const clock = eddy.clock as VirtualClock;
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'flaky',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: {
          ZipFile: zip(
            `exports.handler = async (e, ctx) => { await fetch(e.url, { method: 'POST', body: JSON.stringify({ id: ctx.awsRequestId }) }); throw new Error('nope'); };`,
          ),
        },
      }),
    );
    const first = nextHit();
    const r = await lambda.send(
      new InvokeCommand({
        FunctionName: 'flaky',
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ url: hubUrl })),
      }),
    );
    expect(r.StatusCode).toBe(202);
    const a = await first;
    expect(a.id).toBe(r.$metadata.requestId);
    await retryScheduled(r.$metadata.requestId!);
    const second = nextHit();
    await clock.advance(59_000);
    expect(received).toHaveLength(1);
    await clock.advance(1_000);
    expect((await second).id).toBe(r.$metadata.requestId);
    await retryScheduled(r.$metadata.requestId!);
    const third = nextHit();
    await clock.advance(119_000);
    expect(received).toHaveLength(2);
    await clock.advance(1_000);
    await third;
    // After the last attempt the event leaves the queue: no fourth call however long we wait.
    while (eddy.storage.queue.get('lambda.async', r.$metadata.requestId!))
      await new Promise((res) => setImmediate(res));
    await clock.advance(3600_000);
    expect(received).toHaveLength(3);
  });

  it('publishes versions, routes aliases, and tags functions', async () => {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'ver',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zip(`exports.handler = async () => 'v1';`) },
        Tags: { team: 'a' },
      }),
    );
    const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: 'ver' }));
    expect(v1.Version).toBe('1');
    expect(v1.FunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:ver:1');
    await lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'ver', ZipFile: zip(`exports.handler = async () => 'v2';`) }),
    );
    await lambda.send(new CreateAliasCommand({ FunctionName: 'ver', Name: 'live', FunctionVersion: '1' }));
    expect((await lambda.send(new GetAliasCommand({ FunctionName: 'ver', Name: 'live' }))).FunctionVersion).toBe('1');
    const call = async (q?: string) => {
      const r = await lambda.send(new InvokeCommand({ FunctionName: 'ver', Qualifier: q }));
      return [JSON.parse(Buffer.from(r.Payload!).toString()), r.ExecutedVersion];
    };
    expect(await call()).toEqual(['v2', '$LATEST']);
    expect(await call('1')).toEqual(['v1', '1']);
    expect(await call('live')).toEqual(['v1', '1']);
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'ver' }));
    expect(versions.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1']);

    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:ver';
    await lambda.send(new TagResourceCommand({ Resource: arn, Tags: { env: 'dev' } }));
    await lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['team'] }));
    expect((await lambda.send(new ListTagsCommand({ Resource: arn }))).Tags).toEqual({ env: 'dev' });
  });

  it('keeps resource policies (AddPermission / GetPolicy / RemovePermission) and provisioned concurrency configs', async () => {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'pol',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zip(`exports.handler = async () => 1;`) },
      }),
    );
    await expect(lambda.send(new GetPolicyCommand({ FunctionName: 'pol' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    const add = await lambda.send(
      new AddPermissionCommand({
        FunctionName: 'pol',
        StatementId: 'sns',
        Action: 'lambda:InvokeFunction',
        Principal: 'sns.amazonaws.com',
        SourceArn: 'arn:aws:sns:us-east-1:000000000000:topic',
      }),
    );
    expect(JSON.parse(add.Statement!)).toEqual({
      Sid: 'sns',
      Effect: 'Allow',
      Principal: { Service: 'sns.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:pol',
      Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:sns:us-east-1:000000000000:topic' } },
    });
    await expect(
      lambda.send(
        new AddPermissionCommand({
          FunctionName: 'pol',
          StatementId: 'sns',
          Action: 'lambda:InvokeFunction',
          Principal: 's3.amazonaws.com',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceConflictException' });
    const policy = JSON.parse((await lambda.send(new GetPolicyCommand({ FunctionName: 'pol' }))).Policy!);
    expect(policy.Statement).toHaveLength(1);
    await lambda.send(new RemovePermissionCommand({ FunctionName: 'pol', StatementId: 'sns' }));
    await expect(lambda.send(new GetPolicyCommand({ FunctionName: 'pol' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });

    await expect(
      lambda.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: 'pol',
          Qualifier: '$LATEST',
          ProvisionedConcurrentExecutions: 2,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
    await lambda.send(new PublishVersionCommand({ FunctionName: 'pol' }));
    const pc = await lambda.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: 'pol',
        Qualifier: '1',
        ProvisionedConcurrentExecutions: 2,
      }),
    );
    expect(pc).toMatchObject({
      Status: 'READY',
      RequestedProvisionedConcurrentExecutions: 2,
      AllocatedProvisionedConcurrentExecutions: 2,
    });
  });

  it('sends a failed asynchronous invocation to its OnFailure destination (SQS) with AWS record shape', async () => {
    const sqs = new SQSClient({ endpoint: eddy.endpoint, region: 'us-east-1', credentials });
    const q = await sqs.send(new CreateQueueCommand({ QueueName: 'failures' }));
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['QueueArn'] }));
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'fails',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zip(`exports.handler = async () => { throw new Error('always'); };`) },
      }),
    );
    await lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'fails',
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: attrs.Attributes!.QueueArn } },
      }),
    );
    const r = await lambda.send(
      new InvokeCommand({ FunctionName: 'fails', InvocationType: 'Event', Payload: Buffer.from('{"order":7}') }),
    );
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, WaitTimeSeconds: 10 }));
    expect(got.Messages).toHaveLength(1);
    const record = JSON.parse(got.Messages![0].Body!);
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        requestId: r.$metadata.requestId,
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fails:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 1,
      },
      requestPayload: { order: 7 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: 'always' },
    });
    sqs.destroy();
  });

  it('reclaims an environment idle for 10 minutes of clock time', async () => {
    const clock = eddy.clock as VirtualClock;
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'idle',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zip(`exports.handler = async () => process.pid;`) },
      }),
    );
    const pid = async () =>
      JSON.parse(Buffer.from((await lambda.send(new InvokeCommand({ FunctionName: 'idle' }))).Payload!).toString());
    const first = await pid();
    await clock.advance(9 * 60_000);
    expect(await pid()).toBe(first);
    await clock.advance(10 * 60_000 + 1);
    expect(await pid()).not.toBe(first);
  });
});
