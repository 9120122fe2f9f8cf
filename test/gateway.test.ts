import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Eddy } from '../src/index.ts';
import { startTestEddy } from './helpers/eddy.ts';

async function error(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e: any) {
    return e;
  }
  throw new Error('expected an error');
}

describe('gateway (auth off)', () => {
  let eddy: Eddy;
  beforeAll(async () => {
    eddy = await startTestEddy();
  });
  afterAll(() => eddy.stop());

  it('serves health with version, uptime and services', async () => {
    const res = await fetch(`${eddy.endpoint}/_eddy/health`);
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', version: expect.any(String), uptimeSeconds: expect.any(Number) });
    expect(body.services).toContain('dynamodb');
  });

  it('answers an unknown operation or service with UnknownOperationException', async () => {
    for (const target of ['DynamoDB_20120810.Frobnicate', 'NoSuchService_2020.Op']) {
      const res = await fetch(eddy.endpoint, {
        method: 'POST',
        headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.0' },
        body: '{}',
      });
      expect(res.status).toBe(400);
      expect((await res.json()).__type).toBe('com.amazon.coral.service#UnknownOperationException');
      expect(res.headers.get('x-amzn-requestid')).toBeTruthy();
    }
    const none = await fetch(`${eddy.endpoint}/nothing-here`, { method: 'POST', body: 'x' });
    expect(none.status).toBe(400);
  });

  it('answers malformed JSON with SerializationException and sets x-amz-crc32', async () => {
    const res = await fetch(eddy.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' },
      body: '{"Limit": ',
    });
    expect(res.status).toBe(400);
    expect((await res.json()).__type).toBe('com.amazon.coral.service#SerializationException');
    const ok = await fetch(eddy.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' },
      body: '{}',
    });
    const text = await ok.text();
    const { crc32 } = await import('node:zlib');
    expect(ok.headers.get('x-amz-crc32')).toBe(String(crc32(Buffer.from(text))));
    const typed = await fetch(eddy.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{"Limit": "ten"}',
    });
    expect((await typed.json()).__type).toBe('com.amazon.coral.service#SerializationException');
  });

  it('takes the account from a 12-digit access key and the region from the scope', async () => {
    const sts = new STSClient({
      endpoint: eddy.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: '123456789012', secretAccessKey: 'x' },
    });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe('123456789012');
    expect(me.Arn).toBe('arn:aws:iam::123456789012:root');
    const other = new STSClient({
      endpoint: eddy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' },
    });
    expect((await other.send(new GetCallerIdentityCommand({}))).Account).toBe('000000000000');
  });

  it('speaks cleartext HTTP/2 on the same port', async () => {
    const client = new DynamoDBClient({
      endpoint: eddy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      requestHandler: new NodeHttp2Handler(),
    });
    const out = await client.send(new ListTablesCommand({}));
    expect(out.TableNames).toEqual([]);
    client.destroy();
  });
});

describe('gateway (--auth sigv4)', () => {
  let eddy: Eddy;
  const good = { accessKeyId: 'AKIDEDDYTEST', secretAccessKey: 'secret-key' };
  beforeAll(async () => {
    eddy = await startTestEddy({ auth: 'sigv4', credentials: [good] });
  });
  afterAll(() => eddy.stop());
  const ddb = (credentials: { accessKeyId: string; secretAccessKey: string }, extra: Record<string, unknown> = {}) =>
    new DynamoDBClient({ endpoint: eddy.endpoint, region: 'us-east-1', credentials, maxAttempts: 1, ...extra });

  it('accepts correctly signed requests (JSON and query protocols)', async () => {
    expect((await ddb(good).send(new ListTablesCommand({}))).TableNames).toEqual([]);
    const sts = new STSClient({ endpoint: eddy.endpoint, region: 'us-east-1', credentials: good });
    expect((await sts.send(new GetCallerIdentityCommand({}))).UserId).toBe(good.accessKeyId);
  });

  it('rejects a wrong secret, an unknown key, a stale signature and no signature', async () => {
    const wrong = await error(ddb({ ...good, secretAccessKey: 'nope' }).send(new ListTablesCommand({})));
    expect(wrong.name).toBe('InvalidSignatureException');
    expect(wrong.message).toMatch(/^The request signature we calculated does not match the signature you provided/);
    const unknown = await error(
      ddb({ accessKeyId: 'AKIDOTHER', secretAccessKey: 'x' }).send(new ListTablesCommand({})),
    );
    expect(unknown.name).toBe('UnrecognizedClientException');
    const stale = await error(ddb(good, { systemClockOffset: -10 * 60 * 1000 }).send(new ListTablesCommand({})));
    expect(stale.name).toBe('InvalidSignatureException');
    expect(stale.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    const unsigned = await fetch(eddy.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(unsigned.status).toBe(400);
    expect((await unsigned.json()).__type).toMatch(/MissingAuthenticationTokenException$/);
    const sts = new STSClient({
      endpoint: eddy.endpoint,
      region: 'us-east-1',
      credentials: { ...good, secretAccessKey: 'bad' },
      maxAttempts: 1,
    });
    const q = await error(sts.send(new GetCallerIdentityCommand({})));
    expect(q.name).toBe('SignatureDoesNotMatch');
    expect(q.$metadata.httpStatusCode).toBe(403);
  });
});
