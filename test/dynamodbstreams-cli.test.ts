// The real `aws dynamodbstreams` CLI reading the records that the seed 000 (DynamoDB Streams
// processing) test commands produce. Skipped visibly where `aws` is absent.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Eddy, startEddy } from '../src/index.ts';

const run = promisify(execFile);

function hasAws(): boolean {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const AWS = hasAws();
if (!AWS) console.warn('SKIPPED: test/dynamodbstreams-cli.test.ts needs the `aws` CLI on PATH');

let eddy: Eddy;
const env = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_PAGER: '',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
};

async function aws(...args: string[]): Promise<any> {
  const { stdout } = await run(
    'aws',
    [...args, '--endpoint-url', eddy.endpoint, '--region', 'us-east-1', '--output', 'json'],
    { env, timeout: 60_000 },
  );
  return stdout.trim() ? JSON.parse(stdout) : {};
}

describe.skipIf(!AWS)('aws dynamodbstreams CLI', () => {
  beforeAll(async () => {
    eddy = await startEddy({ port: 0, memory: true, logLevel: 'error' });
  });
  afterAll(async () => {
    await eddy?.stop();
  });

  it('reads the records of the seed 000 test commands (put-item, update-item) in order', async () => {
    const created = await aws(
      'dynamodb',
      'create-table',
      '--table-name',
      'user-activities',
      '--attribute-definitions',
      'AttributeName=UserId,AttributeType=S',
      'AttributeName=ActivityId,AttributeType=S',
      '--key-schema',
      'AttributeName=UserId,KeyType=HASH',
      'AttributeName=ActivityId,KeyType=RANGE',
      '--billing-mode',
      'PAY_PER_REQUEST',
      '--stream-specification',
      'StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES',
    );
    const arn = created.TableDescription.LatestStreamArn;
    expect(arn).toContain(':table/user-activities/stream/');
    const ts = String(Math.floor(Date.now() / 1000));
    // The seed's "Testing the Deployment" commands, verbatim apart from the table name.
    await aws(
      'dynamodb',
      'put-item',
      '--table-name',
      'user-activities',
      '--item',
      `{"UserId": {"S": "test-user-001"}, "ActivityId": {"S": "login-001"}, "ActivityType": {"S": "LOGIN"}, "Timestamp": {"N": "${ts}"}, "IPAddress": {"S": "192.168.1.100"}}`,
    );
    await aws(
      'dynamodb',
      'update-item',
      '--table-name',
      'user-activities',
      '--key',
      '{"UserId": {"S": "test-user-001"}, "ActivityId": {"S": "login-001"}}',
      '--update-expression',
      'SET ActivityType = :type',
      '--expression-attribute-values',
      '{":type": {"S": "LOGOUT"}}',
    );
    const spec = await aws(
      'dynamodb',
      'describe-table',
      '--table-name',
      'user-activities',
      '--query',
      'Table.StreamSpecification',
    );
    expect(spec).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });

    const list = await aws('dynamodbstreams', 'list-streams', '--table-name', 'user-activities');
    expect(list.Streams).toEqual([
      { StreamArn: arn, TableName: 'user-activities', StreamLabel: arn.split('/stream/')[1] },
    ]);
    const desc = await aws('dynamodbstreams', 'describe-stream', '--stream-arn', arn);
    expect(desc.StreamDescription.StreamStatus).toBe('ENABLED');
    expect(desc.StreamDescription.KeySchema).toEqual([
      { AttributeName: 'UserId', KeyType: 'HASH' },
      { AttributeName: 'ActivityId', KeyType: 'RANGE' },
    ]);
    const shardId = desc.StreamDescription.Shards[0].ShardId;
    const it0 = await aws(
      'dynamodbstreams',
      'get-shard-iterator',
      '--stream-arn',
      arn,
      '--shard-id',
      shardId,
      '--shard-iterator-type',
      'TRIM_HORIZON',
    );
    const recs = await aws('dynamodbstreams', 'get-records', '--shard-iterator', it0.ShardIterator);
    expect(recs.Records.map((r: any) => r.eventName)).toEqual(['INSERT', 'MODIFY']);
    const [ins, mod] = recs.Records;
    expect(ins.dynamodb.Keys).toEqual({ UserId: { S: 'test-user-001' }, ActivityId: { S: 'login-001' } });
    expect(ins.dynamodb.NewImage.IPAddress).toEqual({ S: '192.168.1.100' });
    expect(mod.dynamodb.OldImage.ActivityType).toEqual({ S: 'LOGIN' });
    expect(mod.dynamodb.NewImage.ActivityType).toEqual({ S: 'LOGOUT' });
    expect(typeof ins.dynamodb.ApproximateCreationDateTime).toBe('number');
    expect(recs.NextShardIterator).toBeDefined();

    const after = await aws(
      'dynamodbstreams',
      'get-shard-iterator',
      '--stream-arn',
      arn,
      '--shard-id',
      shardId,
      '--shard-iterator-type',
      'AFTER_SEQUENCE_NUMBER',
      '--sequence-number',
      ins.dynamodb.SequenceNumber,
    );
    const tail = await aws('dynamodbstreams', 'get-records', '--shard-iterator', after.ShardIterator);
    expect(tail.Records.map((r: any) => r.eventName)).toEqual(['MODIFY']);
  }, 120_000);

  it('reports errors with AWS codes', async () => {
    const missing = 'arn:aws:dynamodb:us-east-1:000000000000:table/None/stream/2020-01-01T00:00:00.000';
    const err = await run(
      'aws',
      [
        'dynamodbstreams',
        'describe-stream',
        '--stream-arn',
        missing,
        '--endpoint-url',
        eddy.endpoint,
        '--region',
        'us-east-1',
      ],
      {
        env,
      },
    ).catch((e) => e);
    expect(err.code).not.toBe(0);
    expect(String(err.stderr)).toContain('ResourceNotFoundException');
  }, 60_000);
});
