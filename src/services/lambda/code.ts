import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { AwsError } from '../../core/errors.ts';
import { readZip, ZipError } from '../../core/zip.ts';
import type { Storage } from '../../storage/types.ts';
import { invalidParam } from './errors.ts';

/** Where a function's code lives. */
export type CodeRef =
  /** A zip kept in the blob store (content-addressed), extracted on first use. */
  | { kind: 'zip'; blob: string; sha256: string; size: number }
  /** A directory on this machine, used in place (fast iteration: edit, invoke, no upload). */
  | { kind: 'local'; dir: string; sha256: string; size: number };

/** S3 bucket names that mean "this key is a local directory" (`hot-reload` as LocalStack spells it). */
export const LOCAL_BUCKETS = new Set(['hot-reload', '__local__']);

const ZIP_LIMIT = 50 * 1024 * 1024;

export function storeZip(storage: Storage, zip: Buffer, operation: string): CodeRef {
  if (zip.length > ZIP_LIMIT) {
    throw new AwsError(
      'RequestEntityTooLargeException',
      `Request must be smaller than 69905067 bytes for the ${operation} operation`,
      413,
    );
  }
  try {
    readZip(zip);
  } catch (e) {
    throw invalidParam(
      e instanceof ZipError
        ? e.message
        : 'Could not unzip uploaded file. Please check your file, then try to upload again.',
    );
  }
  const hex = createHash('sha256').update(zip).digest('hex');
  const blob = `lambda-code-${hex}.zip`;
  if (!storage.blob.exists(blob)) writeFileSync(storage.blob.path(blob), zip);
  return { kind: 'zip', blob, sha256: Buffer.from(hex, 'hex').toString('base64'), size: zip.length };
}

export function localCode(dir: string): CodeRef {
  if (!isAbsolute(dir)) throw invalidParam(`Local code directory must be an absolute path: ${dir}`);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw invalidParam(`Local code directory does not exist: ${dir}`);
  const sha = createHash('sha256')
    .update(`local:${normalize(dir)}`)
    .digest('base64');
  return { kind: 'local', dir: normalize(dir), sha256: sha, size: 0 };
}

const CACHE = join(tmpdir(), 'eddy-lambda-code');
/** Packages already extracted by this process (CodeSha256 → directory): one stat per cold start, not two. */
const extracted = new Map<string, string>();

/** The directory the function runs from (LAMBDA_TASK_ROOT), extracting the zip once per content hash. */
export function taskRoot(storage: Storage, code: CodeRef): string {
  if (code.kind === 'local') return code.dir;
  const known = extracted.get(code.sha256);
  if (known && existsSync(known)) return known;
  const hex = Buffer.from(code.sha256, 'base64').toString('hex');
  const dir = join(CACHE, hex);
  if (existsSync(join(dir, '.eddy-complete'))) {
    extracted.set(code.sha256, dir);
    return dir;
  }
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  mkdirSync(tmp, { recursive: true });
  for (const e of readZip(storage.blob.read(code.blob))) {
    const target = normalize(join(tmp, e.name));
    if (!target.startsWith(tmp)) continue; // zip-slip
    if (e.name.endsWith('/')) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, e.data);
    if (e.mode) chmodSync(target, e.mode);
  }
  writeFileSync(join(tmp, '.eddy-complete'), '');
  try {
    renameSync(tmp, dir);
  } catch {
    // Another process extracted the same content first.
    rmSync(tmp, { recursive: true, force: true });
  }
  extracted.set(code.sha256, dir);
  return dir;
}
