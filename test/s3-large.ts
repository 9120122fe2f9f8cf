/**
 * `npm run test:s3-large`: a 1 GB object (S3_LARGE_MB to change) uploaded with one streaming
 * PutObject (aws-chunked, trailing CRC32) and with lib-storage's multipart Upload, then downloaded
 * and hashed, against an Eddy in a child process with a temp data dir — while the server's RSS is
 * sampled from /proc. Fails when the server's RSS grows by more than 200 MB over its warm baseline.
 * Not part of `npm test` (it moves gigabytes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

const MB = 1024 * 1024;

if (process.argv[2] === '--server') {
  const { startEddy } = await import('../src/index.ts');
  const eddy = await startEddy({ port: 0, dataDir: process.argv[3], logLevel: 'error' });
  process.stdout.write(`${eddy.endpoint}\n`);
  process.on('SIGTERM', () => void eddy.stop().then(() => process.exit(0)));
} else {
  await main();
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** A deterministic stream of `size` bytes (never held whole), hashing as it goes. */
function source(size: number, md5: ReturnType<typeof createHash>): Readable {
  const chunk = Buffer.alloc(MB);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(MB, size - sent);
      chunk.writeUInt32BE(sent / MB, 0);
      const out = Buffer.from(chunk.subarray(0, n));
      md5.update(out);
      sent += n;
      this.push(out);
    },
  });
}

async function main() {
  const size = Number(process.env.S3_LARGE_MB ?? 1024) * MB;
  const dataDir = mkdtempSync(join(tmpdir(), 'eddy-s3-large-'));
  const here = fileURLToPath(import.meta.url);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', here, '--server', dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const pid = child.pid!;
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    forcePathStyle: true,
  });
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 50);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'large' }));
    // Warm up every path once with a small object, then take the baseline.
    await s3.send(
      new PutObjectCommand({
        Bucket: 'large',
        Key: 'warm',
        Body: source(8 * MB, createHash('md5')),
        ContentLength: 8 * MB,
      }),
    );
    await (await s3.send(new GetObjectCommand({ Bucket: 'large', Key: 'warm' }))).Body!.transformToByteArray();
    const baseline = rssMb(pid);
    peak = baseline;
    const report: Record<string, unknown> = { sizeMB: size / MB, baselineRssMB: Math.round(baseline) };

    let t = performance.now();
    const putMd5 = createHash('md5');
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'large', Key: 'single', Body: source(size, putMd5), ContentLength: size }),
    );
    const putDigest = putMd5.digest('hex');
    if (put.ETag !== `"${putDigest}"`) throw new Error(`PutObject ETag ${put.ETag} != "${putDigest}"`);
    report.putMBps = Math.round(size / MB / ((performance.now() - t) / 1000));
    report.peakAfterPutMB = Math.round(peak);

    t = performance.now();
    const mpuMd5 = createHash('md5');
    const up = await new Upload({
      client: s3,
      params: { Bucket: 'large', Key: 'multipart', Body: source(size, mpuMd5) },
      partSize: 64 * MB,
      queueSize: 2,
    }).done();
    if (!/-\d+"$/.test(String(up.ETag))) throw new Error(`multipart ETag ${up.ETag}`);
    report.multipartMBps = Math.round(size / MB / ((performance.now() - t) / 1000));
    report.peakAfterMultipartMB = Math.round(peak);

    for (const [key, want] of [
      ['single', putDigest],
      ['multipart', mpuMd5.digest('hex')],
    ]) {
      t = performance.now();
      const got = await s3.send(new GetObjectCommand({ Bucket: 'large', Key: key }));
      const h = createHash('md5');
      let n = 0;
      for await (const c of got.Body as Readable) {
        h.update(c);
        n += c.length;
      }
      if (n !== size || h.digest('hex') !== want) throw new Error(`GET ${key}: ${n} bytes, digest mismatch`);
      report[`get_${key}_MBps`] = Math.round(size / MB / ((performance.now() - t) / 1000));
    }
    report.peakRssMB = Math.round(peak);
    report.growthMB = Math.round(peak - baseline);
    console.log(JSON.stringify(report, null, 2));
    if (peak - baseline > 200) throw new Error(`server RSS grew by ${Math.round(peak - baseline)} MB (limit 200)`);
    console.log('ok: RSS stayed flat');
  } finally {
    clearInterval(sampler);
    s3.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
