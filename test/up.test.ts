import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fillTemplate, findPipelines } from '../src/cli/up.ts';

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
