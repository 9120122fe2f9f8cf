import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fillTemplate, findPipelines } from '../src/cli/up.ts';
import { bash, hasAwsCli } from './helpers/aws-cli.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'eddy-up-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Run `eddy up` until it says it is serving; returns its output and the running child. */
async function up(port: number): Promise<{ out: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['bin/eddy.js', 'up', '--data-dir', dataDir, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Eddy is serving at')) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`eddy up exited with ${code}:\n${out}`)));
  });
  return { out, child };
}

async function stop(child: ChildProcess) {
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGINT');
  await exited;
}

describe('eddy up', () => {
  it('finds the pipelines and fills their try-it commands', () => {
    const names = findPipelines().map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['change-capture', 'message-notifications']));
    expect(
      fillTemplate('aws s3 ls s3://${Bucket}/ --endpoint-url ${ENDPOINT} ${Missing}', {
        Bucket: 'b',
        ENDPOINT: 'http://x',
      }),
    ).toBe('aws s3 ls s3://b/ --endpoint-url http://x ${Missing}');
  });

  it('deploys every pipeline, prints outputs and commands, and comes back unchanged with its data', async () => {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const first = await up(port);
    expect(first.out).toMatch(/✓ change-capture: dynamodb-streams-processing CREATE_COMPLETE/);
    expect(first.out).toMatch(/✓ message-notifications: message-notifications CREATE_COMPLETE/);
    const table = /TableName\s+(dynamodb-streams-processing-\S+)/.exec(first.out)?.[1];
    expect(table).toBeTruthy();
    expect(first.out).toContain(`dynamodb put-item --table-name ${table}`);
    const put = await fetch(`http://127.0.0.1:${port}`, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.PutItem' },
      body: JSON.stringify({
        TableName: table,
        Item: { UserId: { S: 'u1' }, ActivityId: { S: 'a1' }, ActivityType: { S: 'LOGIN' } },
      }),
    });
    expect(put.status).toBe(200);
    if (hasAwsCli) await seedCommands(`http://127.0.0.1:${port}`, first.out);
    await stop(first.child);

    const second = await up(port);
    expect(second.out).toMatch(/✓ change-capture: dynamodb-streams-processing unchanged/);
    expect(second.out).toMatch(/✓ message-notifications: message-notifications unchanged/);
    const get = await fetch(`http://127.0.0.1:${port}`, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.GetItem' },
      body: JSON.stringify({ TableName: table, Key: { UserId: { S: 'u1' }, ActivityId: { S: 'a1' } } }),
    });
    expect((await get.json()).Item.ActivityType).toEqual({ S: 'LOGIN' });
    await stop(second.child);
  });
});

/** The seed 000 "Testing the Deployment" / "Monitoring" commands, verbatim but for names and --endpoint-url. */
async function seedCommands(endpoint: string, out: string) {
  const output = (key: string) => new RegExp(`${key}\\s+(\\S+)`).exec(out)![1];
  const env = {
    TABLE_NAME: output('TableName'),
    BUCKET: output('AuditBucketName'),
    QUEUE_URL: output('NotificationQueueUrl'),
    DLQ_URL: output('DeadLetterQueueUrl'),
    LOG_GROUP: output('LogGroupName'),
  };
  await bash(
    endpoint,
    `aws dynamodb put-item \\
    --table-name \${TABLE_NAME} \\
    --item '{
        "UserId": {"S": "test-user-001"},
        "ActivityId": {"S": "login-001"},
        "ActivityType": {"S": "LOGIN"},
        "Timestamp": {"N": "'$(date +%s)'"},
        "IPAddress": {"S": "192.168.1.100"}
    }'
aws dynamodb update-item \\
    --table-name \${TABLE_NAME} \\
    --key '{
        "UserId": {"S": "test-user-001"},
        "ActivityId": {"S": "login-001"}
    }' \\
    --update-expression "SET ActivityType = :type" \\
    --expression-attribute-values '{
        ":type": {"S": "LOGOUT"}
    }'`,
    env,
  );
  // The stream processor runs asynchronously: poll (bounded) until both changes are audited.
  let listing = '';
  for (let i = 0; i < 60 && (listing.match(/\.json/g) ?? []).length < 2; i++) {
    listing = (await bash(endpoint, 'aws s3 ls s3://${BUCKET}/audit-logs/ --recursive', env)).stdout;
    if ((listing.match(/\.json/g) ?? []).length < 2) await new Promise((r) => setTimeout(r, 250));
  }
  expect(listing).toMatch(/INSERT-.*\.json/);
  expect(listing).toMatch(/MODIFY-.*\.json/);
  const key = /(audit-logs\/\S+MODIFY\S+\.json)/.exec(listing)![1];
  const record = JSON.parse((await bash(endpoint, `aws s3 cp s3://\${BUCKET}/${key} -`, env)).stdout);
  expect(record).toMatchObject({ eventName: 'MODIFY' });
  const received = JSON.parse(
    (await bash(endpoint, 'aws sqs receive-message --queue-url ${QUEUE_URL} --wait-time-seconds 5', env)).stdout,
  );
  expect(JSON.parse(received.Messages[0].Body).Subject).toMatch(/ACTIVITY_TYPE_CHANGED/);
  const logs = JSON.parse(
    (
      await bash(
        endpoint,
        "aws logs filter-log-events --log-group-name ${LOG_GROUP} --start-time $(date -d '5 minutes ago' +%s)000 --filter-pattern 'Processing'",
        env,
      )
    ).stdout,
  );
  expect(logs.events.length).toBeGreaterThanOrEqual(2);
  const dlq = JSON.parse(
    (
      await bash(
        endpoint,
        'aws sqs get-queue-attributes --queue-url ${DLQ_URL} --attribute-names ApproximateNumberOfMessages',
        env,
      )
    ).stdout,
  );
  expect(dlq.Attributes.ApproximateNumberOfMessages).toBe('0');
}
