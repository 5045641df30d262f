// `kdmq replay --as sip:IP:PORT` on a cluster trace (e.g. a Kamailio capture): synthesise the
// node's config from what it did on the wire (its sockets, the nodes it talked to, the ping
// interval, htable names in htable KDMQ bodies), pick its inbound datagrams, and map recorded
// responses onto kdmq's own requests (same peer, method and channel) so its transactions complete.

import { validateConfig } from '../config/load.ts';
import { parseMessage } from '../sip/index.ts';
import { unb64, type Trace, type TraceNode, type TraceRecord } from './format.ts';
import type { ReplayInput, ReplaySetup, SetupResult } from './replay.ts';
import type { Sent } from './replay-ports.ts';

type Dgram = Extract<TraceRecord, { r: 'dgram' }>;

/** median-free inference: the most common whole-second gap between the node's pings to one peer */
function inferPing(out: Dgram[]): number {
  const byPeer = new Map<string, number[]>();
  const seen = new Set<string>();
  for (const d of out) {
    const m = parseMessage(unb64(d.data));
    if (!m.ok || m.value.kind !== 'request' || m.value.method !== 'KDMQ') continue;
    const mf = m.value.maxForwards();
    const cid = m.value.callId();
    if (!cid.ok || seen.has(cid.value) || (mf.ok && mf.value === 2)) continue;
    seen.add(cid.value);
    if (!/notification_peer@/.test(m.value.requestUriText)) continue;
    if (!byPeer.has(d.to)) byPeer.set(d.to, []);
    byPeer.get(d.to)!.push(d.t);
  }
  const count = new Map<number, number>();
  for (const ts of byPeer.values()) {
    for (let i = 1; i < ts.length; i++) {
      const g = Math.round((ts[i] - ts[i - 1]) / 1000);
      if (g >= 1) count.set(g, (count.get(g) ?? 0) + 1);
    }
  }
  let best = 0;
  let n = 0;
  for (const [g, c] of count) if (c > n || (c === n && g > best)) [best, n] = [g, c];
  return best || 60;
}

export function setupAs(trace: Trace, as: string, sets: Record<string, unknown> = {}): SetupResult {
  const nodes = trace.header.nodes ?? [];
  const want = as.replace(/^sip:/, '').replace(/;.*$/, '');
  const me: TraceNode | undefined = nodes.find((n) => n.id === `sip:${want}` || n.endpoints.includes(want));
  if (!me) return { ok: false, error: `--as ${as}: not a node of this trace (nodes: ${nodes.map((n) => n.id).join(', ') || 'none'})` };
  const mine = new Set(me.endpoints);
  const dgrams = trace.records.filter((r): r is Dgram => r.r === 'dgram');
  const inbound = dgrams.filter((d) => mine.has(d.to));
  const outbound = dgrams.filter((d) => mine.has(d.from));
  const peers = new Set<string>();
  const tables = new Set<string>();
  for (const d of [...inbound, ...outbound]) {
    const other = mine.has(d.to) ? d.from : d.to;
    const peer = nodes.find((n) => n !== me && n.endpoints.includes(other));
    if (peer) peers.add(peer.id);
    const text = Buffer.from(d.data, 'base64').toString('latin1');
    if (/^KDMQ sip:htable@/.test(text)) for (const m of text.matchAll(/"htname"\s*:\s*"([^"]+)"/g)) tables.add(m[1]);
  }
  // no startup notification (Max-Forwards: 2) from the node: the capture began after it joined
  const startedInCapture = outbound.some((d) => /^KDMQ sip:notification_peer@[^\r]*\r\n(?:[^\r]*\r\n)*?Max-Forwards:\s*2\r\n/i.test(Buffer.from(d.data, 'base64').toString('latin1')));
  const first = Math.min(...[...inbound, ...outbound].map((d) => d.t), trace.header.start);
  const end = trace.records.reduce((m, r) => Math.max(m, r.t), first);
  const listen = [...me.endpoints.slice(1), me.endpoints[0]].map((e) => `udp:${e}`);
  const raw = {
    listen,
    dmq: { server_address: me.id, notification_address: [...peers].sort(), ping_interval: inferPing(outbound) },
    rpc: { listen: '' },
    htable: { enable_dmq: tables.size > 0, tables: Object.fromEntries([...tables].map((t) => [t, { dmqreplicate: true }])) },
    ...sets,
  };
  const cfg = validateConfig(raw);
  if (!cfg.ok) return { ok: false, error: `synthesised config for ${me.id}: ${cfg.error}` };
  const setup: ReplaySetup = {
    config: cfg.config,
    start: first - 1,
    end,
    seeds: { node: `as/${me.id}`, app: `as/${me.id}/app` },
    inputs: inbound.map((d) => ({ t: d.t, local: d.to, remote: d.from, data: unb64(d.data) })),
    dns: [],
    binds: [],
    warmPeers: startedInCapture ? [] : [...peers].sort(),
    mapper: new ResponseMapper(outbound),
  };
  return { ok: true, setup };
}

interface Req {
  key: string;
  sent: Sent;
  via: string;
  callId: string;
  from: string;
  cseq: string;
}

const hdr = (text: string, names: string[]) => new RegExp(`^(?:${names.join('|')})[ \\t]*:`, 'i');
const VIA = hdr('', ['via', 'v']);
const CALLID = hdr('', ['call-id', 'i']);
const FROM = hdr('', ['from', 'f']);
const CSEQ = hdr('', ['cseq']);

function reqKey(to: string, text: string): string | null {
  const m = /^([A-Z]+) sip:([^@\s]+)@/.exec(text);
  return m ? `${to} ${m[1]} ${m[2]}` : null;
}

/** holds recorded responses until kdmq sends the request they answer, then rewrites them onto it */
export class ResponseMapper {
  private readonly origByBranch = new Map<string, string>();
  private readonly pending: Req[] = [];
  private readonly mapped = new Map<string, Req>();
  private held: Array<{ i: ReplayInput; key: string; branch: string; deliver: (d: Uint8Array) => void }> = [];
  private clock!: { setTimeout(fn: () => void, ms: number): unknown };
  mappedCount = 0;

  constructor(recordedOut: Dgram[]) {
    for (const d of recordedOut) {
      const text = Buffer.from(d.data, 'base64').toString('latin1');
      const key = reqKey(d.to, text);
      const br = /branch=([^;\s,]+)/i.exec(text)?.[1];
      if (key && br) this.origByBranch.set(br, key);
    }
  }

  attach(t: { onSend: (s: Sent) => void }, clock: { setTimeout(fn: () => void, ms: number): unknown }): void {
    this.clock = clock;
    t.onSend = (s) => {
      const text = Buffer.from(s.data).toString('latin1');
      const key = reqKey(s.remote, text);
      if (!key) return;
      const lines = text.split('\r\n');
      const get = (re: RegExp) => lines.find((l) => re.test(l)) ?? '';
      const req: Req = { key, sent: s, via: get(VIA), callId: get(CALLID), from: get(FROM), cseq: get(CSEQ) };
      if (this.pending.some((p) => p.via === req.via)) return; // a retransmission
      this.pending.push(req);
      const h = this.held.findIndex((x) => x.key === key);
      if (h >= 0) {
        const [x] = this.held.splice(h, 1);
        this.clock.setTimeout(() => this.deliver(x.i, x.branch, x.deliver), 0);
      }
    };
  }

  inbound(i: ReplayInput, deliver: (d: Uint8Array) => void): void {
    const text = Buffer.from(i.data).toString('latin1');
    if (!text.startsWith('SIP/2.0 ')) return deliver(i.data);
    const branch = /branch=([^;\s,]+)/i.exec(text)?.[1] ?? '';
    if (this.mapped.has(branch)) return this.deliver(i, branch, deliver);
    const key = this.origByBranch.get(branch);
    if (!key) return; // answers something this node never sent: drop
    if (this.pending.some((p) => p.key === key)) return this.deliver(i, branch, deliver);
    this.held.push({ i, key, branch, deliver });
  }

  private deliver(i: ReplayInput, branch: string, deliver: (d: Uint8Array) => void): void {
    let req = this.mapped.get(branch);
    if (!req) {
      const key = this.origByBranch.get(branch);
      const at = this.pending.findIndex((p) => p.key === key);
      if (at < 0) return;
      req = this.pending.splice(at, 1)[0];
      this.mapped.set(branch, req);
      this.mappedCount++;
    }
    const text = Buffer.from(i.data).toString('latin1');
    const sep = text.indexOf('\r\n\r\n');
    const head = (sep < 0 ? text : text.slice(0, sep)).split('\r\n');
    let viaDone = false;
    const out = head.map((l) => {
      if (VIA.test(l) && !viaDone) return (viaDone = true), req.via;
      if (VIA.test(l)) return null;
      if (CALLID.test(l)) return req.callId;
      if (FROM.test(l)) return req.from;
      if (CSEQ.test(l)) return req.cseq;
      return l;
    });
    const rebuilt = out.filter((l): l is string => l !== null).join('\r\n') + (sep < 0 ? '' : text.slice(sep));
    deliver(new Uint8Array(Buffer.from(rebuilt, 'latin1')));
  }
}
