// SQS over the query protocol (form-encoded, XML out) as the AWS CLI v1 before botocore 1.31 and
// older SDKs send it. (The seed's JSON-protocol `aws sqs` commands run in sns-cli.test.ts.)
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Eddy, startEddy, VirtualClock } from '../src/index.ts';
import { MAP_NAMES, MEMBER_NAMES } from '../src/protocol/quirks/sqs-query.ts';

let eddy: Eddy;
beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, clock: new VirtualClock(Date.UTC(2026, 0, 1)) });
});
afterAll(() => eddy.stop());

async function query(params: Record<string, string>, path = '/') {
  const res = await fetch(eddy.endpoint + path, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization:
        'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=x',
    },
    body: new URLSearchParams({ Version: '2012-11-05', ...params }).toString(),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe('SQS query protocol', () => {
  it('speaks the query names: Attribute.N, MessageAttribute.N, AttributeName.N, batch entries', async () => {
    const c = await query({
      Action: 'CreateQueue',
      QueueName: 'qq',
      'Attribute.1.Name': 'VisibilityTimeout',
      'Attribute.1.Value': '40',
      'Tag.1.Key': 'k',
      'Tag.1.Value': 'v',
    });
    expect(c.status).toBe(200);
    const url = /<QueueUrl>(.*?)<\/QueueUrl>/.exec(c.text)![1];
    expect(url).toBe(`${eddy.endpoint}/000000000000/qq`);
    expect(c.text).toContain(
      '<CreateQueueResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><CreateQueueResult>',
    );

    const s = await query(
      {
        Action: 'SendMessage',
        QueueUrl: url,
        MessageBody: 'hi',
        'MessageAttribute.1.Name': 'color',
        'MessageAttribute.1.Value.DataType': 'String',
        'MessageAttribute.1.Value.StringValue': 'red',
      },
      '/000000000000/qq',
    );
    expect(s.text).toContain('<MD5OfMessageBody>49f68a5c8493ec2c0bf489821c21fc3b</MD5OfMessageBody>');
    expect(s.text).toMatch(/<MD5OfMessageAttributes>[0-9a-f]{32}<\/MD5OfMessageAttributes>/);

    const b = await query({
      Action: 'SendMessageBatch',
      QueueUrl: url,
      'SendMessageBatchRequestEntry.1.Id': 'a',
      'SendMessageBatchRequestEntry.1.MessageBody': 'one',
      'SendMessageBatchRequestEntry.2.Id': 'b',
      'SendMessageBatchRequestEntry.2.MessageBody': 'two',
    });
    expect(b.text.match(/<SendMessageBatchResultEntry>/g)).toHaveLength(2);

    const a = await query({
      Action: 'GetQueueAttributes',
      QueueUrl: url,
      'AttributeName.1': 'ApproximateNumberOfMessages',
      'AttributeName.2': 'VisibilityTimeout',
    });
    expect(a.text).toContain('<Attribute><Name>ApproximateNumberOfMessages</Name><Value>3</Value></Attribute>');
    expect(a.text).toContain('<Attribute><Name>VisibilityTimeout</Name><Value>40</Value></Attribute>');

    const r = await query({
      Action: 'ReceiveMessage',
      QueueUrl: url,
      'AttributeName.1': 'All',
      'MessageAttributeName.1': 'All',
      MaxNumberOfMessages: '10',
    });
    expect(r.text.match(/<Message>/g)).toHaveLength(3);
    expect(r.text).toContain(
      '<MessageAttribute><Name>color</Name><Value><StringValue>red</StringValue><DataType>String</DataType></Value></MessageAttribute>',
    );
    expect(r.text).toContain('<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>');
    const handle = /<ReceiptHandle>(.*?)<\/ReceiptHandle>/.exec(r.text)![1];
    expect((await query({ Action: 'DeleteMessage', QueueUrl: url, ReceiptHandle: handle })).status).toBe(200);

    const l = await query({ Action: 'ListQueues' });
    expect(l.text).toContain(`<ListQueuesResult><QueueUrl>${url}</QueueUrl></ListQueuesResult>`);
    const t = await query({ Action: 'ListQueueTags', QueueUrl: url });
    expect(t.text).toContain('<Tag><Key>k</Key><Value>v</Value></Tag>');
  });

  it('answers errors with the query codes', async () => {
    const e = await query({ Action: 'GetQueueUrl', QueueName: 'nope' });
    expect(e.status).toBe(400);
    expect(e.text).toContain('<Code>AWS.SimpleQueueService.NonExistentQueue</Code>');
    expect(e.text).toContain('<Type>Sender</Type>');
    expect(e.headers.get('x-amzn-query-error')).toBeNull();
  });
});

const run = promisify(execFile);
const hasAws = await run('aws', ['--version']).then(
  () => true,
  () => false,
);
if (!hasAws) console.warn('SKIPPED: the `aws` CLI is not installed; CLI tests for SQS do not run');

/**
 * The real AWS CLI v1 speaking the *query* protocol to SQS: botocore ≥ 1.31 ships SQS as JSON, so we
 * give it SQS's query-protocol model (the JSON model with the former query member names) through
 * AWS_DATA_PATH — the shape older CLIs and SDKs send.
 */
const MODEL = join(import.meta.dirname, '../../shared/aws-models/sqs/service-2.json');
describe.skipIf(!hasAws || !existsSync(MODEL))('aws sqs CLI over the query protocol', () => {
  const dataPath = mkdtempSync(join(tmpdir(), 'eddy-sqs-query-model-'));
  afterAll(() => rmSync(dataPath, { recursive: true, force: true }));
  const aws = async (...args: string[]) => {
    const { stdout } = await run(
      'aws',
      ['--endpoint-url', eddy.endpoint, '--region', 'us-east-1', '--output', 'json', ...args],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_PAGER: '',
          AWS_DATA_PATH: dataPath,
        },
      },
    );
    return stdout.trim() ? JSON.parse(stdout) : {};
  };
  it('runs the seed commands with form-encoded requests and XML answers', async () => {
    const m = JSON.parse(readFileSync(MODEL, 'utf8'));
    m.metadata = {
      ...m.metadata,
      protocol: 'query',
      protocols: ['query'],
      xmlNamespace: 'http://queue.amazonaws.com/doc/2012-11-05/',
    };
    delete m.metadata.awsQueryCompatible;
    delete m.metadata.targetPrefix;
    delete m.metadata.jsonVersion;
    for (const [shape, members] of Object.entries(MEMBER_NAMES)) {
      for (const [member, loc] of Object.entries(members)) {
        const ref = m.shapes[shape]?.members?.[member];
        if (ref) Object.assign(ref, { locationName: loc, flattened: true });
      }
    }
    for (const [shape, [k, v]] of Object.entries(MAP_NAMES)) {
      if (!m.shapes[shape]) continue;
      m.shapes[shape].key.locationName = k;
      m.shapes[shape].value.locationName = v;
    }
    for (const [name, op] of Object.entries<any>(m.operations))
      if (op.output) op.output.resultWrapper = `${name}Result`;
    mkdirSync(join(dataPath, 'sqs', '2012-11-05'), { recursive: true });
    writeFileSync(join(dataPath, 'sqs', '2012-11-05', 'service-2.json'), JSON.stringify(m));

    const [{ QueueUrl }, err] = await Promise.all([
      aws(
        'sqs',
        'create-queue',
        '--queue-name',
        'cli-query',
        '--attributes',
        'VisibilityTimeout=40',
        '--tags',
        'team=a',
      ),
      aws('sqs', 'get-queue-url', '--queue-name', 'nope').catch((e) => e),
    ]);
    await aws(
      'sqs',
      'send-message',
      '--queue-url',
      QueueUrl,
      '--message-body',
      'hi',
      '--message-attributes',
      'k={DataType=String,StringValue=v}',
    );
    const attrs = await aws(
      'sqs',
      'get-queue-attributes',
      '--queue-url',
      QueueUrl,
      '--attribute-names',
      'ApproximateNumberOfMessages',
      'VisibilityTimeout',
    );
    expect(attrs).toEqual({ Attributes: { ApproximateNumberOfMessages: '1', VisibilityTimeout: '40' } });
    const got = await aws(
      'sqs',
      'receive-message',
      '--queue-url',
      QueueUrl,
      '--message-attribute-names',
      'All',
      '--attribute-names',
      'All',
    );
    expect(got.Messages[0]).toMatchObject({
      Body: 'hi',
      MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } },
      Attributes: { ApproximateReceiveCount: '1' },
    });
    expect(String(err.stderr)).toContain(
      'An error occurred (AWS.SimpleQueueService.NonExistentQueue) when calling the GetQueueUrl operation: The specified queue does not exist.',
    );
  }, 60_000);
});
