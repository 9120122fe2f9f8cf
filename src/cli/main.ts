import { parseArgs } from 'node:util';
import type { LogLevel } from '../core/logger.ts';
import { VERSION } from '../version.ts';
import { serveCommand } from './serve.ts';

const HELP = `eddy ${VERSION} — event-driven AWS systems on one machine

Usage: eddy <command> [options]

Commands:
  up           Start Eddy and deploy the pipelines (pipelines/*), then print what to try
  serve        Run the Eddy endpoint (DynamoDB, STS, … on one port)
  deploy       Deploy a CDK app or cloud assembly (cdk.out) to a running Eddy: eddy deploy cdk.out
  mail         Print the local mailbox (SNS email subscriptions): eddy mail --to you@example.com
  help         Show this help, or help for a command: eddy help serve
  version      Print the version

Point any AWS tool at it:
  aws --endpoint-url http://127.0.0.1:4566 dynamodb list-tables
  AWS_ENDPOINT_URL=http://127.0.0.1:4566 node my-script.js
`;

export const SERVE_HELP = `Usage: eddy serve [options]

Run the Eddy endpoint.

Options:
  --port <n>           TCP port (default 4566; 0 = any free port)
  --host <addr>        Address to bind (default 127.0.0.1; anything else exposes Eddy to the network)
  --data-dir <dir>     Where state is kept (default .eddy)
  --memory             Keep state in memory only (nothing written to disk)
  --clock <real|virtual>  Time source (default real; virtual only moves via the API)
  --auth <off|sigv4>   off accepts any signature (default); sigv4 verifies signatures
  --access-key <id>    Credentials accepted with --auth sigv4 (or EDDY_ACCESS_KEY_ID)
  --secret-key <key>   (or EDDY_SECRET_ACCESS_KEY)
  --account-id <12d>   Default account for non-numeric access keys (default 000000000000)
  --region <name>      Region for unsigned requests (default us-east-1)
  --log-level <level>  debug | info | warn | error (default info)
  -h, --help           Show this help
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      process.stdout.write(
        rest[0] === 'serve'
          ? SERVE_HELP
          : rest[0] === 'deploy'
            ? (await import('./deploy.ts')).DEPLOY_HELP
            : rest[0] === 'up'
              ? (await import('./up.ts')).UP_HELP
              : HELP,
      );
      return 0;
    case 'version':
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case 'up':
      return (await import('./up.ts')).upCommand(rest);
    case 'serve': {
      const { values } = parseArgs({
        args: rest,
        options: {
          port: { type: 'string' },
          host: { type: 'string' },
          'data-dir': { type: 'string' },
          memory: { type: 'boolean' },
          clock: { type: 'string' },
          auth: { type: 'string' },
          'access-key': { type: 'string' },
          'secret-key': { type: 'string' },
          'account-id': { type: 'string' },
          region: { type: 'string' },
          'log-level': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
      });
      if (values.help) {
        process.stdout.write(SERVE_HELP);
        return 0;
      }
      return serveCommand({
        port: values.port !== undefined ? parsePort(values.port) : 4566,
        host: values.host ?? '127.0.0.1',
        dataDir: values['data-dir'] ?? process.env.EDDY_DATA_DIR ?? '.eddy',
        memory: values.memory ?? false,
        clock: oneOf('--clock', values.clock ?? 'real', ['real', 'virtual'] as const),
        auth: oneOf('--auth', values.auth ?? 'off', ['off', 'sigv4'] as const),
        accessKey: values['access-key'] ?? process.env.EDDY_ACCESS_KEY_ID,
        secretKey: values['secret-key'] ?? process.env.EDDY_SECRET_ACCESS_KEY,
        accountId: values['account-id'] ?? process.env.EDDY_ACCOUNT_ID,
        region: values.region,
        logLevel: oneOf('--log-level', values['log-level'] ?? 'info', [
          'debug',
          'info',
          'warn',
          'error',
        ] as const) as LogLevel,
      });
    }
    case 'deploy':
      return (await import('./deploy.ts')).deployCommand(rest);
    case 'mail':
      return (await import('./mail.ts')).mailCommand(rest);
    default:
      process.stderr.write(`eddy: unknown command '${cmd}'\n\n${HELP}`);
      return 2;
  }
}

export class UsageError extends Error {
  override name = 'UsageError';
}

function parsePort(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be an integer 0-65535, got '${s}'`);
  return n;
}

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}; got '${v}'`);
  return v as T;
}
