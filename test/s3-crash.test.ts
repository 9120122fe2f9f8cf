import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };

/** An Eddy server in a child process over `dataDir` (test/s3-large.ts's server mode). */
async function server(dataDir: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 's3-large.ts'), '--server', dataDir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return { child, endpoint };
}

describe('S3 crash consistency', () => {
  it('kill -9 during concurrent uploads: every acknowledged object survives, every listed object has its body', {
    timeout: 90_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'eddy-s3-crash-'));
    try {
      let { child, endpoint } = await server(dataDir);
      let s3 = new S3Client({
        endpoint,
        region: 'us-east-1',
        credentials: creds,
        forcePathStyle: true,
        maxAttempts: 1,
      });
      await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
      const acked = new Map<string, string>();
      let stop = false;
      let n = 0;
      const writer = async () => {
        while (!stop) {
          const key = `obj-${n++}`;
          const body = Buffer.alloc(64 * 1024 + ((n * 7919) % (2 * 1024 * 1024)), n % 251);
          try {
            const r = await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: body }));
            acked.set(key, r.ETag!);
          } catch {
            // in flight when the server died
          }
        }
      };
      const writers = [writer(), writer(), writer(), writer()];
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      stop = true;
      await Promise.all(writers);
      s3.destroy();
      expect(acked.size).toBeGreaterThan(5);

      ({ child, endpoint } = await server(dataDir));
      s3 = new S3Client({ endpoint, region: 'us-east-1', credentials: creds, forcePathStyle: true, maxAttempts: 1 });
      const listed = new Map<string, string>();
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: 'crash', ContinuationToken: token }));
        for (const c of page.Contents ?? []) listed.set(c.Key!, c.ETag!);
        token = page.NextContinuationToken;
      } while (token);
      for (const [key, etag] of acked) expect(listed.get(key), key).toBe(etag);
      for (const [key, etag] of listed) {
        const got = await s3.send(new GetObjectCommand({ Bucket: 'crash', Key: key }));
        const md5 = createHash('md5')
          .update(await got.Body!.transformToByteArray())
          .digest('hex');
        expect(`"${md5}"`, key).toBe(etag);
      }
      s3.destroy();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
