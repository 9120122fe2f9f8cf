import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeZip } from '../src/core/zip.ts';
import { type Eddy, startEddy } from '../src/index.ts';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const cfg = { endpoint: '', region: 'us-east-1', credentials: creds, maxAttempts: 1 };

let eddy: Eddy;
let s3: S3Client;
let sqs: SQSClient;
let sns: SNSClient;

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true });
  cfg.endpoint = eddy.endpoint;
  s3 = new S3Client({ ...cfg, forcePathStyle: true });
  sqs = new SQSClient(cfg);
  sns = new SNSClient(cfg);
});
afterAll(async () => {
  for (const c of [s3, sqs, sns]) c?.destroy();
  await eddy?.stop();
});
beforeEach(() => eddy.reset());

async function queue(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: attrs.Attributes!.QueueArn! };
}

async function receive(url: string, n: number): Promise<any[]> {
  const out: any[] = [];
  for (let i = 0; i < 20 && out.length < n; i++) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of r.Messages ?? []) out.push(JSON.parse(m.Body!));
  }
  return out;
}

async function fails(p: Promise<unknown>): Promise<S3ServiceException & Record<string, any>> {
  try {
    await p;
  } catch (e) {
    return e as S3ServiceException & Record<string, any>;
  }
  throw new Error('expected the call to fail');
}

describe('event notifications', () => {
  it('delivers ObjectCreated / ObjectRemoved records to SQS with prefix/suffix filters', async () => {
    const q = await queue('s3-events');
    await s3.send(new CreateBucketCommand({ Bucket: 'notify' }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'notify',
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              Id: 'json-uploads',
              QueueArn: q.arn,
              Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
              Filter: {
                Key: {
                  FilterRules: [
                    { Name: 'prefix', Value: 'audit-logs/' },
                    { Name: 'suffix', Value: '.json' },
                  ],
                },
              },
            },
          ],
        },
      }),
    );
    const got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'notify' }));
    expect(got.QueueConfigurations?.[0]).toMatchObject({
      Id: 'json-uploads',
      QueueArn: q.arn,
      Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
    });
    // S3 first sends a test event to the queue.
    const [test] = await receive(q.url, 1);
    expect(test).toMatchObject({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'notify' });

    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'notify', Key: 'audit-logs/2026/a b.json', Body: '{"a":1}' }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'notify', Key: 'audit-logs/skip.txt', Body: 'no' }));
    await s3.send(new PutObjectCommand({ Bucket: 'notify', Key: 'other/skip.json', Body: 'no' }));
    await s3.send(
      new CopyObjectCommand({
        Bucket: 'notify',
        Key: 'audit-logs/copy.json',
        CopySource: 'notify/audit-logs/2026/a%20b.json',
      }),
    );
    await s3.send(new DeleteObjectCommand({ Bucket: 'notify', Key: 'audit-logs/copy.json' }));
    const events = await receive(q.url, 3);
    expect(events.map((e) => e.Records[0].eventName)).toEqual([
      'ObjectCreated:Put',
      'ObjectCreated:Copy',
      'ObjectRemoved:Delete',
    ]);
    const r = events[0].Records[0];
    expect(r).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'json-uploads',
        bucket: { name: 'notify', arn: 'arn:aws:s3:::notify' },
        object: { key: 'audit-logs/2026/a+b.json', size: 7, eTag: put.ETag!.replace(/"/g, '') },
      },
    });
    expect(r.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(r.s3.object.sequencer).toMatch(/^[0-9A-F]+$/);
    expect(events[2].Records[0].s3.object.size).toBeUndefined();
  });

  it('delivers through SNS (Amazon S3 Notification) and reports multipart and delete-marker events', async () => {
    const q = await queue('from-topic');
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 's3-topic' }));
    await sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: q.arn, Attributes: { RawMessageDelivery: 'false' } }),
    );
    await s3.send(new CreateBucketCommand({ Bucket: 'notify-sns' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'notify-sns', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'notify-sns',
        NotificationConfiguration: {
          TopicConfigurations: [
            { TopicArn, Events: ['s3:ObjectCreated:CompleteMultipartUpload', 's3:ObjectRemoved:DeleteMarkerCreated'] },
          ],
        },
      }),
    );
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'notify-sns', Key: 'mp' }));
    const p = await s3.send(
      new UploadPartCommand({ Bucket: 'notify-sns', Key: 'mp', UploadId, PartNumber: 1, Body: 'part' }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'notify-sns',
        Key: 'mp',
        UploadId,
        MultipartUpload: { Parts: [{ ETag: p.ETag, PartNumber: 1 }] },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'notify-sns', Key: 'plain', Body: 'x' })); // not configured
    await s3.send(new DeleteObjectCommand({ Bucket: 'notify-sns', Key: 'mp' }));
    const envelopes = await receive(q.url, 3);
    expect(envelopes.every((e) => e.Type === 'Notification' && e.Subject === 'Amazon S3 Notification')).toBe(true);
    const bodies = envelopes.map((e) => JSON.parse(e.Message));
    expect(bodies[0]).toMatchObject({ Event: 's3:TestEvent' });
    expect(bodies.slice(1).map((b) => b.Records[0].eventName)).toEqual([
      'ObjectCreated:CompleteMultipartUpload',
      'ObjectRemoved:DeleteMarkerCreated',
    ]);
    expect(bodies[1].Records[0].s3.object.versionId).toBeTruthy();
  });

  it('invokes a Lambda function with the event (asynchronously, through the outbox)', async () => {
    // The handler posts what it received to a local hub.
    const received: any[] = [];
    let wake: () => void = () => {};
    const hub = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString()));
        res.end('ok');
        wake();
      });
    });
    await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
    const lambda = new LambdaClient(cfg);
    try {
      const fn = await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'on-upload',
          Runtime: 'nodejs20.x',
          Role: 'arn:aws:iam::000000000000:role/r',
          Handler: 'index.handler',
          Environment: { Variables: { HUB: `http://127.0.0.1:${(hub.address() as AddressInfo).port}` } },
          Code: {
            ZipFile: writeZip([
              {
                name: 'index.js',
                data: "exports.handler = async (event) => { await fetch(process.env.HUB, { method: 'POST', body: JSON.stringify(event) }); };",
              },
            ]),
          },
        }),
      );
      await s3.send(new CreateBucketCommand({ Bucket: 'notify-fn' }));
      await s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: 'notify-fn',
          NotificationConfiguration: {
            LambdaFunctionConfigurations: [
              { Id: 'fn', LambdaFunctionArn: fn.FunctionArn, Events: ['s3:ObjectCreated:Put'] },
            ],
          },
        }),
      );
      const got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'notify-fn' }));
      expect(got.LambdaFunctionConfigurations?.[0].LambdaFunctionArn).toBe(fn.FunctionArn);
      const arrived = new Promise<void>((r) => (wake = r));
      await s3.send(new PutObjectCommand({ Bucket: 'notify-fn', Key: 'uploads/x.bin', Body: 'x' }));
      await arrived;
      expect(received[0].Records[0]).toMatchObject({
        eventName: 'ObjectCreated:Put',
        s3: { configurationId: 'fn', object: { key: 'uploads/x.bin', size: 1 } },
      });
    } finally {
      lambda.destroy();
      hub.closeAllConnections();
      await new Promise((r) => hub.close(r));
    }
  });

  it('refuses bad destinations and events', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'notify-bad' }));
    const badArn = await fails(
      s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: 'notify-bad',
          NotificationConfiguration: {
            QueueConfigurations: [{ QueueArn: 'not-an-arn', Events: ['s3:ObjectCreated:*'] }],
          },
        }),
      ),
    );
    expect(badArn.name).toBe('InvalidArgument');
    const badEvent = await fails(
      s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: 'notify-bad',
          NotificationConfiguration: {
            QueueConfigurations: [{ QueueArn: 'arn:aws:sqs:us-east-1:000000000000:q', Events: ['s3:Nope' as never] }],
          },
        }),
      ),
    );
    expect(badEvent.name).toBe('InvalidArgument');
    expect(
      (await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'notify-bad' }))).QueueConfigurations,
    ).toBeUndefined();
  });
});
