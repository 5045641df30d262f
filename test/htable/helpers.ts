// Test helpers for htable: the lab's htable trace (sip.txt messages as parsed SipRequests, the
// steps and dumps of dumps.txt), and a channel on a fake node that records what it sends.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage } from '../../src/sip/index.ts';
import type { SipRequest } from '../../src/sip/types.ts';
import type { KdmqSend } from '../../src/actors/dmq/dmq-sender.ts';
import type { NodeId } from '../../src/actors/membership/node-list.ts';
import type { HtableTableConfig } from '../../src/config/types.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { HtableStore } from '../../src/htable/store.ts';
import { HtableChannel } from '../../src/actors/channels/htable-channel.ts';

export const TRACE_DIR = join(process.env.KDMQ_TRACES ?? '/work/shared/fixtures/kamailio-traces', 'htable');
export const T0 = 1_795_688_000_000;

export const table = (o: Partial<HtableTableConfig> = {}): HtableTableConfig => ({
  size: 8, autoexpire: 0, updateexpire: true, dmqreplicate: true, initval: '', ...o,
});

export const nodeId = (host: string, port = '5090'): NodeId => ({ host, port, transport: null });

/** ms since midnight of "10:32:59.812878" */
function dayMs(t: string): number {
  const [h, m, s] = t.split(':');
  return (Number(h) * 3600 + Number(m) * 60) * 1000 + Number(s) * 1000;
}

export interface TraceMessage {
  n: number;
  at: number;
  src: string;
  dst: string;
  text: string;
  request: SipRequest | null;
}

export function readTrace(): TraceMessage[] {
  const text = readFileSync(join(TRACE_DIR, 'sip.txt'), 'utf8');
  const out: TraceMessage[] = [];
  for (const part of text.split(/^=== /m).slice(1)) {
    const m = /^#(\d+)\s+\S+\s+\[([\d:.]+)\]\s+([\d.]+):\d+ -> ([\d.]+):\d+/.exec(part);
    if (!m) continue;
    const msg = part.slice(part.indexOf('\n') + 1).replace(/\n+$/, '\n').replace(/\r?\n/g, '\r\n');
    const headEnd = msg.indexOf('\r\n\r\n');
    const wire = headEnd < 0 ? `${msg}\r\n` : msg;
    const cl = Number(/^Content-Length:\s*(\d+)/im.exec(wire)?.[1] ?? 0);
    const start = wire.indexOf('\r\n\r\n') + 4;
    const full = wire.slice(0, start) + Buffer.from(wire.slice(start)).subarray(0, cl).toString('utf8');
    const p = parseMessage(full);
    if (!p.ok) throw new Error(`#${m[1]}: ${p.error}`);
    out.push({ n: Number(m[1]), at: dayMs(m[2]), src: m[3], dst: m[4], text: full, request: p.value.kind === 'request' ? (p.value as SipRequest) : null });
  }
  return out;
}

export interface TraceStep {
  at: number;
  /** e.g. "node1: htable.sets lab color blue; htable.seti lab counter 42" */
  title: string;
  /** node index 1..3 → sorted "name=value" lines after the step */
  dumps: Map<number, string[]>;
}

export function readSteps(): TraceStep[] {
  const steps: TraceStep[] = [];
  let cur: TraceStep | null = null;
  let node = 0;
  for (const line of readFileSync(join(TRACE_DIR, 'dumps.txt'), 'utf8').split('\n')) {
    const s = /^=== (.*) \(([\d:.]+)\)$/.exec(line);
    if (s) {
      cur = { at: dayMs(s[2]), title: s[1], dumps: new Map() };
      steps.push(cur);
      continue;
    }
    const d = /^## .*: node(\d) htable\.dump lab$/.exec(line);
    if (d && cur) {
      node = Number(d[1]);
      cur.dumps.set(node, []);
      continue;
    }
    if (line.startsWith('  ') && cur) cur.dumps.get(node)!.push(line.trim());
  }
  for (const s of steps) for (const v of s.dumps.values()) v.sort();
  return steps;
}

/** one store + channel on a fake node: sends are recorded, peers are given */
export function fakeNode(opts: { tables?: Record<string, HtableTableConfig>; clock?: VirtualClock; peers?: NodeId[]; initSync?: boolean; paceMs?: number } = {}) {
  const clock = opts.clock ?? new VirtualClock(T0);
  const store = new HtableStore(opts.tables ?? { lab: table() }, clock);
  const sent: KdmqSend[] = [];
  const peers = opts.peers ?? [nodeId('127.0.0.12'), nodeId('127.0.0.13')];
  const channel = new HtableChannel({
    store, clock, peers: () => peers, initSync: opts.initSync ?? true, paceMs: opts.paceMs,
    sender: { send: (m) => { sent.push(m); m.done?.({ code: 200, reason: 'OK', body: '' }); } },
  });
  return { clock, store, channel, sent, peers };
}

/** a KDMQ htable request from `from` carrying `body` */
export function kdmq(body: string, from = '127.0.0.11:5090', opts: { contentLength?: boolean } = {}): SipRequest {
  const len = Buffer.byteLength(body);
  const lines = [
    'KDMQ sip:htable@127.0.0.12:5090 SIP/2.0',
    `Via: SIP/2.0/UDP ${from};branch=z9hG4bK-1`,
    'To: <sip:htable@127.0.0.12:5090>',
    `From: <sip:htable@${from}>;tag=a`,
    'CSeq: 10 KDMQ',
    'Call-ID: c1@127.0.0.11',
    ...(opts.contentLength === false ? [] : [`Content-Length: ${len}`]),
    'Max-Forwards: 1',
    'Content-Type: application/json',
    '',
    body,
  ];
  const p = parseMessage(lines.join('\r\n'));
  if (!p.ok) throw new Error(p.error);
  return p.value as SipRequest;
}

/** a table as dumps.txt prints it: sorted "name=value" */
export function dumpLines(store: HtableStore, t = 'lab'): string[] {
  return store.dump(t)!.flatMap((s) => s.items.map((i) => `${i.name}=${i.value.type === 2 ? i.value.strval : i.value.intval}`)).sort();
}
