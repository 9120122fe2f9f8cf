import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Eddy } from '../src/index.ts';
import { startTestEddy } from './helpers/eddy.ts';

/**
 * Bad input of every kind gets an AWS-shaped error, changes nothing, and leaves the server healthy.
 */
let eddy: Eddy;
let cases = 0;
beforeAll(async () => {
  eddy = await startTestEddy();
  await ddb('CreateTable', {
    TableName: 'bad-input',
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  await ddb('PutItem', { TableName: 'bad-input', Item: { id: { S: 'keep' }, v: { N: '1' } } });
});
afterAll(async () => {
  console.log(`bad-input: ${cases} cases run`);
  await eddy.stop();
});

async function raw(
  body: string | Buffer,
  headers: Record<string, string>,
  path = '/',
): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(eddy.endpoint + path, { method: 'POST', headers, body: body as BodyInit });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

function ddb(op: string, body: unknown) {
  return raw(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), {
    'x-amz-target': `DynamoDB_20120810.${op}`,
    'content-type': 'application/x-amz-json-1.0',
  });
}

async function unchangedAndHealthy() {
  const scan = await ddb('Scan', { TableName: 'bad-input' });
  expect(scan.json.Items).toEqual([{ id: { S: 'keep' }, v: { N: '1' } }]);
  expect((await fetch(`${eddy.endpoint}/_eddy/health`)).status).toBe(200);
}

const deep = (n: number) => {
  let v: any = { S: 'leaf' };
  for (let i = 0; i < n; i++) v = { M: { a: v } };
  return v;
};

describe('JSON protocol (DynamoDB)', () => {
  const jsonCases: [string, string | Buffer, string, RegExp | string][] = [
    ['truncated body', '{"TableName": "bad-input", "Item": {"id": {"S": "x"', 'PutItem', /SerializationException$/],
    ['not an object', '[1,2,3]', 'PutItem', /SerializationException$/],
    ['a bare string', '"hello"', 'PutItem', /SerializationException$/],
    ['garbage bytes', Buffer.from([0xff, 0xfe, 0x00, 0x01]), 'PutItem', /SerializationException$/],
    [
      'invalid UTF-8 inside a string',
      Buffer.concat([
        Buffer.from('{"TableName":"bad-input","Item":{"id":{"S":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}}}'),
      ]),
      'PutItem',
      /SerializationException$/,
    ],
    ['wrong type for TableName', '{"TableName": 5, "Item": {}}', 'PutItem', /SerializationException$/],
    ['wrong type for Item', '{"TableName": "bad-input", "Item": "x"}', 'PutItem', /SerializationException$/],
    [
      'wrong type inside a value',
      '{"TableName": "bad-input", "Item": {"id": {"S": 5}}}',
      'PutItem',
      /SerializationException|ValidationException$/,
    ],
    ['missing required member', '{"Item": {"id": {"S": "x"}}}', 'PutItem', /ValidationException$/],
    [
      'empty attribute value',
      '{"TableName": "bad-input", "Item": {"id": {"S": "x"}, "v": {}}}',
      'PutItem',
      /ValidationException$/,
    ],
    [
      'two types in one value',
      '{"TableName": "bad-input", "Item": {"id": {"S": "x", "N": "1"}}}',
      'PutItem',
      /ValidationException$/,
    ],
    [
      'number not a number',
      '{"TableName": "bad-input", "Item": {"id": {"S": "x"}, "v": {"N": "abc"}}}',
      'PutItem',
      /ValidationException$/,
    ],
    [
      'number with 39 digits',
      '{"TableName": "bad-input", "Item": {"id": {"S": "x"}, "v": {"N": "123456789012345678901234567890123456789"}}}',
      'PutItem',
      /ValidationException$/,
    ],
    [
      'number overflow',
      '{"TableName": "bad-input", "Item": {"id": {"S": "x"}, "v": {"N": "1e126"}}}',
      'PutItem',
      /ValidationException$/,
    ],
    [
      'empty set',
      '{"TableName": "bad-input", "Item": {"id": {"S": "x"}, "v": {"SS": []}}}',
      'PutItem',
      /ValidationException$/,
    ],
    [
      'duplicate set members',
      '{"TableName": "bad-input", "Item": {"id": {"S": "x"}, "v": {"SS": ["a", "a"]}}}',
      'PutItem',
      /ValidationException$/,
    ],
    [
      'nesting beyond 32 levels',
      JSON.stringify({ TableName: 'bad-input', Item: { id: { S: 'x' }, v: deep(40) } }),
      'PutItem',
      /ValidationException$/,
    ],
    [
      'pathological nesting',
      `{"TableName":"bad-input","Item":{"id":{"S":"x"},"v":${'{"M":{"a":'.repeat(20000)}{"S":"leaf"}${'}}'.repeat(20000)}}}`,
      'PutItem',
      /ValidationException|SerializationException$/,
    ],
    [
      'item over 400 KB',
      JSON.stringify({ TableName: 'bad-input', Item: { id: { S: 'x' }, v: { S: 'x'.repeat(401 * 1024) } } }),
      'PutItem',
      /ValidationException$/,
    ],
    [
      'syntax error in expression',
      JSON.stringify({
        TableName: 'bad-input',
        Key: { id: { S: 'keep' } },
        UpdateExpression: 'SET = :v',
        ExpressionAttributeValues: { ':v': { N: '2' } },
      }),
      'UpdateItem',
      /ValidationException$/,
    ],
    [
      'reserved word',
      JSON.stringify({
        TableName: 'bad-input',
        Key: { id: { S: 'keep' } },
        UpdateExpression: 'SET status = :v',
        ExpressionAttributeValues: { ':v': { N: '2' } },
      }),
      'UpdateItem',
      /ValidationException$/,
    ],
    [
      'undefined placeholder',
      JSON.stringify({ TableName: 'bad-input', Key: { id: { S: 'keep' } }, UpdateExpression: 'SET v = :nope' }),
      'UpdateItem',
      /ValidationException$/,
    ],
    [
      'expression over 4 KB',
      JSON.stringify({
        TableName: 'bad-input',
        Key: { id: { S: 'keep' } },
        ConditionExpression: `v = :v${' AND v = :v'.repeat(500)}`,
        ExpressionAttributeValues: { ':v': { N: '1' } },
      }),
      'DeleteItem',
      /ValidationException$/,
    ],
    [
      'deeply parenthesized condition',
      JSON.stringify({
        TableName: 'bad-input',
        Key: { id: { S: 'keep' } },
        ConditionExpression: `${'('.repeat(3000)}v = :v${')'.repeat(3000)}`,
        ExpressionAttributeValues: { ':v': { N: '1' } },
      }),
      'DeleteItem',
      /ValidationException$/,
    ],
    [
      'update on key attribute',
      JSON.stringify({
        TableName: 'bad-input',
        Key: { id: { S: 'keep' } },
        UpdateExpression: 'SET id = :v',
        ExpressionAttributeValues: { ':v': { S: '2' } },
      }),
      'UpdateItem',
      /ValidationException$/,
    ],
    [
      'too many batch writes',
      JSON.stringify({
        RequestItems: {
          'bad-input': Array.from({ length: 26 }, (_, i) => ({ PutRequest: { Item: { id: { S: `b${i}` } } } })),
        },
      }),
      'BatchWriteItem',
      /ValidationException$/,
    ],
    [
      'too many transaction items',
      JSON.stringify({
        TransactItems: Array.from({ length: 101 }, (_, i) => ({
          Put: { TableName: 'bad-input', Item: { id: { S: `t${i}` } } },
        })),
      }),
      'TransactWriteItems',
      /ValidationException$/,
    ],
    [
      'bad enum',
      JSON.stringify({ TableName: 'bad-input', Item: { id: { S: 'x' } }, ReturnValues: 'EVERYTHING' }),
      'PutItem',
      /ValidationException$/,
    ],
    [
      'unknown table',
      JSON.stringify({ TableName: 'no-such-table', Item: { id: { S: 'x' } } }),
      'PutItem',
      /ResourceNotFoundException$/,
    ],
  ];
  it.each(jsonCases)('%s', async (_name, body, op, type) => {
    cases++;
    const res = await ddb(op, body);
    expect(res.status).toBe(400);
    expect(res.json?.__type).toMatch(type);
    await unchangedAndHealthy();
  });

  it('refuses a body over the server limit without reading it all, and stays up', async () => {
    cases++;
    // The server answers 413 as soon as the limit is passed and closes the connection.
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        eddy.endpoint,
        { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.PutItem' } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.end(Buffer.alloc(70 * 1024 * 1024, 0x20));
    });
    expect(status).toBe(413);
    await unchangedAndHealthy();
  });
});

describe('other protocols and routing', () => {
  it.each([
    [
      'query protocol, truncated form',
      'Action=GetCallerId',
      {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00',
      },
    ],
    [
      'query protocol, no action',
      'Version=2011-06-15',
      {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00',
      },
    ],
    [
      'query protocol, binary junk',
      '\u0000\u0001%%%',
      {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00',
      },
    ],
  ])('%s → AWS XML error', async (_name, body, headers) => {
    cases++;
    const res = await raw(body, headers);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>[A-Za-z]+<\/Code>/);
    await unchangedAndHealthy();
  });

  it.each([
    ['unknown target', { 'x-amz-target': 'Nope_2020.DoIt' }],
    ['unknown operation', { 'x-amz-target': 'DynamoDB_20120810.DropEverything' }],
    ['no routing information at all', {}],
  ])('%s → UnknownOperationException', async (_name, headers) => {
    cases++;
    const res = await raw('{}', headers as Record<string, string>);
    expect(res.status).toBe(400);
    expect(res.json.__type).toBe('com.amazon.coral.service#UnknownOperationException');
    await unchangedAndHealthy();
  });

  it('keeps serving while slow-loris connections dribble headers', async () => {
    cases++;
    const port = Number(new URL(eddy.endpoint).port);
    const sockets = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => {
              s.write('POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
              resolve(s);
            });
            s.on('error', () => {});
          }),
      ),
    );
    for (const s of sockets) s.write('a');
    await unchangedAndHealthy();
    for (const s of sockets) s.destroy();
  });

  it('survives a connection closed mid-body', async () => {
    cases++;
    const port = Number(new URL(eddy.endpoint).port);
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(
          'POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Length: 1000\r\n\r\n{"TableName":"bad-input"',
        );
        s.destroy();
        resolve();
      });
    });
    await unchangedAndHealthy();
  });
});
