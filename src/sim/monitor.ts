// Watches a simulated world as it runs: records the trace (every delivered datagram, every node
// status change, every plan step) as JSON lines with a running hash, and feeds each observed
// event to the safety checkers of src/sim/invariants.ts, keeping the violations found.

import type { StatusChange } from '../actors/membership/node-list.ts';
import type { BindingChange } from '../actors/location/store.ts';
import type { SimDelivery } from '../transport/sim-transport.ts';
import { Buffer } from 'node:buffer';
import * as inv from './invariants.ts';
import { VersionGraph } from './version-graph.ts';

const latin1 = new TextDecoder('latin1');

/** FNV-1a step over a string's UTF-16 code units (the trace hash) */
function hashString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** per byte (a latin1 char): what JSON.stringify writes for it inside a string, null = itself */
const JSON_ESCAPES: Array<string | null> = Array.from({ length: 256 }, (_, b) => {
  const e = JSON.stringify(String.fromCharCode(b)).slice(1, -1);
  return e.length === 1 ? null : e;
});

/** 1 for the bytes JSON.stringify escapes */
const ESCAPED = Uint8Array.from(JSON_ESCAPES, (e) => (e === null ? 0 : 1));

const NOTIFY = ascii('KDMQ sip:notification_peer@');
const OK200 = ascii('SIP/2.0 200');

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/**
 * Offset of the first CRLF CRLF, or -1. A window whose last byte is neither CR nor LF cannot hold
 * the pattern, nor can the three windows before it that contain that byte: skip all four.
 */
export function indexOfBlankLine(data: Uint8Array): number {
  const n = data.length;
  let i = 0;
  while (i + 3 < n) {
    const last = data[i + 3];
    if (last !== 10 && last !== 13) {
      i += 4;
      continue;
    }
    if (last === 10 && data[i] === 13 && data[i + 1] === 10 && data[i + 2] === 13) return i;
    i++;
  }
  return -1;
}

/** the last node-list body seen from one sender in one kind of message, and its INV-07 verdict */
interface ListVerdict {
  body: Uint8Array;
  verdict: string | null;
}

export interface MonitorOptions {
  /** keep the trace lines in memory (implies the hash) */
  record: boolean;
  /**
   * keep the running trace hash without the lines (default false: a checker run that neither
   * records nor compares traces skips it — hashing every datagram's bytes was ~13 % of a 50-node
   * run). The hash of a run is the same whether its lines are recorded or not.
   */
  hash?: boolean;
  now: () => number;
}

export class Monitor {
  readonly violations: inv.Violation[] = [];
  readonly lines: string[] = [];
  /** the trace hash; stays at the FNV offset basis when neither `record` nor `hash` is on */
  hash = 0x811c9dc5;
  datagrams = 0;
  /** whether trace lines are hashed at all */
  readonly hashing: boolean;
  private readonly cseqs = new Map<number, inv.CseqMemory>();
  private readonly deletes = new Map<number, inv.DeleteMemory>();
  /** INV-12: the cluster's "replaced by" edges between versions of each binding */
  private readonly versions = new VersionGraph();
  /**
   * INV-07 memo by sender host, for notification KDMQs [0] and 200s [1]: a node sends the same list
   * to every peer until its list changes, so the verdict is reused when the body bytes are equal
   * (the verdict depends on the body and the message kind only; the sender just picks the slot)
   */
  private readonly lists: [Map<string, ListVerdict>, Map<string, ListVerdict>] = [new Map(), new Map()];

  constructor(private readonly o: MonitorOptions) {
    this.hashing = o.record || (o.hash ?? false);
  }

  /** one trace line; the hash covers every line whether kept or not */
  note(rec: Record<string, unknown>): void {
    if (!this.hashing) return;
    const line = JSON.stringify({ t: this.o.now(), ...rec });
    this.hash = hashString(this.hash, line);
    if (this.o.record) this.lines.push(line);
  }

  violate(id: string, detail: string, node?: number): void {
    const v: inv.Violation = { inv: id, kind: inv.INVARIANTS[id].kind, at: this.o.now(), node, detail };
    this.violations.push(v);
    this.note({ k: 'violation', inv: id, node, detail });
  }

  firstSafety(): inv.Violation | undefined {
    return this.violations.find((v) => v.kind === 'safety');
  }

  /** a node (re)started: its stored state is new */
  started(node: number): void {
    this.cseqs.set(node, new Map());
    this.deletes.set(node, new inv.DeleteMemory());
    this.versions.started(node);
  }

  onDatagram(d: SimDelivery): void {
    this.datagrams++;
    const data = d.data;
    if (this.hashing) {
      const from = `${d.from.host}:${d.from.port}`;
      const to = `${d.to.host}:${d.to.port}`;
      if (this.o.record) this.note({ k: 'dgram', from, to, data: latin1.decode(data) });
      else this.noteDatagram(from, to, data);
    }
    const total = data.byteLength;
    const notify = startsWith(data, NOTIFY);
    const ok200 = !notify && startsWith(data, OK200);
    // the body's size matters only past 60 000 bytes in all, to tell a 200 without a body, and
    // to cut out a notification's node list
    let sep = -1;
    let body = 0;
    if (total > 60_000 || ok200 || notify) {
      sep = indexOfBlankLine(data);
      body = sep < 0 ? 0 : total - (sep + 4);
    }
    const size = total > 60_000 ? inv.checkDatagramSize(total, body) : null; // body < total: within limits
    if (size) this.violate('INV-06', size);
    // only a notification KDMQ or a 200 with a body can carry a node list: check just those
    if (!notify && !(ok200 && body > 0)) return;
    const list = this.nodeListVerdict(d, notify, sep);
    if (list) this.violate('INV-07', `${d.from.host}:${d.from.port} → ${d.to.host}:${d.to.port}: ${list}`);
  }

  /** checkNodeListOnWire of the datagram's text (blank line at `sep`), from the memo when the sender's body is unchanged */
  private nodeListVerdict(d: SimDelivery, notify: boolean, sep: number): string | null {
    const data = d.data;
    const bytes = sep < 0 ? data.subarray(data.length) : data.subarray(sep + 4);
    const memo = this.lists[notify ? 0 : 1];
    const last = memo.get(d.from.host);
    if (last !== undefined && Buffer.compare(last.body, bytes) === 0) return last.verdict;
    const verdict = inv.checkNodeListBody(latin1.decode(bytes), notify);
    memo.set(d.from.host, { body: bytes.slice(), verdict });
    return verdict;
  }

  /**
   * note() of a datagram record without building its line: the hash of exactly the line
   * JSON.stringify({ t, k: 'dgram', from, to, data: latin1 text }) gives, the data escaped byte by
   * byte (the garbage of a string copy per datagram was the checker's largest allocation)
   */
  private noteDatagram(from: string, to: string, data: Uint8Array): void {
    let h = hashString(this.hash, `{"t":${JSON.stringify(this.o.now())},"k":"dgram","from":${JSON.stringify(from)},"to":${JSON.stringify(to)},"data":"`);
    const n = data.length;
    for (let i = 0; i < n; i++) {
      const b = data[i];
      if (ESCAPED[b] === 0) h = Math.imul(h ^ b, 0x01000193);
      else h = hashString(h, JSON_ESCAPES[b]!);
    }
    this.hash = hashString(h >>> 0, '"}');
  }

  onStatus(node: number, c: StatusChange): void {
    this.note({ k: 'status', node, key: c.key, from: c.from, to: c.to, ev: c.event });
    const bad = inv.checkStatusChange(c);
    if (bad) this.violate('INV-01', bad, node);
  }

  onData(node: number, channel: string, sender: string, status: string | undefined, isLocal: boolean): void {
    const bad = inv.checkDataSender(channel, sender, status, isLocal);
    if (bad) this.violate('INV-03', bad, node);
  }

  /** a replicated delete reached node's usrloc channel (even for a binding it does not hold) */
  onReplicatedDelete(node: number, contact: BindingChange['contact']): void {
    inv.checkNoResurrection(this.deletes.get(node) ?? new inv.DeleteMemory(), { kind: 'delete', contact, origin: 'replicated' });
  }

  /** node's outgoing queue to `to` dropped a message to make room (INV-11 for replicated changes) */
  onDropped(node: number, channel: string, to: string): void {
    if (channel !== 'usrloc' && channel !== 'htable') return;
    this.violate('INV-11', `a ${channel} KDMQ to ${to} was dropped unsent (queue full)`, node);
  }

  onBinding(node: number, c: BindingChange): void {
    const a = inv.checkCseqMonotonic(this.cseqs.get(node) ?? new Map(), c);
    if (a) this.violate('INV-04', a, node);
    const b = inv.checkNoResurrection(this.deletes.get(node) ?? new inv.DeleteMemory(), c);
    if (b) this.violate('INV-05', b, node);
    const d = this.versions.onChange(node, c);
    if (d) this.violate('INV-12', d, node);
  }
}
