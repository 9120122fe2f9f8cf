import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Eddy } from '../src/index.ts';
import { bash, hasAwsCli } from './helpers/aws-cli.ts';
import { startTestEddy } from './helpers/eddy.ts';

const hasJq = (() => {
  try {
    execFileSync('jq', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
// The seed pipes into jq; without it, python's json.tool stands in.
const JSON_TOOL = hasJq ? 'jq .' : 'python3 -m json.tool';

describe.skipIf(!hasAwsCli)('aws s3 / s3api CLI against Eddy', { timeout: 120_000 }, () => {
  let eddy: Eddy;
  let dir: string;
  beforeAll(async () => {
    eddy = await startTestEddy();
    dir = mkdtempSync(join(tmpdir(), 'eddy-s3-cli-'));
  });
  afterAll(async () => {
    await eddy.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mb, cp (small, >8 MB multipart, S3 to S3, to stdout), ls --recursive, sync, rm, rb', async () => {
    const small = join(dir, 'small.txt');
    writeFileSync(small, 'hello from the cli\n');
    const big = join(dir, 'big.bin');
    const bigData = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < bigData.length; i += 4) bigData.writeUInt32LE(i, i);
    writeFileSync(big, bigData);
    const src = join(dir, 'site');
    mkdirSync(join(src, 'css'), { recursive: true });
    writeFileSync(join(src, 'index.html'), '<h1>hi</h1>');
    writeFileSync(join(src, 'css', 'a.css'), 'body{}');
    const down = join(dir, 'down');
    const out = await bash(
      eddy.endpoint,
      `aws s3 mb s3://cli-bucket
aws s3 cp ${small} s3://cli-bucket/docs/small.txt
aws s3 cp ${big} s3://cli-bucket/blobs/big.bin
aws s3 cp s3://cli-bucket/blobs/big.bin s3://cli-bucket/copy/big.bin
aws s3 sync ${src} s3://cli-bucket/site
aws s3 ls s3://cli-bucket --recursive
echo ---
aws s3 cp s3://cli-bucket/docs/small.txt -
echo ---
aws s3 cp s3://cli-bucket/blobs/big.bin - | md5sum
aws s3 sync s3://cli-bucket/site ${down}`,
    );
    expect(out.stdout).toContain('make_bucket: cli-bucket');
    expect(out.stdout.match(/upload: .*site/g)?.length).toBe(2);
    const [listing, cat, md5] = out.stdout.split('---\n');
    expect(listing).toMatch(/\s12582912 blobs\/big\.bin/);
    expect(listing).toMatch(/\s12582912 copy\/big\.bin/); // a multipart copy (UploadPartCopy)
    expect(listing).toMatch(/\s19 docs\/small\.txt/);
    expect(listing).toMatch(/\s6 site\/css\/a\.css/);
    expect(cat).toBe('hello from the cli\n');
    expect(md5.split(' ')[0]).toBe(createHash('md5').update(bigData).digest('hex'));
    expect(readFileSync(join(down, 'index.html'), 'utf8')).toBe('<h1>hi</h1>');
    expect(readFileSync(join(down, 'css', 'a.css'), 'utf8')).toBe('body{}');
    // The 12 MB copy went multipart (8 MB chunks): a "-2" ETag.
    const head = await raw(eddy, 'HEAD', '/cli-bucket/blobs/big.bin');
    expect(head.headers.get('etag')).toMatch(/-2"$/);
    expect(head.headers.get('content-length')).toBe(String(12 * 1024 * 1024));

    const rb = await bash(
      eddy.endpoint,
      `aws s3 rm s3://cli-bucket/docs/small.txt
aws s3 rm s3://cli-bucket --recursive
aws s3 rb s3://cli-bucket`,
    );
    expect(rb.stdout).toContain('delete: s3://cli-bucket/docs/small.txt');
    expect(rb.stdout).toContain('delete: s3://cli-bucket/site/index.html');
    expect(rb.stdout).toContain('remove_bucket: cli-bucket');
    expect(await (await raw(eddy, 'GET', '/')).text()).not.toContain('cli-bucket');
  });

  it('the seed 000 audit-log commands verbatim (ls --recursive, cp - | jq .)', async () => {
    const record = { eventName: 'MODIFY', userId: 'test-user-001', at: '2026-01-01T00:00:00Z' };
    await raw(eddy, 'PUT', '/your-audit-bucket');
    await raw(eddy, 'PUT', '/your-audit-bucket/audit-logs/path-to-record.json', JSON.stringify(record));
    await raw(eddy, 'PUT', '/your-audit-bucket/audit-logs/2026/01/01/other.json', JSON.stringify(record));
    await raw(eddy, 'PUT', '/your-audit-bucket/elsewhere.json', '{}');
    const out = await bash(
      eddy.endpoint,
      `# List audit records in S3 (replace with your bucket name)
aws s3 ls s3://your-audit-bucket/audit-logs/ --recursive

# Download and view an audit record
aws s3 cp s3://your-audit-bucket/audit-logs/path-to-record.json - | ${JSON_TOOL}`,
    );
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+ audit-logs\/2026\/01\/01\/other\.json$/);
    expect(lines[1]).toMatch(/audit-logs\/path-to-record\.json$/);
    expect(JSON.parse(lines.slice(2).join('\n'))).toEqual(record);
  });

  it('s3api: the seed lifecycle command from a file, and errors as the CLI prints them', async () => {
    await raw(eddy, 'PUT', '/api-bucket');
    const lifecycle = join(dir, 'lifecycle-policy.json');
    writeFileSync(
      lifecycle,
      JSON.stringify({
        Rules: [
          {
            ID: 'archive',
            Status: 'Enabled',
            Filter: { Prefix: 'audit-logs/' },
            Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }],
            Expiration: { Days: 365 },
          },
        ],
      }),
    );
    const out = await bash(
      eddy.endpoint,
      `S3_BUCKET_NAME=api-bucket
# Configure S3 lifecycle policies for audit logs
aws s3api put-bucket-lifecycle-configuration \\
    --bucket \${S3_BUCKET_NAME} \\
    --lifecycle-configuration file://${lifecycle}
aws s3api get-bucket-lifecycle-configuration --bucket api-bucket
aws s3api get-object --bucket api-bucket --key nope /dev/null 2>&1 || true`,
    );
    const brace = out.stdout.lastIndexOf('}');
    const lc = JSON.parse(out.stdout.slice(out.stdout.indexOf('{'), brace + 1));
    expect(lc.Rules[0]).toMatchObject({
      ID: 'archive',
      Status: 'Enabled',
      Expiration: { Days: 365 },
      Filter: { Prefix: 'audit-logs/' },
    });
    expect(out.stdout).toContain(
      'An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist.',
    );
  });
});

/** A request with an S3 credential scope (the server runs with --auth off). */
function raw(eddy: Eddy, method: string, path: string, body?: string): Promise<Response> {
  return fetch(`${eddy.endpoint}${path}`, {
    method,
    body,
    headers: {
      authorization:
        'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
    },
  });
}
