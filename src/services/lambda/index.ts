import type { LogsPort, ObjectsPort, ServiceDeps } from '../../core/ports.ts';
import type { ServiceImpl } from '../../gateway/service.ts';
import type { RawRequest, RawResponse } from '../../protocol/types.ts';
import { createEventSourceMappings, type EventSourceMappings, esmOptionsFromEnv } from './esm/index.ts';
import { ProcessPool } from './executor/pool.ts';
import { controlPlane, FunctionRepo } from './functions.ts';
import { createInvoker } from './invoke.ts';

export interface LambdaService {
  service: ServiceImpl;
  /** Invoke a function from another service (event source mappings, destinations). */
  invoke: ReturnType<typeof createInvoker>['invokeFunction'];
  pool: ProcessPool;
  /** Let CreateFunction/UpdateFunctionCode read `Code.S3Bucket`/`S3Key` from S3. */
  setObjects(objects: ObjectsPort): void;
  /** Event source mappings: `esm.attach({ streams, destinations })` once the sources exist. */
  esm: EventSourceMappings;
  stop(): void;
}

/** Lambda: the control plane (restJson1), Invoke, and the process pool that runs functions. */
export function createLambdaService(deps: ServiceDeps, logs: LogsPort): LambdaService {
  const repo = new FunctionRepo(deps.storage);
  const pool = new ProcessPool({ clock: deps.clock, logger: deps.logger, logs, endpoint: deps.endpoint });
  const codeObjects: { objects?: ObjectsPort } = {};
  const cp = controlPlane(deps.storage, repo, { retire: (a, r, n) => pool.retire(a, r, n) }, codeObjects);
  const invoker = createInvoker({ storage: deps.storage, clock: deps.clock, logger: deps.logger, repo, pool });
  invoker.recover();
  const esm = createEventSourceMappings(deps, { repo, invoke: invoker.invokeFunction }, esmOptionsFromEnv());
  (deps.storage as { onReset?: (cb: () => void) => void }).onReset?.(() => pool.retireAll());

  // The deployment package behind GetFunction's Code.Location.
  const routes = (req: RawRequest): RawResponse | undefined => {
    const m = /^\/_lambda\/code\/([0-9a-f]{64})\.zip$/.exec(req.path);
    if (!m || req.method !== 'GET') return undefined;
    const blob = `lambda-code-${m[1]}.zip`;
    if (!deps.storage.blob.exists(blob))
      return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not found' };
    return { status: 200, headers: { 'content-type': 'application/zip' }, body: deps.storage.blob.read(blob) };
  };
  return {
    service: { model: 'lambda', operations: { ...cp, ...esm.operations, Invoke: invoker.operation }, routes },
    invoke: invoker.invokeFunction,
    pool,
    esm,
    setObjects(objects) {
      codeObjects.objects = objects;
    },
    stop() {
      esm.stop();
      invoker.stop();
      pool.stop();
    },
  };
}
