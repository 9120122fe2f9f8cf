import { uuid } from '../../core/ids.ts';
import type { S3 } from './s3.ts';
import type { BucketRecord, ObjectRecord, Tag } from './store.ts';

const DAY = 24 * 60 * 60 * 1000;

/** AWS rounds an expiration to the next midnight UTC after `created + days`. */
export function expiryOf(createdMs: number, days: number): number {
  const t = createdMs + days * DAY;
  return Math.ceil(t / DAY) * DAY;
}

function matches(rule: Record<string, any>, r: { key: string; size: number; tags?: Tag[] }): boolean {
  const f = rule.Filter ?? {};
  const prefix: string = f.Prefix ?? f.And?.Prefix ?? rule.Prefix ?? '';
  if (!r.key.startsWith(prefix)) return false;
  const tags: Tag[] = [...(f.Tag ? [f.Tag] : []), ...((f.And?.Tags as Tag[]) ?? [])];
  for (const t of tags) if (!r.tags?.some((x) => x.Key === t.Key && x.Value === t.Value)) return false;
  const gt = f.ObjectSizeGreaterThan ?? f.And?.ObjectSizeGreaterThan;
  const lt = f.ObjectSizeLessThan ?? f.And?.ObjectSizeLessThan;
  if (gt !== undefined && !(r.size > Number(gt))) return false;
  if (lt !== undefined && !(r.size < Number(lt))) return false;
  return true;
}

/**
 * Apply every bucket's enabled lifecycle expiration rules at `now`: Expiration (Days / Date) of
 * current objects (a delete marker in versioned buckets), NoncurrentVersionExpiration, and
 * AbortIncompleteMultipartUpload. Transitions are stored but have nothing to move locally.
 */
export function sweepLifecycle(s3: S3, now: number): void {
  const st = s3.store;
  for (const b of [...st.buckets()]) {
    const rules = (b.lifecycle?.Rules ?? []).filter((r) => r.Status === 'Enabled');
    if (!rules.length) continue;
    const garbage: ObjectRecord[] = [];
    const partBlobs: { id: string; size: number }[] = [];
    s3.deps.storage.tx(() => {
      const bucket = st.getBucket(b.name) as BucketRecord;
      for (const [, v] of [...st.objects(bucket.name)]) {
        const r = JSON.parse(v) as ObjectRecord;
        const rule = rules.find((x) => x.Expiration && matches(x, r) && expired(x.Expiration, r.lastModified, now));
        if (!rule) continue;
        if (!bucket.versioning) {
          st.deleteVersion(bucket.name, r);
          st.setCurrent(bucket.name, r.key, undefined);
          garbage.push(r);
        } else {
          const marker: ObjectRecord = {
            key: r.key,
            versionId: bucket.versioning === 'Enabled' ? uuid().replace(/-/g, '') : 'null',
            seq: st.nextSeq(bucket.name),
            deleteMarker: true,
            size: 0,
            etag: '',
            lastModified: Math.floor(now / 1000) * 1000,
            blobs: [],
            owner: r.owner,
          };
          st.putVersion(bucket.name, marker);
          st.setCurrent(bucket.name, r.key, undefined);
        }
        s3.notifier?.objectEvent(bucket, 'LifecycleExpiration:Delete', r, lifecycleCtx(bucket, now));
      }
      const nonCurrent = rules.filter((x) => x.NoncurrentVersionExpiration?.NoncurrentDays !== undefined);
      if (nonCurrent.length && bucket.versioning) {
        let prevKey: string | undefined;
        let newerSince = 0;
        for (const [, v] of [...st.versions(bucket.name)]) {
          const r = JSON.parse(v) as ObjectRecord;
          if (r.key !== prevKey) {
            prevKey = r.key;
            newerSince = r.lastModified;
            continue;
          }
          const becameNoncurrent = newerSince;
          newerSince = r.lastModified;
          const rule = nonCurrent.find(
            (x) =>
              matches(x, r) && now >= expiryOf(becameNoncurrent, Number(x.NoncurrentVersionExpiration.NoncurrentDays)),
          );
          if (!rule) continue;
          st.deleteVersion(bucket.name, r);
          if (!r.deleteMarker) garbage.push(r);
        }
      }
      const abort = rules.filter((x) => x.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== undefined);
      if (abort.length) {
        for (const u of [...st.uploads(bucket.name)]) {
          const rule = abort.find(
            (x) =>
              matches(x, { key: u.key, size: 0 }) &&
              now >= expiryOf(u.initiated, Number(x.AbortIncompleteMultipartUpload.DaysAfterInitiation)),
          );
          if (!rule) continue;
          for (const p of st.parts(u.uploadId)) partBlobs.push(p.blob);
          st.deleteUpload(bucket.name, u.uploadId);
        }
      }
    });
    s3.collect(garbage);
    st.removeBlobs(partBlobs);
  }
}

function expired(exp: Record<string, any>, lastModified: number, now: number): boolean {
  if (exp.Days !== undefined) return now >= expiryOf(lastModified, Number(exp.Days));
  if (exp.Date !== undefined) {
    const d = exp.Date instanceof Date ? exp.Date.getTime() : Date.parse(String(exp.Date));
    return Number.isFinite(d) && now >= d;
  }
  return false;
}

function lifecycleCtx(b: BucketRecord, now: number) {
  return {
    requestId: uuid(),
    accountId: b.account,
    region: b.region,
    service: 's3',
    operation: 'Lifecycle',
    clock: { kind: 'real' as const, now: () => now, at: () => ({ cancel() {} }), after: () => ({ cancel() {} }) },
    endpoint: '',
    principal: 'AmazonS3',
  };
}
