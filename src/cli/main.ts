// kdmq's command line: `kdmq serve`, `kdmq ctl`. Each subcommand returns its exit status;
// usage errors exit 2 with one line on stderr.

import { serve } from './serve.ts';
import { ctl } from './ctl.ts';

const USAGE = `usage: kdmq <command> [options]

commands:
  serve --config FILE [--set key.path=value]… [--log-level debug|info|warn|error]
        run a node (KDMQ membership, registrar, replication, JSON-RPC on rpc.listen)
  ctl [--url URL] METHOD [ARGS…] [--json]
        call a node's JSON-RPC (Kamailio method names), print as kamcmd does or as JSON
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve':
      return serve(rest);
    case 'ctl':
      return ctl(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`kdmq: unknown command "${cmd}" (try kdmq --help)\n`);
      return 2;
  }
}
