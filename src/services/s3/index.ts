import type { Timer } from '../../core/clock.ts';
import type { ServiceDeps } from '../../core/ports.ts';
import type { OperationHandler, ServiceImpl } from '../../gateway/service.ts';
import { loadModel } from '../../model/model.ts';
import * as E from './errors.ts';
import { sweepLifecycle } from './lifecycle.ts';
import { createNotifier, type S3DeliveryPort, type S3Notifier } from './notifications.ts';
import { S3 } from './s3.ts';

/** How often (clock time) lifecycle rules are applied. AWS runs them about once a day; an hour keeps tests quick. */
const LIFECYCLE_EVERY_MS = 60 * 60 * 1000;

export interface S3Service {
  service: ServiceImpl;
  /** Wire notifications once the delivery path exists. */
  setNotifier(n: S3Notifier): void;
  /** Apply lifecycle rules now (also runs on the clock). */
  sweep(): void;
  stop(): void;
}

/** `x-amz-expected-bucket-owner` / `x-amz-source-expected-bucket-owner`: a bucket owned by another account → 403 AccessDenied. */
function checkExpectedOwner(s3: S3, input: Record<string, any>): void {
  const check = (bucket: unknown, expected: unknown) => {
    if (expected === undefined || typeof bucket !== 'string') return;
    const b = s3.store.getBucket(bucket);
    if (b && b.account !== String(expected)) throw new E.AwsErrorAlias('AccessDenied', 'Access Denied', 403);
  };
  check(input.Bucket, input.ExpectedBucketOwner);
  if (input.ExpectedSourceBucketOwner !== undefined && typeof input.CopySource === 'string') {
    const src = decodeURIComponent(input.CopySource.split('?')[0]).replace(/^\//, '');
    check(src.slice(0, src.indexOf('/')), input.ExpectedSourceBucketOwner);
  }
}

export interface S3Options {
  /** The one delivery path (the transactional outbox): event notifications go through it. */
  delivery?: S3DeliveryPort;
}

export function createS3Service(deps: ServiceDeps, opts: S3Options = {}): S3Service {
  const s3 = new S3(deps);
  if (opts.delivery) s3.notifier = createNotifier(opts.delivery);
  const implemented = s3.operations();
  const model = loadModel('s3');
  const operations: Record<string, OperationHandler> = {};
  for (const name of Object.keys(model.operations)) {
    const impl = implemented[name];
    operations[name] = impl
      ? (input, ctx) => {
          checkExpectedOwner(s3, input);
          return impl(input, ctx);
        }
      : () => {
          throw E.notImplemented(`The ${name} operation`);
        };
  }
  let timer: Timer | undefined;
  let stopped = false;
  const sweep = () => {
    try {
      sweepLifecycle(s3, deps.clock.now());
    } catch (e) {
      deps.logger.error('s3 lifecycle sweep failed', { error: e instanceof Error ? e.message : String(e) });
    }
  };
  const arm = () => {
    if (stopped) return;
    timer = deps.clock.after(LIFECYCLE_EVERY_MS, () => {
      sweep();
      arm();
    });
  };
  arm();
  return {
    service: { model: 's3', operations, selfValidating: new Set(Object.keys(model.operations)) },
    setNotifier(n) {
      s3.notifier = n;
    },
    sweep,
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}
