// SNS (query protocol) with the real SDK v3 client: topics, subscriptions, fan-out through the
// outbox to SQS, HTTP endpoints, the local mailbox and (refused) Lambda targets.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import {
  ConfirmSubscriptionCommand,
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListSubscriptionsCommand,
  ListTopicsCommand,
  PublishBatchCommand,
  PublishCommand,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Eddy, startEddy, VirtualClock } from '../src/index.ts';

let eddy: Eddy;
let sns: SNSClient;
let sqs: SQSClient;
let clock: VirtualClock;
const cfg = () => ({
  endpoint: eddy.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

beforeAll(async () => {
  clock = new VirtualClock(Date.UTC(2026, 0, 1));
  eddy = await startEddy({ port: 0, memory: true, clock, logLevel: 'silent' });
  sns = new SNSClient(cfg());
  sqs = new SQSClient(cfg());
});
afterAll(async () => {
  sns.destroy();
  sqs.destroy();
  await eddy.stop();
});
beforeEach(() => eddy.reset());

const topic = async (Name: string, Attributes?: Record<string, string>) =>
  (await sns.send(new CreateTopicCommand({ Name, Attributes }))).TopicArn!;
async function queue(QueueName: string, Attributes?: Record<string, string>) {
  const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName, Attributes }))).QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!
    .QueueArn!;
  return { QueueUrl, arn };
}
const tick = () => new Promise((r) => setImmediate(r));
const receiveAll = async (QueueUrl: string) =>
  (
    await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    )
  ).Messages ?? [];

describe('topics', () => {
  it('creates (idempotently), lists, reads, sets and deletes topics', async () => {
    const arn = await topic('alerts');
    expect(arn).toBe('arn:aws:sns:us-east-1:000000000000:alerts');
    expect(await topic('alerts')).toBe(arn);
    await sns.send(
      new SetTopicAttributesCommand({ TopicArn: arn, AttributeName: 'DisplayName', AttributeValue: 'Alerts' }),
    );
    const a = (await sns.send(new GetTopicAttributesCommand({ TopicArn: arn }))).Attributes!;
    expect(a).toMatchObject({
      TopicArn: arn,
      Owner: '000000000000',
      DisplayName: 'Alerts',
      SubscriptionsConfirmed: '0',
      SubscriptionsPending: '0',
    });
    expect(JSON.parse(a.Policy).Statement[0].Resource).toBe(arn);
    expect((await sns.send(new ListTopicsCommand({}))).Topics).toEqual([{ TopicArn: arn }]);
    await sns.send(new DeleteTopicCommand({ TopicArn: arn }));
    await expect(sns.send(new GetTopicAttributesCommand({ TopicArn: arn }))).rejects.toMatchObject({
      name: 'NotFoundException',
      message: 'Topic does not exist',
    });
    await expect(topic('bad name')).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'Invalid parameter: Topic Name',
    });
    await expect(
      sns.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'sms', Endpoint: '+15555550100' })),
    ).rejects.toMatchObject({
      name: 'NotFoundException',
    });
  });
});

describe('fan-out to SQS', () => {
  it('delivers the Notification envelope exactly as AWS, and raw messages with attributes', async () => {
    const t = await topic('orders');
    const q = await queue('orders-q');
    const raw = await queue('orders-raw');
    const sub = (await sns.send(new SubscribeCommand({ TopicArn: t, Protocol: 'sqs', Endpoint: q.arn })))
      .SubscriptionArn!;
    expect(sub).toMatch(/^arn:aws:sns:us-east-1:000000000000:orders:[0-9a-f-]{36}$/);
    await sns.send(
      new SubscribeCommand({
        TopicArn: t,
        Protocol: 'sqs',
        Endpoint: raw.arn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    const pub = await sns.send(
      new PublishCommand({
        TopicArn: t,
        Message: 'hello',
        Subject: 'Greeting',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'order' } },
      }),
    );
    await tick();
    const [m] = await receiveAll(q.QueueUrl);
    const env = JSON.parse(m.Body!);
    expect(Object.keys(env)).toEqual([
      'Type',
      'MessageId',
      'TopicArn',
      'Subject',
      'Message',
      'Timestamp',
      'SignatureVersion',
      'Signature',
      'SigningCertURL',
      'UnsubscribeURL',
      'MessageAttributes',
    ]);
    expect(env).toMatchObject({
      Type: 'Notification',
      MessageId: pub.MessageId,
      TopicArn: t,
      Subject: 'Greeting',
      Message: 'hello',
      Timestamp: new Date(clock.now()).toISOString(),
      SignatureVersion: '1',
      MessageAttributes: { kind: { Type: 'String', Value: 'order' } },
    });
    expect(m.Body).toContain('\n  "Type" : "Notification",\n');
    expect(env.UnsubscribeURL).toContain(`Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(sub)}`);
    expect(m.MessageAttributes).toBeUndefined();
    const [r] = await receiveAll(raw.QueueUrl);
    expect(r.Body).toBe('hello');
    expect(r.MessageAttributes).toEqual({ kind: { DataType: 'String', StringValue: 'order' } });
  });

  it('lists subscriptions and their attributes; unsubscribes', async () => {
    const t = await topic('t');
    const q = await queue('q');
    const sub = (await sns.send(new SubscribeCommand({ TopicArn: t, Protocol: 'sqs', Endpoint: q.arn })))
      .SubscriptionArn!;
    expect(
      (await sns.send(new SubscribeCommand({ TopicArn: t, Protocol: 'sqs', Endpoint: q.arn }))).SubscriptionArn,
    ).toBe(sub);
    const list = (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: t }))).Subscriptions!;
    expect(list).toEqual([
      { SubscriptionArn: sub, Owner: '000000000000', Protocol: 'sqs', Endpoint: q.arn, TopicArn: t },
    ]);
    expect((await sns.send(new ListSubscriptionsCommand({}))).Subscriptions).toHaveLength(1);
    const a = (await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: sub }))).Attributes!;
    expect(a).toMatchObject({
      SubscriptionArn: sub,
      TopicArn: t,
      Protocol: 'sqs',
      Endpoint: q.arn,
      RawMessageDelivery: 'false',
      PendingConfirmation: 'false',
    });
    await sns.send(new UnsubscribeCommand({ SubscriptionArn: sub }));
    expect((await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: t }))).Subscriptions ?? []).toEqual([]);
  });

  it('applies filter policies (attributes and body scope) through the shared matcher', async () => {
    const t = await topic('filtered');
    const q = await queue('filtered-q');
    const b = await queue('body-q');
    const sub = (
      await sns.send(
        new SubscribeCommand({
          TopicArn: t,
          Protocol: 'sqs',
          Endpoint: q.arn,
          Attributes: {
            FilterPolicy: JSON.stringify({ color: ['red', { prefix: 'bl' }], size: [{ numeric: ['>', 10] }] }),
          },
        }),
      )
    ).SubscriptionArn!;
    await sns.send(
      new SubscribeCommand({
        TopicArn: t,
        Protocol: 'sqs',
        Endpoint: b.arn,
        Attributes: { FilterPolicy: JSON.stringify({ order: { status: ['paid'] } }), FilterPolicyScope: 'MessageBody' },
      }),
    );
    const pub = (Message: string, attrs: Record<string, [string, string]>) =>
      sns.send(
        new PublishCommand({
          TopicArn: t,
          Message,
          MessageAttributes: Object.fromEntries(
            Object.entries(attrs).map(([k, [DataType, StringValue]]) => [k, { DataType, StringValue }]),
          ),
        }),
      );
    await pub('m1', { color: ['String', 'blue'], size: ['Number', '11'] });
    await pub('m2', { color: ['String', 'green'], size: ['Number', '11'] });
    await pub('m3', { color: ['String', 'red'], size: ['Number', '5'] });
    await pub(JSON.stringify({ order: { status: 'paid' } }), {});
    await pub(JSON.stringify({ order: { status: 'open' } }), {});
    await tick();
    expect((await receiveAll(q.QueueUrl)).map((m) => JSON.parse(m.Body!).Message)).toEqual(['m1']);
    expect((await receiveAll(b.QueueUrl)).map((m) => JSON.parse(JSON.parse(m.Body!).Message).order.status)).toEqual([
      'paid',
    ]);
    await expect(
      sns.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: sub,
          AttributeName: 'FilterPolicy',
          AttributeValue: '{"a": "notalist"}',
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringMatching(/^Invalid parameter: FilterPolicy: /),
    });
    await expect(
      sns.send(
        new SubscribeCommand({
          TopicArn: t,
          Protocol: 'sqs',
          Endpoint: `${q.arn}x`,
          Attributes: { FilterPolicy: '{' },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringMatching(/^Invalid parameter: Attributes Reason: FilterPolicy: /),
    });
  });

  it('resolves MessageStructure json per protocol and validates it', async () => {
    const t = await topic('structured');
    const q = await queue('structured-q');
    await sns.send(
      new SubscribeCommand({
        TopicArn: t,
        Protocol: 'sqs',
        Endpoint: q.arn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    await sns.send(
      new PublishCommand({
        TopicArn: t,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: 'd', sqs: 'for sqs' }),
      }),
    );
    await tick();
    expect((await receiveAll(q.QueueUrl)).map((m) => m.Body)).toEqual(['for sqs']);
    await expect(
      sns.send(new PublishCommand({ TopicArn: t, MessageStructure: 'json', Message: '{"sqs":"x"}' })),
    ).rejects.toMatchObject({
      message: 'Invalid parameter: Message Structure - No default entry in JSON message body',
    });
    await expect(sns.send(new PublishCommand({ TopicArn: t, Message: '' }))).rejects.toMatchObject({
      message: 'Invalid parameter: Empty message',
    });
    await expect(sns.send(new PublishCommand({ TopicArn: t, Message: 'x'.repeat(262_145) }))).rejects.toMatchObject({
      message: 'Invalid parameter: Message too long',
    });
  });

  it('FIFO topics deliver to FIFO queues with group, dedup and sequence numbers', async () => {
    const t = await topic('events.fifo', { FifoTopic: 'true', ContentBasedDeduplication: 'true' });
    const q = await queue('events.fifo', { FifoQueue: 'true' });
    await sns.send(
      new SubscribeCommand({
        TopicArn: t,
        Protocol: 'sqs',
        Endpoint: q.arn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    await expect(sns.send(new PublishCommand({ TopicArn: t, Message: 'x' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    const a = await sns.send(new PublishCommand({ TopicArn: t, Message: 'one', MessageGroupId: 'g' }));
    const dup = await sns.send(new PublishCommand({ TopicArn: t, Message: 'one', MessageGroupId: 'g' }));
    expect(dup.MessageId).toBe(a.MessageId);
    expect(a.SequenceNumber).toMatch(/^\d{20}$/);
    const batch = await sns.send(
      new PublishBatchCommand({
        TopicArn: t,
        PublishBatchRequestEntries: [
          { Id: 'a', Message: 'two', MessageGroupId: 'g' },
          { Id: 'b', Message: 'three', MessageGroupId: 'g' },
        ],
      }),
    );
    expect(batch.Successful!.map((s) => s.Id)).toEqual(['a', 'b']);
    await tick();
    const got = await receiveAll(q.QueueUrl);
    expect(got.map((m) => [m.Body, m.Attributes!.MessageGroupId])).toEqual([
      ['one', 'g'],
      ['two', 'g'],
      ['three', 'g'],
    ]);
  });
});

describe('HTTP subscriptions', () => {
  let server: Server;
  let url: string;
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  let status = 200;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address() as { port: number };
    url = `http://127.0.0.1:${addr.port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function waitFor(n: number) {
    for (let i = 0; i < 200 && received.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    expect(received.length).toBeGreaterThanOrEqual(n);
  }

  it('handshakes, delivers and retries on failure', async () => {
    received.length = 0;
    status = 200;
    const t = await topic('web');
    const s = await sns.send(new SubscribeCommand({ TopicArn: t, Protocol: 'http', Endpoint: url }));
    expect(s.SubscriptionArn).toBe('pending confirmation');
    await waitFor(1);
    expect(received[0].headers['x-amz-sns-message-type']).toBe('SubscriptionConfirmation');
    const conf = JSON.parse(received[0].body);
    expect(conf).toMatchObject({ Type: 'SubscriptionConfirmation', TopicArn: t });
    expect(
      (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: t }))).Subscriptions![0].SubscriptionArn,
    ).toBe('PendingConfirmation');
    // The SubscribeURL works as a plain GET, as endpoints use it.
    const confirmRes = await fetch(conf.SubscribeURL);
    expect(confirmRes.status).toBe(200);
    expect(await confirmRes.text()).toContain(
      '<ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:us-east-1:000000000000:web:',
    );
    await sns.send(new PublishCommand({ TopicArn: t, Message: 'ping' }));
    await waitFor(2);
    expect(received[1].headers['x-amz-sns-message-type']).toBe('Notification');
    expect(JSON.parse(received[1].body).Message).toBe('ping');

    status = 500;
    await sns.send(new PublishCommand({ TopicArn: t, Message: 'retry-me' }));
    await waitFor(3);
    status = 200;
    await new Promise((r) => setTimeout(r, 20));
    await clock.advance(20_000);
    await waitFor(4);
    expect(JSON.parse(received[3].body).Message).toBe('retry-me');
  });

  it('follows the subscription DeliveryPolicy retry schedule', async () => {
    received.length = 0;
    status = 200;
    const t = await topic('web3');
    const s = await sns.send(
      new SubscribeCommand({
        TopicArn: t,
        Protocol: 'http',
        Endpoint: url,
        ReturnSubscriptionArn: true,
        Attributes: {
          DeliveryPolicy: JSON.stringify({
            healthyRetryPolicy: { numRetries: 2, minDelayTarget: 5, maxDelayTarget: 5 },
          }),
        },
      }),
    );
    await waitFor(1);
    await fetch(JSON.parse(received[0].body).SubscribeURL);
    const eff = JSON.parse(
      (await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: s.SubscriptionArn }))).Attributes!
        .EffectiveDeliveryPolicy,
    );
    expect(eff.healthyRetryPolicy).toMatchObject({ numRetries: 2, minDelayTarget: 5, maxDelayTarget: 5 });
    status = 503;
    await sns.send(new PublishCommand({ TopicArn: t, Message: 'flaky' }));
    await waitFor(2);
    for (const n of [3, 4]) {
      await new Promise((r) => setTimeout(r, 20));
      await clock.advance(5_000);
      await waitFor(n);
    }
    await new Promise((r) => setTimeout(r, 20));
    await clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(4);
    status = 200;
    await expect(
      sns.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: s.SubscriptionArn,
          AttributeName: 'DeliveryPolicy',
          AttributeValue: JSON.stringify({ healthyRetryPolicy: { numRetries: 101 } }),
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('sends an UnsubscribeConfirmation whose link resubscribes', async () => {
    received.length = 0;
    status = 200;
    const t = await topic('web4');
    const { SubscriptionArn } = await sns.send(
      new SubscribeCommand({ TopicArn: t, Protocol: 'http', Endpoint: url, ReturnSubscriptionArn: true }),
    );
    await waitFor(1);
    await fetch(JSON.parse(received[0].body).SubscribeURL);
    await sns.send(new UnsubscribeCommand({ SubscriptionArn }));
    await waitFor(2);
    expect(received[1].headers['x-amz-sns-message-type']).toBe('UnsubscribeConfirmation');
    const doc = JSON.parse(received[1].body);
    expect(doc).toMatchObject({ Type: 'UnsubscribeConfirmation', TopicArn: t });
    expect((await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: t }))).Subscriptions ?? []).toEqual([]);
    expect((await fetch(doc.SubscribeURL)).status).toBe(200);
    expect(
      (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: t }))).Subscriptions!.map(
        (s) => s.SubscriptionArn,
      ),
    ).toEqual([SubscriptionArn]);
  });

  it('ConfirmSubscription with the token over the API', async () => {
    received.length = 0;
    const t = await topic('web2');
    await sns.send(new SubscribeCommand({ TopicArn: t, Protocol: 'http', Endpoint: url }));
    await waitFor(1);
    const { Token } = JSON.parse(received[0].body);
    const c = await sns.send(new ConfirmSubscriptionCommand({ TopicArn: t, Token }));
    expect(c.SubscriptionArn).toMatch(/^arn:aws:sns:us-east-1:000000000000:web2:/);
    await expect(sns.send(new ConfirmSubscriptionCommand({ TopicArn: t, Token: 'nope' }))).rejects.toMatchObject({
      message: 'Invalid parameter: Invalid token',
    });
  });
});

describe('email into the local mailbox', () => {
  it('sends a confirmation with a working link, then notifications', async () => {
    const t = await topic('mailing');
    await sns.send(new SubscribeCommand({ TopicArn: t, Protocol: 'email', Endpoint: 'ops@example.com' }));
    await tick();
    let mail = (await (await fetch(`${eddy.endpoint}/_eddy/mail`)).json()).messages;
    expect(mail).toHaveLength(1);
    expect(mail[0]).toMatchObject({
      to: 'ops@example.com',
      subject: 'AWS Notification - Subscription Confirmation',
      type: 'SubscriptionConfirmation',
    });
    expect(mail[0].body).toContain(mail[0].confirmUrl);
    await sns.send(new PublishCommand({ TopicArn: t, Message: 'before confirm' }));
    expect((await fetch(mail[0].confirmUrl)).status).toBe(200);
    const attrs = (await sns.send(new GetTopicAttributesCommand({ TopicArn: t }))).Attributes!;
    expect(attrs.SubscriptionsConfirmed).toBe('1');
    await sns.send(new PublishCommand({ TopicArn: t, Message: 'after confirm', Subject: 'Hi' }));
    await tick();
    mail = (await (await fetch(`${eddy.endpoint}/_eddy/mail?to=ops@example.com`)).json()).messages;
    expect(mail).toHaveLength(2);
    expect(mail[1]).toMatchObject({ subject: 'Hi', type: 'Notification' });
    expect(mail[1].body).toMatch(/^after confirm\n\n--\nIf you wish to stop receiving notifications/);
  });

  it('email-json gets the JSON documents', async () => {
    const t = await topic('mailing-json');
    await sns.send(new SubscribeCommand({ TopicArn: t, Protocol: 'email-json', Endpoint: 'dev@example.com' }));
    await tick();
    const [c] = (await (await fetch(`${eddy.endpoint}/_eddy/mail`)).json()).messages;
    const doc = JSON.parse(c.body);
    expect(doc.Type).toBe('SubscriptionConfirmation');
    expect(
      (await fetch(`${eddy.endpoint}/_eddy/confirm?TopicArn=${encodeURIComponent(t)}&Token=${doc.Token}`)).status,
    ).toBe(200);
    await sns.send(new PublishCommand({ TopicArn: t, Message: 'json mail' }));
    await tick();
    const all = (await (await fetch(`${eddy.endpoint}/_eddy/mail`)).json()).messages;
    expect(JSON.parse(all[1].body)).toMatchObject({ Type: 'Notification', Message: 'json mail' });
  });
});

describe('Lambda subscriptions', () => {
  it('to a missing function: retried as an async invoke (1 and 2 minutes), then dead-lettered', async () => {
    const t = await topic('to-fn');
    const dlq = await queue('fn-dlq');
    const sub = (
      await sns.send(
        new SubscribeCommand({
          TopicArn: t,
          Protocol: 'lambda',
          Endpoint: 'arn:aws:lambda:us-east-1:000000000000:function:handler',
        }),
      )
    ).SubscriptionArn!;
    await sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: sub,
        AttributeName: 'RedrivePolicy',
        AttributeValue: JSON.stringify({ deadLetterTargetArn: dlq.arn }),
      }),
    );
    await sns.send(new PublishCommand({ TopicArn: t, Message: 'for the function' }));
    for (const ms of [0, 60_000, 120_000]) {
      await new Promise((r) => setTimeout(r, 20));
      await clock.advance(ms);
    }
    await new Promise((r) => setTimeout(r, 10));
    const [m] = await receiveAll(dlq.QueueUrl);
    const event = JSON.parse(m.Body!);
    expect(event.Records[0]).toMatchObject({
      EventSource: 'aws:sns',
      EventSubscriptionArn: sub,
      Sns: { Type: 'Notification', Message: 'for the function', Subject: null },
    });
  });
});
