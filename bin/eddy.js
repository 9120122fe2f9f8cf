#!/usr/bin/env node
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    const hint =
      e?.code === 'EADDRINUSE'
        ? ` (another Eddy or service already listens there: stop it, or choose another --port)`
        : '';
    process.stderr.write(`eddy: ${e instanceof Error ? e.message : String(e)}${hint}\n`);
    process.exit(
      e?.name === 'UsageError' ||
        e?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
        e?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
        ? 2
        : 1,
    );
  },
);
