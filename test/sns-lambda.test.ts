// SNS → Lambda: the function is invoked with the SNS event shape through the outbox.
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeZip } from '../src/core/zip.ts';
import { type Eddy, startEddy } from '../src/index.ts';

let eddy: Eddy;
beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, logLevel: 'silent' });
});
afterAll(() => eddy.stop());

it('invokes a subscribed function with the SNS event', async () => {
  const cfg = {
    endpoint: eddy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const sns = new SNSClient(cfg);
  const sqs = new SQSClient(cfg);
  const lambda = new LambdaClient(cfg);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'seen' }));
  const src = `const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');
exports.handler = async (event) => {
  await new SQSClient({}).send(new SendMessageCommand({ QueueUrl: process.env.OUT, MessageBody: JSON.stringify(event) }));
};`;
  const fn = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'on-sns',
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::000000000000:role/r',
      Handler: 'index.handler',
      Code: { ZipFile: writeZip([{ name: 'index.js', data: src }]) },
      Environment: { Variables: { OUT: QueueUrl! } },
    }),
  );
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'to-lambda' }));
  const { SubscriptionArn } = await sns.send(
    new SubscribeCommand({ TopicArn, Protocol: 'lambda', Endpoint: fn.FunctionArn }),
  );
  const pub = await sns.send(
    new PublishCommand({
      TopicArn,
      Message: 'hi fn',
      MessageAttributes: { a: { DataType: 'String', StringValue: '1' } },
    }),
  );
  const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
  const event = JSON.parse(r.Messages![0].Body!);
  expect(event.Records[0]).toMatchObject({
    EventSource: 'aws:sns',
    EventVersion: '1.0',
    EventSubscriptionArn: SubscriptionArn,
    Sns: {
      Type: 'Notification',
      MessageId: pub.MessageId,
      TopicArn,
      Subject: null,
      Message: 'hi fn',
      MessageAttributes: { a: { Type: 'String', Value: '1' } },
    },
  });
  sns.destroy();
  sqs.destroy();
  lambda.destroy();
}, 30_000);
