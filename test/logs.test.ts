import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  PutSubscriptionFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../src/core/zip.ts';
import { type Eddy, startEddy, type VirtualClock } from '../src/index.ts';
import { compileFilterPattern } from '../src/services/logs/filter-pattern.ts';

let eddy: Eddy;
let logs: CloudWatchLogsClient;
let lambda: LambdaClient;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

beforeAll(async () => {
  eddy = await startEddy({ port: 0, memory: true, clock: 'virtual' });
  logs = new CloudWatchLogsClient({ endpoint: eddy.endpoint, region: 'us-east-1', credentials });
  lambda = new LambdaClient({ endpoint: eddy.endpoint, region: 'us-east-1', credentials });
});
afterAll(async () => {
  logs?.destroy();
  lambda?.destroy();
  await eddy?.stop();
});

describe('CloudWatch Logs', () => {
  it('creates groups and streams, puts and reads events, and reports errors as AWS', async () => {
    const now = eddy.clock.now();
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/app/one' }));
    await expect(logs.send(new CreateLogGroupCommand({ logGroupName: '/app/one' }))).rejects.toMatchObject({
      name: 'ResourceAlreadyExistsException',
      message: 'The specified log group already exists',
    });
    await logs.send(new CreateLogStreamCommand({ logGroupName: '/app/one', logStreamName: 's1' }));
    await expect(
      logs.send(new CreateLogStreamCommand({ logGroupName: '/nope', logStreamName: 's1' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'The specified log group does not exist.',
    });
    const put = await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/app/one',
        logStreamName: 's1',
        logEvents: [
          { timestamp: now - 3000, message: 'first ERROR here' },
          { timestamp: now - 2000, message: '{"level":"ERROR","ms":120}' },
          { timestamp: now - 1000, message: '{"level":"INFO","ms":5}' },
        ],
      }),
    );
    expect(put.nextSequenceToken).toBeTruthy();
    await expect(
      logs.send(
        new PutLogEventsCommand({
          logGroupName: '/app/one',
          logStreamName: 's1',
          logEvents: [
            { timestamp: now, message: 'b' },
            { timestamp: now - 5, message: 'a' },
          ],
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'Log events in a single PutLogEvents request must be in chronological order.',
    });

    const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/app/' }));
    expect(groups.logGroups?.map((g) => g.logGroupName)).toEqual(['/app/one']);
    expect(groups.logGroups?.[0].arn).toBe('arn:aws:logs:us-east-1:000000000000:log-group:/app/one:*');
    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/app/one' }));
    expect(streams.logStreams?.[0]).toMatchObject({
      logStreamName: 's1',
      firstEventTimestamp: now - 3000,
      lastEventTimestamp: now - 1000,
    });

    const head = await logs.send(
      new GetLogEventsCommand({ logGroupName: '/app/one', logStreamName: 's1', startFromHead: true, limit: 2 }),
    );
    expect(head.events?.map((e) => e.message)).toEqual(['first ERROR here', '{"level":"ERROR","ms":120}']);
    const more = await logs.send(
      new GetLogEventsCommand({ logGroupName: '/app/one', logStreamName: 's1', nextToken: head.nextForwardToken }),
    );
    expect(more.events?.map((e) => e.message)).toEqual(['{"level":"INFO","ms":5}']);
    const tail = await logs.send(new GetLogEventsCommand({ logGroupName: '/app/one', logStreamName: 's1', limit: 1 }));
    expect(tail.events?.map((e) => e.message)).toEqual(['{"level":"INFO","ms":5}']);

    const f = async (filterPattern: string) =>
      (await logs.send(new FilterLogEventsCommand({ logGroupName: '/app/one', filterPattern }))).events?.map(
        (e) => e.message,
      );
    expect(await f('ERROR')).toEqual(['first ERROR here', '{"level":"ERROR","ms":120}']);
    expect(await f('{ $.level = "ERROR" }')).toEqual(['{"level":"ERROR","ms":120}']);
    expect(await f('{ $.ms > 10 || $.level = "INF*" }')).toEqual([
      '{"level":"ERROR","ms":120}',
      '{"level":"INFO","ms":5}',
    ]);
    expect(await f('ERROR -first')).toEqual(['{"level":"ERROR","ms":120}']);
    expect(await f('?first ?INFO')).toEqual(['first ERROR here', '{"level":"INFO","ms":5}']);
    expect(await f('"ERROR here"')).toEqual(['first ERROR here']);
  });

  it('refuses operations Eddy does not implement by name', async () => {
    await expect(
      logs.send(
        new PutSubscriptionFilterCommand({
          logGroupName: '/app/one',
          filterName: 'f',
          filterPattern: '',
          destinationArn: 'arn:aws:lambda:us-east-1:000000000000:function:x',
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidOperationException',
      message:
        'The CloudWatch Logs operation PutSubscriptionFilter is not supported by Eddy yet (see docs/services/logs.md).',
    });
  });

  it('trims events past the retention period on the clock', async () => {
    const clock = eddy.clock as VirtualClock;
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/app/ret' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: '/app/ret', logStreamName: 's' }));
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/app/ret',
        logStreamName: 's',
        logEvents: [{ timestamp: clock.now(), message: 'old' }],
      }),
    );
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: '/app/ret', retentionInDays: 1 }));
    await expect(
      logs.send(new PutRetentionPolicyCommand({ logGroupName: '/app/ret', retentionInDays: 2 })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await clock.advance(2 * 86_400_000);
    const r = await logs.send(
      new GetLogEventsCommand({ logGroupName: '/app/ret', logStreamName: 's', startFromHead: true }),
    );
    expect(r.events).toEqual([]);
    const g = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/app/ret' }));
    expect(g.logGroups?.[0].retentionInDays).toBe(1);
    await logs.send(new DeleteLogGroupCommand({ logGroupName: '/app/ret' }));
    await expect(logs.send(new DescribeLogStreamsCommand({ logGroupName: '/app/ret' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it("receives a function's output, START/END/REPORT lines in /aws/lambda/<name>", async () => {
    const code = writeZip([
      {
        name: 'index.js',
        data: `exports.handler = async (e) => { console.log(JSON.stringify({ level: 'ERROR', n: e.n })); console.warn('multi\\nline'); return 1; };`,
      },
    ]);
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'logger',
        Runtime: 'nodejs20.x',
        Role: 'arn:aws:iam::000000000000:role/r',
        Handler: 'index.handler',
        Code: { ZipFile: code },
      }),
    );
    const inv = await lambda.send(new InvokeCommand({ FunctionName: 'logger', Payload: Buffer.from('{"n":7}') }));
    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/logger' }));
    expect(streams.logStreams).toHaveLength(1);
    const events = await logs.send(
      new GetLogEventsCommand({
        logGroupName: '/aws/lambda/logger',
        logStreamName: streams.logStreams![0].logStreamName,
        startFromHead: true,
      }),
    );
    const msgs = events.events!.map((e) => e.message!);
    expect(msgs[0]).toBe(`START RequestId: ${inv.$metadata.requestId} Version: $LATEST\n`);
    expect(msgs[1]).toMatch(
      new RegExp(
        `^\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z\\t${inv.$metadata.requestId}\\tINFO\\t\\{"level":"ERROR","n":7\\}\\n$`,
      ),
    );
    expect(msgs[2]).toMatch(/\tWARN\tmulti\nline\n$/);
    expect(msgs[3]).toBe(`END RequestId: ${inv.$metadata.requestId}\n`);
    expect(msgs[4]).toMatch(/^REPORT RequestId: /);
    const filtered = await logs.send(
      new FilterLogEventsCommand({ logGroupName: '/aws/lambda/logger', filterPattern: 'REPORT' }),
    );
    expect(filtered.events).toHaveLength(1);
    expect(filtered.events![0].logStreamName).toBe(streams.logStreams![0].logStreamName);
  });
});

describe('metrics from functions', () => {
  it('records AWS/Lambda metrics and embedded-metric-format lines as CloudWatch metrics', async () => {
    const cw = new CloudWatchClient({ endpoint: eddy.endpoint, region: 'us-east-1', credentials });
    const emf = (n: number) =>
      JSON.stringify({
        _aws: {
          Timestamp: eddy.clock.now(),
          CloudWatchMetrics: [
            { Namespace: 'Shop', Dimensions: [['service']], Metrics: [{ Name: 'Orders', Unit: 'Count' }] },
          ],
        },
        service: 'checkout',
        Orders: n,
      });
    const code = writeZip([
      {
        name: 'index.js',
        data: `exports.handler = async (e) => { process.stdout.write(e.emf + '\\n'); if (e.fail) throw new Error('x'); return 1; };`,
      },
    ]);
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'metered',
        Runtime: 'nodejs20.x',
        Role: 'arn:aws:iam::000000000000:role/r',
        Handler: 'index.handler',
        Code: { ZipFile: code },
      }),
    );
    await lambda.send(
      new InvokeCommand({ FunctionName: 'metered', Payload: Buffer.from(JSON.stringify({ emf: emf(2) })) }),
    );
    await lambda.send(
      new InvokeCommand({ FunctionName: 'metered', Payload: Buffer.from(JSON.stringify({ emf: emf(3), fail: true })) }),
    );
    const now = eddy.clock.now();
    const stat = async (Namespace: string, MetricName: string, Dimensions: { Name: string; Value: string }[]) =>
      (
        await cw.send(
          new GetMetricStatisticsCommand({
            Namespace,
            MetricName,
            Dimensions,
            StartTime: new Date(now - 600_000),
            EndTime: new Date(now + 60_000),
            Period: 60,
            Statistics: ['Sum'],
          }),
        )
      ).Datapoints?.reduce((n, d) => n + (d.Sum ?? 0), 0);
    expect(await stat('AWS/Lambda', 'Invocations', [{ Name: 'FunctionName', Value: 'metered' }])).toBe(2);
    expect(await stat('AWS/Lambda', 'Errors', [{ Name: 'FunctionName', Value: 'metered' }])).toBe(1);
    expect(await stat('Shop', 'Orders', [{ Name: 'service', Value: 'checkout' }])).toBe(5);
    cw.destroy();
  });
});

describe('filter patterns', () => {
  it.each([
    ['', 'anything', true],
    ['ERROR', 'an ERROR line', true],
    ['ERROR', 'an error line', false],
    ['ERROR Exception', 'ERROR: Exception thrown', true],
    ['ERROR Exception', 'ERROR only', false],
    ['?ERROR ?WARN', 'a WARN', true],
    ['"timed out"', 'Task timed out after', true],
    ['-DEBUG', 'INFO line', true],
    ['%ab+c%', 'xabbbcx', true],
    ['{ $.a.b = 1 }', '{"a":{"b":1}}', true],
    ['{ $.a.b = 1 }', 'not json', false],
    ['{ $.list[1] = "y" }', '{"list":["x","y"]}', true],
    ['{ ($.x = 1 && $.y != 2) || $.z IS NULL }', '{"z":null}', true],
    ['{ $.x NOT EXISTS }', '{"y":1}', true],
  ])('%s on %s', (pattern, message, expected) => {
    expect(compileFilterPattern(pattern)(message)).toBe(expected);
  });
  it('refuses space-delimited patterns by name', () => {
    expect(() => compileFilterPattern('[ip, user]')).toThrow(/Space-delimited/);
  });
});
