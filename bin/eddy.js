#!/usr/bin/env node
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`eddy: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(
      e?.name === 'UsageError' ||
        e?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
        e?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
        ? 2
        : 1,
    );
  },
);
