// The captured history of a cluster (kdmq replay CAPTURE): every SIP datagram of a cluster trace
// as a numbered frame (#1 = the first SIP datagram, the order `kdmq trace show` draws), parsed
// once, with the node that sent and received it, and the SIP transactions they form: a request's
// transmissions (retransmissions share its branch), its final answer or none. What a capture cannot
// show (a time-out inside a node) is estimated from the retransmissions and named as such.

import { parseMessage } from '../sip/index.ts';
import type { SipRequest, SipResponse } from '../sip/types.ts';
import { recordEnds, unb64, type Trace, type TraceNode } from './format.ts';

export interface Frame {
  /** 1-based number among the trace's SIP datagrams */
  n: number;
  t: number;
  from: string;
  to: string;
  /** index into nodes, -1 when the endpoint is no DMQ node's */
  src: number;
  dst: number;
  size: number;
  req: SipRequest | null;
  res: SipResponse | null;
  /** KDMQ channel (Request-URI user: notification_peer, usrloc, htable, …) */
  channel: string | null;
  body: string;
  tx: Transaction | null;
}

export interface Transaction {
  /** the first transmission, then its retransmissions */
  sends: Frame[];
  /** the final (≥ 200) answer, if the capture holds one */
  answer: Frame | null;
  method: string;
  channel: string | null;
}

export interface FrameHistory {
  nodes: TraceNode[];
  frames: Frame[];
  txs: Transaction[];
  start: number;
  end: number;
}

/** without an answer, the sender's transaction is over (time-out) at the latest this long after its last transmission (T2) */
export const TIMEOUT_AFTER_LAST_SEND = 4000;

export function buildFrames(trace: Trace): FrameHistory {
  const nodes = trace.header.nodes ?? [];
  const owner = new Map<string, number>();
  nodes.forEach((n, i) => n.endpoints.forEach((e) => owner.set(e, i)));
  const frames: Frame[] = [];
  const byBranch = new Map<string, Transaction>();
  const txs: Transaction[] = [];
  let end = trace.header.start;
  for (const r of trace.records) {
    end = Math.max(end, r.t);
    const ends = recordEnds(r);
    if (!ends || !('data' in r)) continue;
    const data = unb64(r.data);
    const m = parseMessage(data);
    const req = m.ok && m.value.kind === 'request' ? m.value : null;
    const res = m.ok && m.value.kind === 'response' ? m.value : null;
    const f: Frame = {
      n: frames.length + 1, t: r.t, from: ends[0], to: ends[1], src: owner.get(ends[0]) ?? -1, dst: owner.get(ends[1]) ?? -1,
      size: data.byteLength, req, res, channel: null, body: m.ok ? m.value.bodyText() : '', tx: null,
    };
    if (req?.method === 'KDMQ') f.channel = /^sips?:([^@;]+)@/.exec(req.requestUriText)?.[1] ?? null;
    frames.push(f);
    linkTransaction(f, byBranch, txs);
  }
  return { nodes, frames, txs, start: trace.header.start, end };
}

function linkTransaction(f: Frame, byBranch: Map<string, Transaction>, txs: Transaction[]): void {
  const msg = f.req ?? f.res;
  if (!msg) return;
  const via = msg.topVia();
  const cseq = msg.cseq();
  if (!via.ok || !via.value.branch || !cseq.ok) return;
  if (f.req) {
    const key = `${f.from} ${f.to} ${via.value.branch} ${cseq.value.method}`;
    let tx = byBranch.get(key);
    if (!tx) {
      tx = { sends: [], answer: null, method: f.req.method, channel: f.channel };
      byBranch.set(key, tx);
      txs.push(tx);
    }
    tx.sends.push(f);
    f.tx = tx;
    return;
  }
  const tx = byBranch.get(`${f.to} ${f.from} ${via.value.branch} ${cseq.value.method}`);
  if (!tx) return;
  f.tx = tx;
  f.channel = tx.channel;
  if (f.res!.status >= 200 && !tx.answer) tx.answer = f;
}

/** a request that got no final answer: when its sender timed it out (estimated), or null while the capture may still hold its answer */
export function timedOutAt(tx: Transaction, end: number): number | null {
  if (tx.answer) return null;
  const last = tx.sends[tx.sends.length - 1].t + TIMEOUT_AFTER_LAST_SEND;
  return last <= end ? last : null;
}

/** DMQ URI of a node (sip:IP:PORT) */
export const nodeId = (h: FrameHistory, i: number): string => (i >= 0 ? h.nodes[i].id : '?');
export const nodeName = (h: FrameHistory, i: number): string => (i >= 0 ? h.nodes[i].name : '?');

/** the node whose DMQ URI (or endpoint) is `uri`, -1 if none */
export function nodeOfUri(h: FrameHistory, uri: string): number {
  const hp = uri.replace(/^sips?:/, '').replace(/;.*$/, '');
  return h.nodes.findIndex((n) => n.id === `sip:${hp}` || n.endpoints.includes(hp));
}

/** UTC wall clock with ms, as the timeline prints it */
export function clock(t: number): string {
  const d = new Date(Math.round(t));
  return d.toISOString().slice(11, 23);
}

/** "#12" or "#12–#19" */
export function frameRange(fs: readonly Frame[]): string {
  if (fs.length === 0) return '';
  const a = fs[0].n;
  const b = fs[fs.length - 1].n;
  return a === b ? `#${a}` : `#${a}–#${b}`;
}
