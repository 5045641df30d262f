// kdmq's command line: `kdmq serve`, `ctl`, `check`, `replay`, `trace`; `kdmq COMMAND --help`. Each subcommand returns its exit status;
// usage errors exit 2 with one line on stderr.

import { serve } from './serve.ts';
import { ctl } from './ctl.ts';
import { check, CHECK_USAGE } from './check.ts';
import { replay } from './replay.ts';
import { trace } from './trace.ts';

const USAGE = `usage: kdmq <command> [options]

commands:
  serve [--config FILE] [--kamailio-cfg FILE [--define NAME[=VAL]]…] [--set key.path=value]…
        [--log-level debug|info|warn|error] [--trace FILE [--trace-max-mb MB]]
        run a node (KDMQ membership, registrar, replication; JSON-RPC, status page and
        /metrics on rpc.listen); --trace records every input to a JSONL trace (rotated at MB)
  ctl [--url URL] [--token TOKEN] METHOD [ARGS…] [--json] | ctl --help | ctl METHOD --help
        call a node's JSON-RPC (Kamailio method names), print as kamcmd does or as JSON
  replay CAPTURE [--check] [--html FILE] [--as sip:IP:PORT [--expect FILE] [--exact]]
        CAPTURE: a kdmq trace, a pcap/pcapng capture (SIP or HEP) or a HEP stream. Prints
        every DMQ node's timeline (membership, tables, what the capture cannot know);
        --check evaluates specs/invariants.md's invariants on it (exit 1 on a violation);
        --html FILE draws it beside the ladder; --as NODE rebuilds that node (kdmq's sends
        compared, informational); --expect FILE compares its final state with a kamcmd
        ul.dump / dmq.list_nodes / htable.dump answer (text or JSON-RPC) taken from it.
        A kdmq node trace alone is replayed against its recorded outputs.
        Exit: 0 pass/equal, 1 violation/different/divergence, 2 unusable input or usage
  trace import CAPTURE -o TRACE | export TRACE -o FILE.pcap|.pcapng [--link ethernet|sll] [--format pcap|pcapng]
        | listen udp:IP:PORT -o TRACE | show TRACE [--html FILE]
        convert pcap/pcapng captures (SIP or HEPv3), export pcap/pcapng, record HEP sent to
        udp:IP:PORT until Ctrl-C, print a ladder diagram
${CHECK_USAGE}`;

/** the usage lines of one command (`kdmq serve --help` …), or null when USAGE has none */
export function commandUsage(cmd: string): string | null {
  const lines = USAGE.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  ${cmd} `) || l === `  ${cmd}`);
  if (start < 0) return null;
  let end = start + 1;
  while (end < lines.length && lines[end].startsWith('        ')) end++;
  return `usage: kdmq ${lines.slice(start, end).map((l) => l.trim()).join('\n        ')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  // `kdmq COMMAND --help` (ctl has its own: the node's methods)
  if (cmd !== 'ctl' && cmd !== undefined && (rest[0] === '--help' || rest[0] === '-h')) {
    const u = commandUsage(cmd);
    if (u !== null) {
      process.stdout.write(u);
      return 0;
    }
  }
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
