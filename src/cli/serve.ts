import { createLogger, type Logger, type LogLevel } from '../core/logger.ts';
import { startEddy } from '../eddy.ts';
import { UsageError } from './main.ts';

export interface ServeOptions {
  port: number;
  host: string;
  dataDir: string;
  memory: boolean;
  clock: 'real' | 'virtual';
  auth: 'off' | 'sigv4';
  accessKey?: string;
  secretKey?: string;
  accountId?: string;
  region?: string;
  logLevel: LogLevel;
}

/** `eddy serve`: run until SIGINT/SIGTERM, then drain in-flight requests and close the database. */
export async function serveCommand(o: ServeOptions): Promise<number> {
  const logger = createLogger(o.logLevel);
  if (o.auth === 'sigv4' && (!o.accessKey || !o.secretKey)) {
    throw new UsageError(
      '--auth sigv4 needs credentials: --access-key and --secret-key (or EDDY_ACCESS_KEY_ID / EDDY_SECRET_ACCESS_KEY)',
    );
  }
  if (o.accountId && !/^\d{12}$/.test(o.accountId))
    throw new UsageError(`--account-id must be 12 digits, got '${o.accountId}'`);
  const eddy = await startEddy({
    port: o.port,
    host: o.host,
    dataDir: o.dataDir,
    memory: o.memory,
    clock: o.clock,
    auth: o.auth,
    credentials: o.auth === 'sigv4' ? [{ accessKeyId: o.accessKey!, secretAccessKey: o.secretKey! }] : [],
    accountId: o.accountId,
    region: o.region,
    logger,
  });
  if (o.host !== '127.0.0.1' && o.host !== 'localhost' && o.host !== '::1') {
    logger.warn(
      `Eddy is listening on ${o.host}: anyone who can reach this address can use it${o.auth === 'off' ? ' without credentials (--auth off)' : ''}.`,
    );
  }
  logger.info(`Eddy listening on ${eddy.endpoint}`, {
    data: o.memory ? 'memory' : o.dataDir,
    clock: o.clock,
    auth: o.auth,
  });
  // Handlers go in before "ready" is announced, so a supervisor's first signal is never missed.
  const signalled = untilSignalled(logger);
  process.stdout.write(`eddy ready ${eddy.endpoint}\n${tryNext(eddy.endpoint)}`);
  await signalled;
  await eddy.stop();
  return 0;
}

function tryNext(endpoint: string): string {
  return `
Try it (any AWS CLI, SDK or CDK works; credentials can be anything):
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url ${endpoint} dynamodb create-table --table-name demo \\
      --attribute-definitions AttributeName=id,AttributeType=S --key-schema AttributeName=id,KeyType=HASH \\
      --billing-mode PAY_PER_REQUEST --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES
  aws --endpoint-url ${endpoint} dynamodb put-item --table-name demo --item '{"id":{"S":"1"},"msg":{"S":"hello"}}'
  aws --endpoint-url ${endpoint} dynamodb scan --table-name demo
  curl ${endpoint}/_eddy/health
Stop with Ctrl-C (in-flight requests finish, the database closes cleanly).
`;
}

/** Resolves on the first SIGINT or SIGTERM (then the caller drains and closes). */
export function untilSignalled(logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      logger.info(`${sig}: finishing in-flight requests and closing the database`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}
