import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { uuid } from '../../core/ids.ts';
import type { Storage } from '../../storage/types.ts';
import type { ChecksumAlgorithm } from './checksum.ts';

export interface Tag {
  Key: string;
  Value: string;
}

export interface BucketRecord {
  name: string;
  account: string;
  region: string;
  created: number;
  versioning?: 'Enabled' | 'Suspended';
  /** ServerSideEncryptionConfiguration as the model shapes it; AWS gives every new bucket SSE-S3. */
  encryption?: { Rules: Record<string, any>[] };
  lifecycle?: { Rules: Record<string, any>[] };
  policy?: string;
  publicAccessBlock?: Record<string, boolean>;
  tags?: Tag[];
  notification?: Record<string, any>;
  /** ObjectOwnership; 'none' after DeleteBucketOwnershipControls. */
  ownership?: string;
  cors?: Record<string, any>[];
  website?: Record<string, any>;
}

export interface BlobRef {
  id: string;
  size: number;
}

export interface ObjectRecord {
  key: string;
  /** 'null' for objects written while versioning was never enabled or suspended. */
  versionId: string;
  /** Write order within the bucket (newest versions sort first). */
  seq: number;
  deleteMarker?: boolean;
  size: number;
  /** With quotes, as S3 sends it. */
  etag: string;
  /** ms, whole seconds (S3 keeps second precision). */
  lastModified: number;
  blobs: BlobRef[];
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  websiteRedirect?: string;
  meta?: Record<string, string>;
  checksum?: { algorithm: ChecksumAlgorithm; value: string; type: 'FULL_OBJECT' | 'COMPOSITE' };
  tags?: Tag[];
  sse?: string;
  kmsKeyId?: string;
  bucketKeyEnabled?: boolean;
  storageClass?: string;
  /** Part sizes of a multipart object. */
  parts?: number[];
  owner: string;
}

export interface UploadRecord {
  uploadId: string;
  key: string;
  initiated: number;
  owner: string;
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  meta?: Record<string, string>;
  tags?: Tag[];
  sse?: string;
  kmsKeyId?: string;
  bucketKeyEnabled?: boolean;
  storageClass?: string;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: 'FULL_OBJECT' | 'COMPOSITE';
}

export interface PartRecord {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: number;
  blob: BlobRef;
  md5: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

const BUCKETS = 's3:buckets';
const META = 's3:meta';
const objNs = (b: string) => `s3:o:${b}`;
const verNs = (b: string) => `s3:v:${b}`;
const upNs = (b: string) => `s3:u:${b}`;
const partNs = (uploadId: string) => `s3:p:${uploadId}`;

const enc = (s: string) => Buffer.from(s, 'utf8');
const SEQ_MAX = 2n ** 62n;

/** Version rows sort by key, then newest first. */
export function versionKey(key: string, seq: number): Buffer {
  const k = enc(key);
  const out = Buffer.alloc(k.length + 9);
  k.copy(out);
  out[k.length] = 0;
  out.writeBigUInt64BE(SEQ_MAX - BigInt(seq), k.length + 1);
  return out;
}

export function keyOfVersionRow(k: Buffer): string {
  return k.subarray(0, k.length - 9).toString('utf8');
}

/**
 * Metadata in the kv store (one namespace per bucket for current objects, versions, uploads; one
 * per upload for parts); bodies are blob files. Every mutation here runs inside the caller's
 * `storage.tx`.
 */
export class S3Store {
  // Bodies of an ephemeral store live in the storage's own temp dir, which it removes on reset and close.
  constructor(readonly storage: Storage) {}

  private get kv() {
    return this.storage.kv;
  }

  getBucket(name: string): BucketRecord | undefined {
    const v = this.kv.get(BUCKETS, enc(name));
    return v === undefined ? undefined : (JSON.parse(v) as BucketRecord);
  }
  putBucket(b: BucketRecord): void {
    this.kv.put(BUCKETS, enc(b.name), JSON.stringify(b));
  }
  deleteBucket(name: string): void {
    this.kv.delete(BUCKETS, enc(name));
    for (const ns of [objNs(name), verNs(name), upNs(name)]) this.kv.drop(ns);
  }
  *buckets(): Iterable<BucketRecord> {
    for (const [, v] of this.kv.range(BUCKETS)) yield JSON.parse(v) as BucketRecord;
  }
  hasObjects(bucket: string): boolean {
    for (const _ of this.kv.range(verNs(bucket), { limit: 1 })) return true;
    for (const _ of this.kv.range(upNs(bucket), { limit: 1 })) return true;
    return false;
  }

  nextSeq(bucket: string): number {
    const k = enc(`seq:${bucket}`);
    const n = Number(this.kv.get(META, k) ?? '0') + 1;
    this.kv.put(META, k, String(n));
    return n;
  }

  current(bucket: string, key: string): ObjectRecord | undefined {
    const v = this.kv.get(objNs(bucket), enc(key));
    return v === undefined ? undefined : (JSON.parse(v) as ObjectRecord);
  }
  /** Newest version row of a key (object or delete marker). */
  latestVersion(bucket: string, key: string): ObjectRecord | undefined {
    for (const [, v] of this.kv.range(verNs(bucket), {
      gte: versionKey(key, Number(SEQ_MAX - 1n)),
      lte: versionKey(key, 0),
      limit: 1,
    })) {
      return JSON.parse(v) as ObjectRecord;
    }
    return undefined;
  }
  *versionsOf(bucket: string, key: string): Iterable<ObjectRecord> {
    for (const [, v] of this.kv.range(verNs(bucket), {
      gte: versionKey(key, Number(SEQ_MAX - 1n)),
      lte: versionKey(key, 0),
    })) {
      yield JSON.parse(v) as ObjectRecord;
    }
  }
  version(bucket: string, key: string, versionId: string): ObjectRecord | undefined {
    for (const r of this.versionsOf(bucket, key)) if (r.versionId === versionId) return r;
    return undefined;
  }
  putVersion(bucket: string, r: ObjectRecord): void {
    this.kv.put(verNs(bucket), versionKey(r.key, r.seq), JSON.stringify(r));
  }
  deleteVersion(bucket: string, r: ObjectRecord): void {
    this.kv.delete(verNs(bucket), versionKey(r.key, r.seq));
  }
  setCurrent(bucket: string, key: string, r: ObjectRecord | undefined): void {
    if (r && !r.deleteMarker) this.kv.put(objNs(bucket), enc(key), JSON.stringify(r));
    else this.kv.delete(objNs(bucket), enc(key));
  }
  /** Re-point the current object at the newest remaining version. */
  refreshCurrent(bucket: string, key: string): void {
    this.setCurrent(bucket, key, this.latestVersion(bucket, key));
  }

  objects(bucket: string, after?: Buffer, gte?: Buffer): IterableIterator<[Buffer, string]> {
    return this.kv.range(objNs(bucket), after ? { gt: after } : gte ? { gte } : {});
  }
  versions(bucket: string, gte?: Buffer): IterableIterator<[Buffer, string]> {
    return this.kv.range(verNs(bucket), gte ? { gte } : {});
  }

  getUpload(bucket: string, uploadId: string): UploadRecord | undefined {
    const v = this.kv.get(upNs(bucket), enc(uploadId));
    return v === undefined ? undefined : (JSON.parse(v) as UploadRecord);
  }
  putUpload(bucket: string, u: UploadRecord): void {
    this.kv.put(upNs(bucket), enc(u.uploadId), JSON.stringify(u));
  }
  deleteUpload(bucket: string, uploadId: string): void {
    this.kv.delete(upNs(bucket), enc(uploadId));
    this.kv.drop(partNs(uploadId));
  }
  *uploads(bucket: string): Iterable<UploadRecord> {
    for (const [, v] of this.kv.range(upNs(bucket))) yield JSON.parse(v) as UploadRecord;
  }
  getPart(uploadId: string, n: number): PartRecord | undefined {
    const v = this.kv.get(partNs(uploadId), partKey(n));
    return v === undefined ? undefined : (JSON.parse(v) as PartRecord);
  }
  putPart(uploadId: string, p: PartRecord): void {
    this.kv.put(partNs(uploadId), partKey(p.partNumber), JSON.stringify(p));
  }
  *parts(uploadId: string, after = 0): Iterable<PartRecord> {
    for (const [, v] of this.kv.range(partNs(uploadId), { gt: partKey(after) })) yield JSON.parse(v) as PartRecord;
  }

  // ---- blobs ----

  /** A fresh temp path to stream a body into. */
  tempBlob(): { id: string; path: string } {
    const id = `s3tmp-${uuid()}`;
    return { id, path: this.storage.blob.path(id) };
  }
  /** Move a finished temp blob to its final id (just before the metadata commit that lists it). */
  async commitBlob(tmpId: string): Promise<string> {
    const id = `s3-${uuid()}`;
    await rename(this.storage.blob.path(tmpId), this.storage.blob.path(id));
    return id;
  }
  async copyBlob(src: string): Promise<string> {
    const id = `s3-${uuid()}`;
    await copyFile(this.storage.blob.path(src), this.storage.blob.path(id));
    return id;
  }
  removeBlobs(blobs: BlobRef[]): void {
    for (const b of blobs) {
      this.storage.blob.remove(b.id);
    }
  }
  async removeTemp(id: string): Promise<void> {
    await rm(this.storage.blob.path(id), { force: true });
  }
  /** Bytes [start, end] (inclusive) of an object's blobs as one stream. */
  read(blobs: BlobRef[], start: number, end: number): Readable | Buffer {
    const paths = blobs.map((b) => ({ path: this.storage.blob.path(b.id), size: b.size }));
    if (end < start) return Buffer.alloc(0);
    // Small single-file reads: one read, no stream machinery.
    if (paths.length === 1 && end - start + 1 <= SMALL_READ) {
      const fd = openSync(paths[0].path, 'r');
      try {
        const buf = Buffer.allocUnsafe(end - start + 1);
        const n = readSync(fd, buf, 0, buf.length, start);
        return n === buf.length ? buf : buf.subarray(0, n);
      } finally {
        closeSync(fd);
      }
    }
    if (paths.length === 1) return createReadStream(paths[0].path, { start, end, highWaterMark: 256 * 1024 });
    return Readable.from(
      (async function* () {
        let offset = 0;
        for (const p of paths) {
          const from = Math.max(start, offset);
          const to = Math.min(end, offset + p.size - 1);
          if (from <= to)
            yield* createReadStream(p.path, { start: from - offset, end: to - offset, highWaterMark: 256 * 1024 });
          offset += p.size;
          if (offset > end) break;
        }
      })(),
      { objectMode: false },
    );
  }
}

const SMALL_READ = 256 * 1024;
const partKey = (n: number) => enc(String(n).padStart(5, '0'));
