import { AwsError } from '../../core/errors.ts';
import type { LogsPort, MetricsPort, ObjectsPort, ServiceDeps } from '../../core/ports.ts';
import type { OperationHandler, ServiceImpl } from '../../gateway/service.ts';
import { loadModel } from '../../model/model.ts';
import type { RawRequest, RawResponse } from '../../protocol/types.ts';
import { configOps } from './config-ops.ts';
import { createEventSourceMappings, type EventSourceMappings, esmOptionsFromEnv } from './esm/index.ts';
import type { DestinationPort } from './esm/types.ts';
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
export function createLambdaService(deps: ServiceDeps, logs: LogsPort, metrics?: MetricsPort): LambdaService {
  const repo = new FunctionRepo(deps.storage);
  const pool = new ProcessPool({ clock: deps.clock, logger: deps.logger, logs, endpoint: deps.endpoint });
  const codeObjects: { objects?: ObjectsPort } = {};
  const cp = controlPlane(deps.storage, repo, { retire: (a, r, n) => pool.retire(a, r, n) }, codeObjects);
  let destinations: DestinationPort | undefined;
  const invoker = createInvoker({
    storage: deps.storage,
    clock: deps.clock,
    logger: deps.logger,
    repo,
    pool,
    metrics,
    destinations: () => destinations,
  });
  invoker.recover();
  const esm = createEventSourceMappings(deps, { repo, invoke: invoker.invokeFunction }, esmOptionsFromEnv());
  // Asynchronous invocations deliver to the same destinations (DLQs, OnFailure/OnSuccess) as mappings.
  const esmAttach = esm.attach.bind(esm);
  esm.attach = (ports) => {
    if (ports.destinations) destinations = ports.destinations;
    esmAttach(ports);
  };
  const extra = configOps(deps.storage, repo);
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
    service: {
      model: 'lambda',
      operations: withRefusals({ ...cp, ...extra, ...esm.operations, Invoke: invoker.operation }),
      routes,
    },
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

/** Every other operation of the model is refused by name (501 NotImplemented, not retried by SDKs). */
function withRefusals(ops: Record<string, OperationHandler>): Record<string, OperationHandler> {
  const out: Record<string, OperationHandler> = {};
  for (const name of Object.keys(loadModel('lambda').operations)) {
    out[name] =
      ops[name] ??
      (() => {
        throw new AwsError(
          'NotImplemented',
          `The Lambda operation ${name} is not supported by Eddy yet (see docs/services/lambda.md)`,
          501,
        );
      });
  }
  return out;
}
