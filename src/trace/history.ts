// Every DMQ node's history as a capture shows it (kdmq replay CAPTURE): its starts, the node
// lists it sent (its membership view: local + active nodes, kamailio-dmq-protocol.md §2.2), its
// requests that went unanswered, and its tables rebuilt from the usrloc/htable KDMQ it sent and
// the ones it accepted, with what the capture cannot know said as such (what a node held before
// the capture began, unless a startup or a complete sync answer tells).

import { parseNodeList } from '../actors/membership/node-list-body.ts';
import { parseUsrlocBody, type UsrlocContact } from '../actors/channels/usrloc-body.ts';
import { parseHtableBody } from '../actors/channels/htable-body.ts';
import type { BindingChange } from '../actors/location/store.ts';
import type { Trace, TraceNode } from './format.ts';
import { buildFrames, nodeOfUri, timedOutAt, type Frame, type FrameHistory, type Transaction } from './history-frames.ts';
import { NodeTables } from './history-tables.ts';

export type HistoryEvent =
  | { k: 'start'; t: number; f: Frame; restart: boolean; rejoin: boolean }
  | { k: 'list'; t: number; f: Frame; active: string[]; added: string[]; removed: string[]; first: boolean }
  | { k: 'timeout'; t: number; peer: number; tx: Transaction }
  | { k: 'binding'; t: number; f: Frame; change: BindingChange; from: number; sync: boolean }
  | { k: 'htable'; t: number; f: Frame; lines: string[]; from: number; sync: boolean }
  | { k: 'synced'; t: number; f: Frame; from: number; to: number; channel: 'usrloc' | 'htable'; learned: number; sent: number; frames: Frame[] };

export interface NodeList {
  f: Frame;
  active: string[];
  /** how often the node lists itself, and with which status */
  self: string[];
}

export interface NodeHistory {
  i: number;
  node: TraceNode;
  events: HistoryEvent[];
  lists: NodeList[];
  tables: NodeTables;
  /** since when its bindings / htable items are known whole; null = not since the capture began */
  knownSince: { usrloc: number | null; htable: number | null };
  firstSent: number | null;
  /** the nodes its last startup notification went to: its notification addresses (null: no startup in the capture) */
  seeds: Set<number> | null;
  lastSent: number | null;
  /** every binding change of this node, for the invariants; null: the node (re)started with empty tables */
  changes: Array<{ f: Frame; change: BindingChange | null }>;
}

export interface History extends FrameHistory {
  perNode: NodeHistory[];
}

/** sync answer messages sent just after the 200 to the sync request still belong to it */
const SYNC_LATE = 100;

/** a fresh request's first retransmission follows after T1 (500 ms); a later one after 1 s or more: this one began before the capture */
const begunBefore = (tx: Transaction): boolean => tx.sends.length >= 2 && tx.sends[1].t - tx.sends[0].t >= 750;

const incarnation = (f: Frame): string | null => /-(\d+)@/.exec(f.req?.callId().ok ? (f.req.callId() as { value: string }).value : '')?.[1] ?? null;

export function buildHistory(trace: Trace): History {
  const h = buildFrames(trace);
  const perNode: NodeHistory[] = h.nodes.map((node, i) => ({
    i, node, events: [], lists: [], tables: new NodeTables(), knownSince: { usrloc: null, htable: null }, firstSent: null, lastSent: null, changes: [], seeds: null,
  }));
  const w = new Walker(h, perNode);
  for (const f of h.frames) w.frame(f);
  w.finish();
  for (const n of perNode) n.events.sort((a, b) => a.t - b.t);
  return { ...h, perNode };
}

interface SyncWait {
  requester: number;
  answerer: number;
  channel: 'usrloc' | 'htable';
  tx: Transaction;
  frames: Frame[];
  learned: number;
  sent: number;
  answerer_seen: Set<string>;
}

class Walker {
  /** the processes (Call-ID pid part) each node's requests came from */
  private readonly pids = new Map<number, Set<string>>();
  private readonly syncs: SyncWait[] = [];
  constructor(private readonly h: FrameHistory, private readonly n: NodeHistory[]) {}

  frame(f: Frame): void {
    this.closeSyncs(f.t);
    for (const nh of this.n) this.expire(nh, f.t, f);
    if (f.src >= 0) {
      const s = this.n[f.src];
      s.firstSent ??= f.t;
      s.lastSent = f.t;
    }
    const first = !f.tx || f.tx.sends[0] === f;
    if (f.req && f.channel === 'notification_peer' && first) this.notification(f);
    if (f.res && f.channel === 'notification_peer' && f.res.status === 200 && f.src >= 0 && f.body) this.list(this.n[f.src], f);
    if (f.req && first && (f.channel === 'usrloc' || f.channel === 'htable')) this.data(f);
    const pid = f.req && f.src >= 0 ? incarnation(f) : null;
    if (pid !== null) {
      if (!this.pids.has(f.src)) this.pids.set(f.src, new Set());
      this.pids.get(f.src)!.add(pid);
    }
  }

  /** a sync answer is what the answerer sent before its 200 to the request (and up to SYNC_LATE after it) */
  private closeSyncs(t: number): void {
    for (let i = 0; i < this.syncs.length; i++) {
      const a = this.syncs[i].tx.answer;
      if (a && t > a.t + SYNC_LATE) {
        this.syncAnswered(this.syncs[i], a);
        this.syncs.splice(i--, 1);
      }
    }
  }

  private notification(f: Frame): void {
    if (f.src < 0 || this.group(f).some((x) => x.tx && begunBefore(x.tx))) return; // (sent with) a retransmission of a request sent before the capture: an old list
    const s = this.n[f.src];
    const pid = incarnation(f);
    const pids = this.pids.get(f.src);
    const seen = pids !== undefined || s.firstSent !== f.t;
    if (this.isStartup(f, s)) {
      const prev = [...s.events].reverse().find((e) => e.k === 'start');
      if (prev && f.t - prev.t < 1000) return this.list(s, f); // the same startup, sent to the next node
      // a node alone again redoes its startup from a process it already had; a restart has new processes
      const rejoin = seen && (pid === null || pids?.has(pid) === true);
      if (!rejoin) {
        s.tables.clear();
        s.changes.push({ f, change: null });
        s.knownSince = { usrloc: f.t, htable: f.t };
      }
      s.events.push({ k: 'start', t: f.t, f, restart: seen && !rejoin, rejoin });
      s.seeds = new Set(this.group(f).map((x) => x.dst).filter((d) => d >= 0));
    }
    this.list(s, f);
  }

  /**
   * A startup notification (§2.3): Max-Forwards 2 and a list of the node alone, sent afresh. Not
   * re-broadcasts (their lists name other nodes), nor retransmissions of one sent before the
   * capture began: a fresh request's first retransmission follows after T1 (500 ms), a later one
   * after 1 s or more; the requests of one startup go out together, judged together.
   */
  private isStartup(f: Frame, s: NodeHistory): boolean {
    const mf = f.req!.maxForwards();
    if (!mf.ok || mf.value !== 2) return false;
    const own = parseNodeList(f.body).nodes.map((l) => `sip:${l.host}:${l.port || '5060'}`);
    if (own.length !== 1 || own[0] !== s.node.id) return false;
    return true;
  }

  /** the notification requests a node sent together with this one (one broadcast of its list) */
  private group(f: Frame): Frame[] {
    return this.h.frames.filter((x) => x.src === f.src && x.channel === 'notification_peer' && x.req && Math.abs(x.t - f.t) < 100 && x.tx?.sends[0] === x);
  }

  private list(s: NodeHistory, f: Frame): void {
    const parsed = parseNodeList(f.body);
    const ids = parsed.nodes.map((l) => ({ id: `sip:${l.host}:${l.port || '5060'}`, status: l.status }));
    const active = ids.filter((x) => x.status === 'active' && x.id !== s.node.id).map((x) => x.id).sort();
    const self = ids.filter((x) => x.id === s.node.id).map((x) => x.status ?? 'none');
    const last = s.events[s.events.length - 1];
    const prev = last?.k === 'start' && last.f === f && !last.rejoin ? undefined : s.lists[s.lists.length - 1];
    s.lists.push({ f, active, self });
    const added = active.filter((x) => !prev?.active.includes(x));
    const removed = prev ? prev.active.filter((x) => !active.includes(x)) : [];
    if (!prev || added.length || removed.length) s.events.push({ k: 'list', t: f.t, f, active, added, removed, first: !prev });
  }

  private data(f: Frame): void {
    const channel = f.channel as 'usrloc' | 'htable';
    const refused = f.tx?.answer && f.tx.answer.res!.status >= 300;
    const sync = this.syncs.find((w) => w.channel === channel && w.answerer === f.src && w.requester === f.dst && (!w.tx.answer || f.t <= w.tx.answer.t + SYNC_LATE));
    if (channel === 'usrloc') {
      const m = parseUsrlocBody(f.body);
      if (!m.ok) return;
      if ('action' in m.value && m.value.action === 3) return this.syncAsked(f, 'usrloc');
      const v = m.value;
      const del = new Set('multi' in v ? (v.deletes ?? []) : []);
      const items: Array<{ a: 1 | 2; c: UsrlocContact }> =
        'multi' in v ? v.multi.map((c, k) => ({ a: del.has(k) ? 2 : 1, c })) : 'contact' in v ? [{ a: v.action, c: v.contact }] : [];
      for (const { a, c } of items) {
        if (f.src >= 0) this.binding(this.n[f.src], f, a, c, 'local', f.src, sync !== undefined, sync);
        if (f.dst >= 0 && !refused) this.binding(this.n[f.dst], f, a, c, 'replicated', f.src, sync !== undefined, sync);
      }
      if (sync) sync.frames.push(f);
      return;
    }
    const m = parseHtableBody(f.body);
    if (!m.ok) return;
    if ('action' in m.value && m.value.action === 1) return this.syncAsked(f, 'htable');
    for (const [who, ok] of [[f.src, true], [f.dst, !refused]] as const) {
      if (who < 0 || !ok) continue;
      const lines = this.n[who].tables.applyHtable(m.value);
      if (who === f.dst && sync) sync.learned += lines.length;
      if (lines.length) this.n[who].events.push({ k: 'htable', t: f.t, f, lines, from: f.src, sync: sync !== undefined });
    }
    if (sync) {
      sync.frames.push(f);
      sync.sent += 'cells' in m.value ? m.value.cells.length : 0;
      if ('cells' in m.value) for (const c of m.value.cells) sync.answerer_seen.add(`${c.htname} ${c.cname}`);
    }
  }

  private binding(nh: NodeHistory, f: Frame, a: 1 | 2, c: UsrlocContact, origin: 'local' | 'replicated', from: number, sync: boolean, w: SyncWait | undefined): void {
    const r = nh.tables.applyUsrloc(a, c, origin);
    if (w && origin === 'local') {
      w.sent++;
      w.answerer_seen.add(`${c.aor}\n${c.ruid}`);
    }
    if (!r) return;
    nh.changes.push({ f, change: r.change });
    if (r.change.kind === 'delete' && !r.held) return;
    if (w && origin === 'replicated' && r.change.kind === 'insert') w.learned++;
    nh.events.push({ k: 'binding', t: f.t, f, change: r.change, from, sync });
  }

  private syncAsked(f: Frame, channel: 'usrloc' | 'htable'): void {
    if (f.src < 0 || f.dst < 0 || !f.tx) return;
    this.syncs.push({ requester: f.src, answerer: f.dst, channel, tx: f.tx, frames: [], learned: 0, sent: 0, answerer_seen: new Set() });
  }

  /** the 200 to a sync request: everything the answerer sent before it was its whole table */
  private syncAnswered(w: SyncWait, f: Frame): void {
    if (f.res!.status >= 300) return;
    const answerer = this.n[w.answerer];
    if (w.channel === 'usrloc') {
      for (const [aor, m] of answerer.tables.bindings) for (const ruid of m.keys()) if (!w.answerer_seen.has(`${aor}\n${ruid}`)) m.delete(ruid);
      answerer.knownSince.usrloc ??= f.t;
    } else {
      for (const [t, m] of answerer.tables.htable) for (const k of m.keys()) if (!w.answerer_seen.has(`${t} ${k}`)) m.delete(k);
      answerer.knownSince.htable ??= f.t;
    }
    const ev = { k: 'synced' as const, t: f.t, f, from: w.answerer, to: w.requester, channel: w.channel, learned: w.learned, sent: w.sent, frames: w.frames };
    this.n[w.requester].events.push(ev);
    answerer.events.push(ev);
  }

  private expire(nh: NodeHistory, t: number, f: Frame): void {
    for (const change of nh.tables.expire(t)) {
      nh.changes.push({ f, change });
      nh.events.push({ k: 'binding', t: change.contact.expires * 1000, f, change, from: nh.i, sync: false });
    }
  }

  finish(): void {
    this.closeSyncs(Infinity);
    for (const nh of this.n) this.expire(nh, this.h.end, this.h.frames[this.h.frames.length - 1]);
    for (const tx of this.h.txs) {
      const f = tx.sends[0];
      if (f.src < 0 || f.dst < 0 || f.req?.method !== 'KDMQ') continue;
      const t = timedOutAt(tx, this.h.end);
      if (t !== null) this.n[f.src].events.push({ k: 'timeout', t, peer: f.dst, tx });
    }
  }
}

/** the node a list entry names (index), -1 if no node of the capture */
export const listedNode = (h: FrameHistory, id: string): number => nodeOfUri(h, id);
