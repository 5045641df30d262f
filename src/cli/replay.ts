// `kdmq replay CAPTURE [--check] [--html FILE] [--as NODE [--expect FILE] [--exact]]`. CAPTURE is a
// kdmq trace, a pcap/pcapng capture (SIP or HEP; imported as `kdmq trace import` does) or a raw HEP
// stream. Without --as: every DMQ node's timeline (replay-capture.ts); --check adds the invariants'
// verdicts (exit 1 on a violation), --html draws it beside the ladder. A kdmq node trace alone is
// replayed on virtual time against its recorded outputs (divergence exit 1). --as NODE rebuilds
// that node and reports how kdmq's sends differ (informational, exit 0); --expect FILE compares
// the node's final state with an answer taken from it: exit 0 equal, 1 different, 2 unusable input.

import { readFileSync } from 'node:fs';
import { runReplay, setupFromNodeTrace, stopReplay, type ReplaySetup } from '../trace/replay.ts';
import { setupAs } from '../trace/as-node.ts';
import { differences, firstDivergence, showMsg, type Msg } from '../trace/compare.ts';
import { nodeState, formatState } from '../trace/summary.ts';
import { unb64, type Trace } from '../trace/format.ts';
import { readAnyInput } from '../trace/any-input.ts';
import { buildHistory } from '../trace/history.ts';
import { nodeOfUri } from '../trace/history-frames.ts';
import { replayCapture, type CaptureOpts } from './replay-capture.ts';

export const REPLAY_USAGE = 'usage: kdmq replay CAPTURE [--check] [--html FILE] [--as sip:IP:PORT [--expect FILE] [--exact]]';

function recordedOutputs(trace: Trace, setup: ReplaySetup, as: string | null): Msg[] {
  if (!as) {
    return trace.records.flatMap((r) => (r.r === 'out' ? [{ t: r.t, local: r.local, remote: r.remote, data: unb64(r.data) }] : []));
  }
  const mine = new Set(setup.config.listen.map((l) => l.replace(/^udp:/, '')));
  return trace.records.flatMap((r) => (r.r === 'dgram' && mine.has(r.from) ? [{ t: r.t, local: r.from, remote: r.to, data: unb64(r.data) }] : []));
}

function parseArgs(argv: string[]): CaptureOpts | string {
  const o: CaptureOpts = { file: '', as: null, exact: false, expect: null, check: false, html: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (argv[i + 1] === undefined ? null : argv[++i]);
    if (a === '--as' || a === '--expect' || a === '--html') {
      const v = value();
      if (v === null || v === '') return `${a} needs a value`;
      if (a === '--as') o.as = v;
      else if (a === '--expect') o.expect = v;
      else o.html = v;
    } else if (a.startsWith('--as=')) o.as = a.slice(5);
    else if (a === '--exact') o.exact = true;
    else if (a === '--check') o.check = true;
    else if (!a.startsWith('-') && !o.file) o.file = a;
    else return `unknown option ${a}`;
  }
  if (!o.file) return 'a CAPTURE (trace, pcap, pcapng or HEP file) is needed';
  if (o.as === '') return '--as needs a node (sip:IP:PORT)';
  if (o.expect && !o.as) return '--expect needs --as NODE (the node the answer was taken from)';
  return o;
}

export async function replay(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  if (typeof o === 'string') {
    process.stderr.write(`kdmq replay: ${o}\n${REPLAY_USAGE}\n`);
    return 2;
  }
  const legacy = !o.check && !o.html && !o.expect;
  let buf: Buffer;
  try {
    buf = readFileSync(o.file);
  } catch (e) {
    process.stderr.write(`kdmq replay: cannot read ${o.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return legacy ? 1 : 2;
  }
  const input = readAnyInput(buf);
  if (!input.ok) {
    process.stderr.write(`kdmq replay: ${o.file}: ${input.error}\n`);
    return legacy ? 1 : 2;
  }
  for (const w of input.warnings) process.stderr.write(`kdmq replay: warning: ${w}\n`);
  const t = input.trace;
  if (legacy && o.as === null && t.header.kind === 'node') return replayNodeTrace(t, o.exact);
  if (legacy && o.as !== null) return replayAs(t, o.as);
  let code = 0;
  if (o.as !== null && o.expect) {
    code = await replayAs(t, o.as);
    if (code !== 0) return code;
  }
  return replayCapture(t, o);
}

async function replayNodeTrace(t: Trace, exact: boolean): Promise<number> {
  const s = setupFromNodeTrace(t);
  if (!s.ok) {
    process.stderr.write(`kdmq replay: ${s.error}\n`);
    return 1;
  }
  const run = await runReplay(s.setup);
  const want = recordedOutputs(t, s.setup, null);
  const state = formatState(nodeState(run.node, run.app));
  await stopReplay(run);
  const d = firstDivergence(want, run.sent, exact);
  if (d) {
    process.stdout.write(`divergence at output ${d.index}: ${d.why}\n${showMsg('recorded', d.recorded, s.setup.start)}${showMsg('replayed', d.replayed, s.setup.start)}`);
    return 1;
  }
  process.stdout.write(`replay agrees: ${run.sent.length} datagrams sent as recorded (${exact ? 'exact' : 'normalised'})\n${state}`);
  return 0;
}

/** --as: kdmq rebuilt as that node; what it sent against what the node sent (informational) */
async function replayAs(t: Trace, as: string): Promise<number> {
  const s = setupAs(t, as);
  if (!s.ok) {
    process.stderr.write(`kdmq replay: ${s.error}\n`);
    return 2;
  }
  const run = await runReplay(s.setup);
  const want = recordedOutputs(t, s.setup, as);
  const state = formatState(nodeState(run.node, run.app));
  await stopReplay(run);
  const diffs = differences(want, run.sent);
  const h = buildHistory(t);
  const n = h.perNode[nodeOfUri(h, as)];
  process.stdout.write(`replayed ${s.setup.inputs.length} inbound datagrams as ${as} (ping_interval ${s.setup.config.dmq.ping_interval} s${s.setup.warmPeers?.length ? ', warm start: the capture began after the node joined' : ''})\n`);
  if (n && n.knownSince.usrloc === null) {
    process.stdout.write(`state before the capture: unknown (${n.node.name} did not start in the capture and sent no complete sync answer): the rebuilt node starts empty, so what ${n.node.name} held before the capture is missing below\n`);
  }
  process.stdout.write(`recorded node sent ${want.length} datagrams, kdmq sent ${run.sent.length}\n`);
  if (diffs.length) process.stdout.write(`differences (kdmq is a different implementation; not a failure; use --expect FILE to check a state):\n${diffs.join('\n')}\n`);
  process.stdout.write(state);
  return 0;
}
