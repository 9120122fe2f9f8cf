import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Eddy } from '../src/index.ts';
import { aws, bash, hasAwsCli } from './helpers/aws-cli.ts';
import { startTestEddy } from './helpers/eddy.ts';

describe.skipIf(!hasAwsCli)('aws dynamodb CLI against Eddy', () => {
  let eddy: Eddy;
  beforeAll(async () => {
    eddy = await startTestEddy();
  });
  afterAll(() => eddy.stop());

  it('create-table, wait, describe-table, then the seed 000 test commands verbatim, query and scan', async () => {
    await aws(eddy.endpoint, [
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
    ]);
    await aws(eddy.endpoint, ['dynamodb', 'wait', 'table-exists', '--table-name', 'user-activities']);
    const spec = await aws(eddy.endpoint, [
      'dynamodb',
      'describe-table',
      '--table-name',
      'user-activities',
      '--query',
      'Table.StreamSpecification',
    ]);
    expect(spec).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });

    // From the seed's "Testing the Deployment", unchanged but for the table name.
    await bash(
      eddy.endpoint,
      `TABLE_NAME="user-activities"

# Insert test data to trigger stream processing
aws dynamodb put-item \\
    --table-name \${TABLE_NAME} \\
    --item '{
        "UserId": {"S": "test-user-001"},
        "ActivityId": {"S": "login-001"},
        "ActivityType": {"S": "LOGIN"},
        "Timestamp": {"N": "'$(date +%s)'"},
        "IPAddress": {"S": "192.168.1.100"}
    }'

# Update the item to trigger MODIFY event
aws dynamodb update-item \\
    --table-name \${TABLE_NAME} \\
    --key '{
        "UserId": {"S": "test-user-001"},
        "ActivityId": {"S": "login-001"}
    }' \\
    --update-expression "SET ActivityType = :type" \\
    --expression-attribute-values '{
        ":type": {"S": "LOGOUT"}
    }'
`,
    );
    const q = await aws(eddy.endpoint, [
      'dynamodb',
      'query',
      '--table-name',
      'user-activities',
      '--key-condition-expression',
      'UserId = :u',
      '--expression-attribute-values',
      '{":u":{"S":"test-user-001"}}',
    ]);
    expect(q.Count).toBe(1);
    expect(q.Items[0].ActivityType).toEqual({ S: 'LOGOUT' });
    const s = await aws(eddy.endpoint, ['dynamodb', 'scan', '--table-name', 'user-activities']);
    expect(s.Items[0].IPAddress).toEqual({ S: '192.168.1.100' });
    const tables = await aws(eddy.endpoint, ['dynamodb', 'list-tables']);
    expect(tables.TableNames).toEqual(['user-activities']);
  });

  it('reports AWS errors the way the CLI shows them', async () => {
    await expect(aws(eddy.endpoint, ['dynamodb', 'describe-table', '--table-name', 'no-such-table'])).rejects.toThrow(
      /ResourceNotFoundException.*Requested resource not found/,
    );
  });

  it('sts get-caller-identity', async () => {
    const me = await aws(eddy.endpoint, ['sts', 'get-caller-identity']);
    expect(me).toEqual({ UserId: 'test', Account: '000000000000', Arn: 'arn:aws:iam::000000000000:root' });
  });
});

describe.skipIf(!hasAwsCli)('aws CLI signatures under --auth sigv4', () => {
  let eddy: Eddy;
  beforeAll(async () => {
    eddy = await startTestEddy({
      auth: 'sigv4',
      credentials: [{ accessKeyId: 'AKIDCLI', secretAccessKey: 'cli-secret' }],
    });
  });
  afterAll(() => eddy.stop());

  it('verifies the CLI signature for JSON and query services, and rejects a wrong secret', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKIDCLI', AWS_SECRET_ACCESS_KEY: 'cli-secret' };
    expect(await aws(eddy.endpoint, ['dynamodb', 'list-tables'], env)).toEqual({ TableNames: [] });
    expect((await aws(eddy.endpoint, ['sts', 'get-caller-identity'], env)).UserId).toBe('AKIDCLI');
    await expect(
      aws(eddy.endpoint, ['dynamodb', 'list-tables'], { ...env, AWS_SECRET_ACCESS_KEY: 'wrong' }),
    ).rejects.toThrow(/InvalidSignatureException/);
  });
});
