/**
 * Flow-test kit for event source mappings: an Eddy on a virtual clock, SDK clients, and a hub the
 * handlers (real processes) call for every invocation — the test decides each response there and
 * waits on the hub's events instead of sleeping.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateEventSourceMappingCommand,
  type CreateEventSourceMappingCommandInput,
  CreateFunctionCommand,
  GetEventSourceMappingCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { writeZip } from '../src/core/zip.ts';
import { type Eddy, type EddyOptions, startEddy, VirtualClock } from '../src/index.ts';

export const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export type Json = any;
export interface Reply {
  result?: Json;
  throw?: string;
  /** Hold the response until this resolves (keeps a lane busy). */
  hold?: Promise<unknown>;
}
export type Behaviour = (event: Json, n: number) => Reply | undefined;

/** A hub: handlers POST their event to /<function name>; the test's behaviour picks the reply. */
export class Hub {
  server!: http.Server;
  url = '';
  readonly calls: Record<string, Json[]> = {};
  readonly behaviours: Record<string, Behaviour> = {};
  private waiters: { fn: string; pred: (calls: Json[]) => boolean; resolve: () => void }[] = [];

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const fn = (req.url ?? '/').slice(1);
        const event = JSON.parse(Buffer.concat(chunks).toString() || 'null');
        const list = (this.calls[fn] ??= []);
        list.push(event);
        const reply = this.behaviours[fn]?.(event, list.length) ?? {};
        this.check();
        if (reply.hold) await reply.hold;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ result: reply.result ?? null, throw: reply.throw }));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  /** Resolves once the function's calls satisfy `pred` (checked on every call). */
  until(fn: string, pred: (calls: Json[]) => boolean): Promise<void> {
    if (pred(this.calls[fn] ?? [])) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ fn, pred, resolve }));
  }

  count(fn: string, n: number): Promise<void> {
    return this.until(fn, (c) => c.length >= n);
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      if (w.pred(this.calls[w.fn] ?? [])) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }
}

export const HANDLER = `exports.handler = async (event) => {
  const res = await fetch(process.env.HUB + '/' + process.env.AWS_LAMBDA_FUNCTION_NAME, { method: 'POST', body: JSON.stringify(event) });
  const r = await res.json();
  if (r.throw) throw new Error(r.throw);
  return r.result;
};`;

export class Kit {
  eddy!: Eddy;
  clock!: VirtualClock;
  lambda!: LambdaClient;
  ddb!: DynamoDBClient;
  sqs!: SQSClient;

  constructor(readonly hub: Hub) {}

  async start(opts: EddyOptions = {}, startMs = Date.UTC(2026, 0, 1)): Promise<this> {
    this.clock = new VirtualClock(startMs);
    this.eddy = await startEddy({ port: 0, memory: true, logLevel: 'error', clock: this.clock, ...opts });
    const cfg = { endpoint: this.eddy.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 };
    this.lambda = new LambdaClient(cfg);
    this.ddb = new DynamoDBClient(cfg);
    this.sqs = new SQSClient(cfg);
    return this;
  }

  async stop(): Promise<void> {
    this.lambda?.destroy();
    this.ddb?.destroy();
    this.sqs?.destroy();
    await this.eddy?.stop();
  }

  async fn(name: string, source = HANDLER, env: Record<string, string> = {}, timeout = 900): Promise<void> {
    await this.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Timeout: timeout,
        Environment: { Variables: { HUB: this.hub.url, ...env } },
        Code: { ZipFile: writeZip([{ name: 'index.js', data: source }]) },
      }),
    );
  }

  /** A table with a NEW_AND_OLD_IMAGES stream; returns the stream ARN. */
  async table(name: string, range = false): Promise<string> {
    await this.ddb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [
          { AttributeName: 'id', KeyType: 'HASH' },
          ...(range ? [{ AttributeName: 'n', KeyType: 'RANGE' as const }] : []),
        ],
        AttributeDefinitions: [
          { AttributeName: 'id', AttributeType: 'S' },
          ...(range ? [{ AttributeName: 'n', AttributeType: 'N' as const }] : []),
        ],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    const d = await this.ddb.send(new DescribeTableCommand({ TableName: name }));
    return d.Table!.LatestStreamArn!;
  }

  async put(table: string, id: string, extra: Record<string, string | number> = {}): Promise<void> {
    const Item: Record<string, { S: string } | { N: string }> = { id: { S: id } };
    for (const [k, v] of Object.entries(extra)) Item[k] = typeof v === 'number' ? { N: String(v) } : { S: v };
    await this.ddb.send(new PutItemCommand({ TableName: table, Item }));
  }

  /** Create a mapping and wait (on the clock) until it is Enabled. */
  async mapping(input: Omit<CreateEventSourceMappingCommandInput, 'FunctionName'> & { FunctionName: string }) {
    const m = await this.lambda.send(new CreateEventSourceMappingCommand(input));
    await this.clock.advance(0);
    for (let i = 0; i < 100; i++) {
      const g = await this.lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }));
      if (g.State === 'Enabled' || g.State === 'Disabled') return g;
      await this.clock.advance(0);
    }
    throw new Error('mapping never settled');
  }

  async queue(name: string, attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
    const q = await this.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const a = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    return { url: q.QueueUrl!, arn: a.Attributes!.QueueArn! };
  }

  /** Long-poll a queue until a message arrives (woken by the send; no clock needed). */
  async receive(url: string): Promise<Json[]> {
    // Long polls end on the virtual clock too (tests advance it), so poll again until something lands.
    for (let i = 0; i < 1000; i++) {
      const r = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20, MaxNumberOfMessages: 10 }),
      );
      if (r.Messages?.length) return r.Messages.map((m) => JSON.parse(m.Body!));
    }
    throw new Error(`nothing arrived in ${url}`);
  }

  /**
   * Move the virtual clock in `step`s until `p` settles (retries and windows wait on the clock; the
   * handlers run in real processes, so each step yields briefly to let their I/O land).
   */
  async advanceUntil<T>(p: Promise<T>, step = 1000, maxSteps = 5000): Promise<T> {
    let done = false;
    const guarded = p.then(
      (v) => {
        done = true;
        return v;
      },
      (e) => {
        done = true;
        throw e;
      },
    );
    for (let i = 0; i < maxSteps && !done; i++) {
      await new Promise((r) => setTimeout(r, 3));
      if (!done) await this.clock.advance(step);
    }
    return guarded;
  }
}

export const ids = (event: Json): string[] => event.Records.map((r: Json) => r.dynamodb.Keys.id.S);
export const allIds = (calls: Json[]): string[] => calls.flatMap(ids);
