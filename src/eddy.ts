import { type Clock, createClock, type VirtualClock } from './core/clock.ts';
import { DEFAULT_ACCOUNT } from './core/ids.ts';
import { createLogger, type Logger, type LogLevel } from './core/logger.ts';
import type { AuthMode, Credentials } from './gateway/auth.ts';
import { createGateway } from './gateway/gateway.ts';
import type { RawRequest, RawResponse } from './protocol/types.ts';
import { startHttpServer } from './server/http-server.ts';
import { createServices } from './services/registry.ts';
import { openSqliteStorage } from './storage/sqlite/sqlite-storage.ts';
import type { Storage } from './storage/types.ts';
import { VERSION } from './version.ts';

export interface EddyOptions {
  /** TCP port; 0 picks a free one. Default 4566. */
  port?: number;
  host?: string;
  /** Where state lives. Default `.eddy`. Ignored when `memory` is true. */
  dataDir?: string;
  /** Ephemeral: keep everything in memory. */
  memory?: boolean;
  clock?: 'real' | 'virtual' | Clock;
  auth?: AuthMode;
  credentials?: Credentials[];
  accountId?: string;
  region?: string;
  logLevel?: LogLevel;
  logger?: Logger;
}

export interface Eddy {
  /** e.g. http://127.0.0.1:4566 */
  endpoint: string;
  port: number;
  clock: Clock;
  storage: Storage;
  /** Wipe all state (tests use it between cases). */
  reset(): void;
  stop(): Promise<void>;
}

export const SERVICES_SERVED = [
  'dynamodb',
  'dynamodbstreams',
  'sns',
  'sqs',
  'sts',
  'lambda',
  'logs',
  's3',
  'cloudwatch',
  'cloudformation',
];

/** Start the runtime: storage, services, gateway, HTTP server. The library's and the CLI's entry point. */
export async function startEddy(opts: EddyOptions = {}): Promise<Eddy> {
  const startedAt = Date.now();
  const logger = opts.logger ?? createLogger(opts.logLevel ?? 'warn');
  const clock = typeof opts.clock === 'object' ? opts.clock : createClock(opts.clock ?? 'real');
  const storage = openSqliteStorage(opts.memory ? {} : { dataDir: opts.dataDir ?? '.eddy' });
  let endpoint = '';
  const { services, stop: stopServices } = createServices({ storage, clock, logger, endpoint: () => endpoint });

  const internal = (req: RawRequest): RawResponse | undefined => {
    if (!req.path.startsWith('/_eddy/') || (req.path !== '/_eddy/health' && req.path !== '/_eddy/reset'))
      return undefined;
    if (req.path === '/_eddy/health' && req.method === 'GET') {
      return json(200, {
        status: 'ok',
        version: VERSION,
        uptimeSeconds: (Date.now() - startedAt) / 1000,
        services: SERVICES_SERVED,
        clock: clock.kind,
        now: new Date(clock.now()).toISOString(),
      });
    }
    if (req.path === '/_eddy/reset' && req.method === 'POST') {
      storage.reset();
      return json(200, { status: 'reset' });
    }
    return json(405, { message: `Method ${req.method} not allowed on ${req.path}` });
  };

  const handler = createGateway({
    services,
    clock,
    logger,
    auth: opts.auth ?? 'off',
    credentials: opts.credentials ?? [],
    defaultAccount: opts.accountId ?? DEFAULT_ACCOUNT,
    defaultRegion: opts.region ?? 'us-east-1',
    internal,
  });
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    server = await startHttpServer({
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 4566,
      handler,
      onError: (e) => logger.error('server error', { error: e.message }),
    });
  } catch (e) {
    stopServices();
    storage.close();
    throw e;
  }
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  endpoint = `http://${host}:${server.port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port: server.port,
    clock,
    storage,
    reset: () => storage.reset(),
    stop() {
      stopped ??= (async () => {
        // Stop accepting and let in-flight requests finish; requests that wait by design (long polls,
        // the Runtime API's next-invocation call) are ended by stopping the services after a grace period.
        const closed = server.close();
        const grace = new Promise<void>((r) => setTimeout(r, STOP_GRACE_MS).unref());
        await Promise.race([closed, grace]);
        stopServices();
        await closed;
        storage.close();
      })();
      return stopped;
    },
  };
}

const STOP_GRACE_MS = 1000;

function json(status: number, body: unknown): RawResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export type { VirtualClock };
