// `kdmq replay TRACE [--as sip:IP:PORT] [--exact]`: rebuild a node from a trace and feed it the
// recorded inputs on virtual time. Node traces: the first divergence from the recorded outputs is
// printed with both messages, exit 1; agreement prints the final state, exit 0. --as on a cluster
// trace (a Kamailio capture): differences are reported, not failures; exit 0 unless it crashed.

import { readTraceFile } from './trace.ts';
import { runReplay, setupFromNodeTrace, stopReplay, type ReplaySetup } from '../trace/replay.ts';
import { setupAs } from '../trace/as-node.ts';
import { differences, firstDivergence, showMsg, type Msg } from '../trace/compare.ts';
import { nodeState, formatState } from '../trace/summary.ts';
import { unb64, type Trace } from '../trace/format.ts';

function recordedOutputs(trace: Trace, setup: ReplaySetup, as: string | null): Msg[] {
  if (!as) {
    return trace.records.flatMap((r) => (r.r === 'out' ? [{ t: r.t, local: r.local, remote: r.remote, data: unb64(r.data) }] : []));
  }
  const mine = new Set(setup.config.listen.map((l) => l.replace(/^udp:/, '')));
  return trace.records.flatMap((r) => (r.r === 'dgram' && mine.has(r.from) ? [{ t: r.t, local: r.from, remote: r.to, data: unb64(r.data) }] : []));
}

export async function replay(argv: string[]): Promise<number> {
  let file: string | undefined;
  let as: string | null = null;
  let exact = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--as') as = argv[++i] ?? '';
    else if (a.startsWith('--as=')) as = a.slice(5);
    else if (a === '--exact') exact = true;
    else if (!a.startsWith('-') && !file) file = a;
    else {
      process.stderr.write(`kdmq replay: unknown option ${a}\nusage: kdmq replay TRACE [--as sip:IP:PORT] [--exact]\n`);
      return 2;
    }
  }
  if (!file || as === '') {
    process.stderr.write('usage: kdmq replay TRACE [--as sip:IP:PORT] [--exact]\n');
    return 2;
  }
  const t = readTraceFile(file);
  if (!t.ok) {
    process.stderr.write(`kdmq replay: ${t.error}\n`);
    return 1;
  }
  const s = as ? setupAs(t.trace, as) : setupFromNodeTrace(t.trace);
  if (!s.ok) {
    process.stderr.write(`kdmq replay: ${s.error}\n`);
    return as ? 2 : 1;
  }
  const run = await runReplay(s.setup);
  const got: Msg[] = run.sent;
  const want = recordedOutputs(t.trace, s.setup, as);
  const state = formatState(nodeState(run.node, run.app));
  await stopReplay(run);
  if (as) {
    const diffs = differences(want, got);
    process.stdout.write(`replayed ${s.setup.inputs.length} inbound datagrams as ${as} (ping_interval ${s.setup.config.dmq.ping_interval} s${s.setup.warmPeers?.length ? ', warm start: the capture began after the node joined' : ''})\n`);
    process.stdout.write(`recorded node sent ${want.length} datagrams, kdmq sent ${got.length}\n`);
    if (diffs.length) process.stdout.write(`differences (kdmq is a different implementation; not a failure):\n${diffs.join('\n')}\n`);
    process.stdout.write(state);
    return 0;
  }
  const d = firstDivergence(want, got, exact);
  if (d) {
    process.stdout.write(`divergence at output ${d.index}: ${d.why}\n${showMsg('recorded', d.recorded, s.setup.start)}${showMsg('replayed', d.replayed, s.setup.start)}`);
    return 1;
  }
  process.stdout.write(`replay agrees: ${got.length} datagrams sent as recorded (${exact ? 'exact' : 'normalised'})\n${state}`);
  return 0;
}
