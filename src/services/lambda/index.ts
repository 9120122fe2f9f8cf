import type { LogsPort, ServiceDeps } from '../../core/ports.ts';
import type { ServiceImpl } from '../../gateway/service.ts';
import type { RawRequest, RawResponse } from '../../protocol/types.ts';
import { controlPlane, FunctionRepo } from './functions.ts';

export interface LambdaService {
  service: ServiceImpl;
  stop(): void;
}

/** Lambda: the control plane (restJson1), Invoke, and the process pool that runs functions. */
export function createLambdaService(deps: ServiceDeps, logs: LogsPort): LambdaService {
  void logs;
  const repo = new FunctionRepo(deps.storage);
  const cp = controlPlane(deps.storage, repo, { retire: () => {} });
  const routes = (req: RawRequest): RawResponse | undefined => {
    const m = /^\/_lambda\/code\/([0-9a-f]{64})\.zip$/.exec(req.path);
    if (!m || req.method !== 'GET') return undefined;
    const blob = `lambda-code-${m[1]}.zip`;
    if (!deps.storage.blob.exists(blob))
      return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not found' };
    return { status: 200, headers: { 'content-type': 'application/zip' }, body: deps.storage.blob.read(blob) };
  };
  return {
    service: { model: 'lambda', operations: { ...cp }, routes },
    stop() {},
  };
}
