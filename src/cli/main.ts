// kdmq's command line: `kdmq serve`, `kdmq ctl`. Each subcommand returns its exit status;
// usage errors exit 2 with one line on stderr.

import { serve } from './serve.ts';
import { ctl } from './ctl.ts';
import { check, CHECK_USAGE } from './check.ts';
import { replay } from './replay.ts';
import { trace } from './trace.ts';

const USAGE = `usage: kdmq <command> [options]

commands:
  serve [--config FILE] [--kamailio-cfg FILE [--define NAME[=VAL]]…] [--set key.path=value]…
        [--log-level debug|info|warn|error]
        run a node (KDMQ membership, registrar, replication; JSON-RPC, status page and
        /metrics on rpc.listen)
  ctl [--url URL] [--token TOKEN] METHOD [ARGS…] [--json] | ctl --help | ctl METHOD --help
        call a node's JSON-RPC (Kamailio method names), print as kamcmd does or as JSON
  replay TRACE [--as sip:IP:PORT] [--exact]
        rebuild a node from a trace on virtual time and compare what it sends
  trace import CAPTURE -o TRACE | export TRACE -o FILE.pcap | show TRACE [--html FILE]
        convert pcap/pcapng captures, export pcap, print a ladder diagram
${CHECK_USAGE}`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve':
      return serve(rest);
    case 'ctl':
      return ctl(rest);
    case 'check':
      return check(rest);
    case 'replay':
      return replay(rest);
    case 'trace':
      return trace(rest);
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
