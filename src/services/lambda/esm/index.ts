/**
 * Event source mappings: the control-plane operations and the engine that runs every enabled
 * mapping. Sources and destinations arrive through `attach` (the composition root wires them once
 * the other services exist); mappings and checkpoints live in kv and resume on start.
 */
import type { ServiceDeps } from '../../../core/ports.ts';
import type { FunctionRepo } from '../functions.ts';
import { allMappings, controlOperations, loadMapping, MAPPINGS, mappingKey, saveMapping } from './control.ts';
import { QueueMappingWorker } from './queue-worker.ts';
import { dropCheckpoints, initCheckpoints, StreamMappingWorker, type WorkerContext } from './stream-worker.ts';
import { type EsmPorts, type Invoke, type MappingRecord, noMetrics } from './types.ts';

export type { DestinationPort, EsmMetrics, EsmPorts, QueueSource, StreamSource } from './types.ts';

export interface EsmOptions {
  /**
   * 'push' (default): a mapping is woken by each append. 'aws': reproduce AWS's polling cadence
   * (DynamoDB Streams 4 polls/s, Kinesis 1/s) — the `--esm-cadence aws` option.
   */
  cadence?: 'push' | 'aws';
}

/** `EDDY_ESM_CADENCE=aws` (what `--esm-cadence aws` sets) until the option reaches ServiceDeps. */
export function esmOptionsFromEnv(env: Record<string, string | undefined> = process.env): EsmOptions {
  return { cadence: env.EDDY_ESM_CADENCE === 'aws' ? 'aws' : 'push' };
}

export interface EventSourceMappings {
  operations: ReturnType<typeof controlOperations>;
  /** Give the engine its sources and destinations, then resume the stored mappings. */
  attach(ports: EsmPorts): void;
  /** True while any batch is being delivered (tests). */
  busy(): boolean;
  stop(): void;
}

interface Worker {
  start(): void;
  stop(): void;
  drain(): Promise<void>;
  readonly busy: boolean;
}

export function createEventSourceMappings(
  deps: ServiceDeps,
  lambda: { repo: FunctionRepo; invoke: Invoke },
  opts: EsmOptions = {},
): EventSourceMappings {
  const { storage, clock, logger } = deps;
  let ports: EsmPorts = {};
  let attached = false;
  let stopped = false;
  const workers = new Map<string, Worker>();
  /** Workers finishing their in-flight batches (after a disable or update); a successor waits for them. */
  const draining = new Map<string, Promise<void>>();

  /** The LastProcessingResult each mapping has stored (saves a kv read per batch). */
  const lastResult = new Map<string, string>();
  const ctx: WorkerContext = {
    storage,
    clock,
    logger,
    invoke: lambda.invoke,
    metrics: noMetrics,
    cadence: opts.cadence ?? 'push',
    result(uuid, text) {
      if (lastResult.get(uuid) === text) return;
      lastResult.set(uuid, text);
      const m = loadMapping(storage, uuid);
      if (!m || m.lastProcessingResult === text) return;
      m.lastProcessingResult = text;
      storage.tx(() => saveMapping(storage, m));
    },
  };

  const stopWorker = (uuid: string) => {
    workers.get(uuid)?.stop();
    workers.delete(uuid);
  };

  /** Let the worker finish what it is invoking (its checkpoint moves), then forget it. */
  const drainWorker = (uuid: string) => {
    const w = workers.get(uuid);
    if (!w) return;
    workers.delete(uuid);
    const before = draining.get(uuid) ?? Promise.resolve();
    const p = before
      .then(() => w.drain())
      .catch((e) => logger.error('event source mapping: drain failed', { uuid, error: String(e) }));
    draining.set(uuid, p);
    void p.then(() => {
      if (draining.get(uuid) === p) draining.delete(uuid);
    });
  };

  const startWorker = (m: MappingRecord) => {
    drainWorker(m.uuid);
    if (!attached || stopped) return;
    const pending = draining.get(m.uuid);
    if (pending) {
      void pending.then(() => {
        const cur = loadMapping(storage, m.uuid);
        if (!stopped && cur?.state === 'Enabled' && !workers.has(m.uuid)) startWorker(cur);
      });
      return;
    }
    let w: Worker | undefined;
    if (m.kind === 'sqs') {
      if (ports.queues) w = new QueueMappingWorker(ctx, m, ports.queues);
    } else {
      const src = ports.streams?.find((s) => s.accepts(m.eventSourceArn));
      if (src) w = new StreamMappingWorker(ctx, m, src);
    }
    if (!w) {
      logger.error('event source mapping: its source is not available in this build', { uuid: m.uuid });
      return;
    }
    workers.set(m.uuid, w);
    w.start();
  };

  /** Finish a pending state transition (after the API response, or on start after a crash). */
  const settle = (uuid: string) => {
    if (stopped) return;
    const m = loadMapping(storage, uuid);
    if (!m) return stopWorker(uuid);
    switch (m.state) {
      case 'Deleting':
        drainWorker(uuid);
        storage.tx(() => {
          storage.kv.delete(MAPPINGS, mappingKey(uuid));
          dropCheckpoints(storage, uuid);
        });
        return;
      case 'Creating':
      case 'Enabling':
      case 'Disabling':
      case 'Updating': {
        if (!attached) return;
        const next: MappingRecord = { ...m, state: m.enabled ? 'Enabled' : 'Disabled' };
        storage.tx(() => {
          if (m.state === 'Creating' && m.kind !== 'sqs') {
            const src = ports.streams?.find((s) => s.accepts(m.eventSourceArn));
            if (src) initCheckpoints(storage, src, m, clock.now());
          }
          saveMapping(storage, next);
        });
        if (next.enabled) startWorker(next);
        else drainWorker(uuid);
        return;
      }
      case 'Enabled':
        if (!workers.has(uuid)) startWorker(m);
        return;
      case 'Disabled':
        drainWorker(uuid);
        return;
    }
  };

  const operations = controlOperations({
    storage,
    repo: lambda.repo,
    ports: () => ports,
    changed(uuid) {
      const m = loadMapping(storage, uuid);
      // LATEST is the end of each shard when the mapping is created, not when it is first polled.
      if (m?.state === 'Creating' && m.kind !== 'sqs' && attached) {
        const src = ports.streams?.find((s) => s.accepts(m.eventSourceArn));
        if (src) storage.tx(() => initCheckpoints(storage, src, m, clock.now()));
      }
      clock.after(0, () => settle(uuid));
    },
  });

  storage.onReset(() => {
    lastResult.clear();
    for (const uuid of [...workers.keys()]) stopWorker(uuid);
  });

  return {
    operations,
    attach(p) {
      ports = { ...p };
      if (p.metrics) ctx.metrics = p.metrics;
      ctx.destinations = p.destinations;
      ctx.objects = p.objects;
      attached = true;
      for (const m of allMappings(storage)) settle(m.uuid);
    },
    busy: () => [...workers.values()].some((w) => w.busy),
    stop() {
      stopped = true;
      for (const uuid of [...workers.keys()]) stopWorker(uuid);
    },
  };
}
