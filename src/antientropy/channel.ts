// The `kdmq-ae` channel: kdmq-to-kdmq anti-entropy (specs/anti-entropy.md). Every interval a node
// sends a digest (bucket hashes) of each store to every active kdmq peer whose key sorts after
// its own; the peer answers with the versions held in the differing buckets; the first node pushes
// what it holds newer and asks for what the peer holds newer. Repairs go through the replication
// rules and are announced to Kamailio nodes as ordinary usrloc/htable KDMQ, never to kdmq nodes.

import type { KdmqNode } from '../actors/create-system.ts';
import type { DataChannel, Reply } from '../actors/router.ts';
import { nodeKey, type NodeId } from '../actors/node-list.ts';
import { sendWindowed } from '../actors/send-window.ts';
import { utf8Length } from '../dmq/srjson.ts';
import type { Clock } from '../ports/clock.ts';
import { silentLog, type Log } from '../ports/log.ts';
import type { SipRequest } from '../sip/types.ts';
import { decide, differing, toHex, type Snapshot, type WireVersion } from './digest.ts';
import type { AeSource, KamailioNotice } from './source.ts';

export const AE_CHANNEL = 'kdmq-ae';
const MAX_BODY = 48_000;

export interface AntiEntropyOptions {
  node: KdmqNode;
  sources: AeSource[];
  clock: Clock;
  intervalMs: number;
  buckets: number;
  window: number;
  log?: Log;
}

export interface AntiEntropyStats {
  rounds: number;
  digestsSent: number;
  digestBytes: number;
  versionBytes: number;
  recordBytes: number;
  recordsSent: number;
  recordsApplied: number;
  announced: number;
  bad: number;
}

type Msg =
  | { t: 'd'; n: number; h: Record<string, string> }
  | { t: 'v'; s: string; x: Array<[number, WireVersion[]]> }
  | { t: 'w'; s: string; x: string[] }
  | { t: 'r'; s: string; x: unknown[] };

/** pack JSON items into bodies `{"t":..,"s":..,"x":[...]}` of at most MAX_BODY bytes */
export function pack(t: string, s: string, items: readonly string[]): string[] {
  const head = `{"t":"${t}","s":"${s}","x":[`;
  const out: string[] = [];
  let cur: string[] = [];
  let size = head.length + 2;
  for (const it of items) {
    const n = utf8Length(it) + 1;
    if (cur.length > 0 && size + n > MAX_BODY) {
      out.push(`${head}${cur.join(',')}]}`);
      cur = [];
      size = head.length + 2;
    }
    cur.push(it);
    size += n;
  }
  if (cur.length > 0) out.push(`${head}${cur.join(',')}]}`);
  return out;
}

export class AntiEntropy implements DataChannel {
  readonly name = AE_CHANNEL;
  readonly stats: AntiEntropyStats = { rounds: 0, digestsSent: 0, digestBytes: 0, versionBytes: 0, recordBytes: 0, recordsSent: 0, recordsApplied: 0, announced: 0, bad: 0 };
  private readonly snaps = new Map<string, Snapshot>();
  private timer: number | null = null;
  private readonly log: Log;

  constructor(private readonly o: AntiEntropyOptions) {
    this.log = o.log ?? silentLog;
  }

  start(): void {
    if (this.o.intervalMs <= 0 || this.timer !== null) return;
    this.timer = this.o.clock.setTimeout(() => this.tick(), this.o.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private tick(): void {
    this.timer = null;
    if (this.o.node.root.getSnapshot().status !== 'active') return; // the node stopped or crashed
    this.round();
    this.start();
  }

  /** one round: a digest to every active kdmq peer sorting after us */
  round(): void {
    this.stats.rounds++;
    const me = this.o.node.list.localKey;
    const peers = this.o.node.list.activePeers().filter((p) => p.kdmq && p.key > me);
    if (peers.length === 0) return;
    const h: Record<string, string> = {};
    for (const src of this.o.sources) h[src.id] = toHex(this.snap(src, this.o.buckets, true).hashes);
    const body = JSON.stringify({ t: 'd', n: this.o.buckets, h });
    for (const p of peers) {
      this.stats.digestsSent++;
      this.stats.digestBytes += body.length;
      this.send(p, body);
    }
  }

  private snap(src: AeSource, n: number, fresh = false): Snapshot {
    const k = `${src.id}/${n}`;
    const s = this.snaps.get(k);
    if (!fresh && s && this.o.clock.now() - s.at < Math.min(1000, this.o.intervalMs / 4)) return s;
    const made = src.snapshot(n);
    this.snaps.set(k, made);
    return made;
  }

  handle(req: SipRequest, sender: NodeId): Reply {
    let m: Msg;
    try {
      m = JSON.parse(req.bodyText()) as Msg;
    } catch {
      this.stats.bad++;
      return { status: 400, reason: 'Bad Request' };
    }
    this.o.node.list.markKdmq(sender);
    const src = m && typeof m === 'object' && 's' in m ? this.o.sources.find((x) => x.id === m.s) : undefined;
    const x = src && 'x' in m && Array.isArray(m.x) ? (m.x as unknown[]) : null;
    if (m?.t === 'd' && Number.isInteger(m.n) && m.n > 0 && m.n <= 4096 && typeof m.h === 'object' && m.h !== null) this.onDigest(sender, m);
    else if (src && x && m.t === 'v') this.onVersions(sender, src, x);
    else if (src && x && m.t === 'w') this.pushRecords(sender, src, x.filter((k): k is string => typeof k === 'string'));
    else if (src && x && m.t === 'r') this.onRecords(src, x);
    else {
      this.stats.bad++;
      return { status: 400, reason: 'Bad Request' };
    }
    return { status: 200, reason: 'OK' };
  }

  /** their digest → our versions of the buckets that differ */
  private onDigest(from: NodeId, m: Extract<Msg, { t: 'd' }>): void {
    for (const src of this.o.sources) {
      const s = this.snap(src, m.n, true);
      const diff = differing(s.hashes, m.h[src.id]);
      if (!diff || diff.length === 0) continue;
      const groups = diff.map((b) => JSON.stringify([b, [...s.buckets[b].values()].map((it) => it.v)]));
      const bodies = pack('v', src.id, groups);
      for (const b of bodies) this.stats.versionBytes += b.length;
      this.sendAll(from, bodies);
    }
  }

  /** their versions → push what we hold newer, ask for what they hold newer */
  private onVersions(from: NodeId, src: AeSource, groups: unknown[]): void {
    const cmp = (a: WireVersion, b: WireVersion) => src.compare(a, b);
    const push: string[] = [];
    const want: string[] = [];
    for (const g of groups) {
      if (!Array.isArray(g) || !Number.isInteger(g[0]) || !Array.isArray(g[1])) continue;
      const theirs = new Map<string, WireVersion>();
      for (const v of g[1] as WireVersion[]) if (Array.isArray(v) && typeof v[0] === 'string') theirs.set(v[0], v);
      const s = this.snap(src, this.o.buckets);
      const b = g[0] as number;
      const mine = b < s.n ? s.buckets[b] : new Map();
      for (const k of new Set([...mine.keys(), ...theirs.keys()])) {
        const d = decide(mine.get(k)?.v, theirs.get(k), cmp);
        if (d === 'push') push.push(k);
        else if (d === 'want') want.push(k);
      }
    }
    if (push.length > 0) this.pushRecords(from, src, push);
    if (want.length > 0) this.sendAll(from, pack('w', src.id, want.map((k) => JSON.stringify(k))));
  }

  private pushRecords(to: NodeId, src: AeSource, keys: string[]): void {
    if (keys.length > 0) this.snap(src, this.o.buckets);
    const recs = keys.map((k) => src.record(k)).filter((r) => r !== null).map((r) => JSON.stringify(r));
    this.stats.recordsSent += recs.length;
    const bodies = pack('r', src.id, recs);
    for (const b of bodies) this.stats.recordBytes += b.length;
    this.sendAll(to, bodies);
  }

  private onRecords(src: AeSource, recs: unknown[]): void {
    const notices: KamailioNotice[] = [];
    for (const r of recs) {
      const n = src.apply(r);
      if (n) notices.push(n);
    }
    this.stats.recordsApplied += notices.length;
    if (notices.length > 0) this.snaps.delete(`${src.id}/${this.o.buckets}`);
    const cfg = this.o.node.config;
    const kam = this.o.node.list.activePeers().filter((p) => !p.kdmq);
    for (const n of notices) {
      if (n.channel === 'usrloc' && !cfg.dmq_usrloc.enable) continue;
      if (n.channel === 'htable' && !cfg.htable.enable_dmq) continue;
      for (const p of kam) {
        this.stats.announced++;
        this.o.node.kdmq.send({ to: p, channel: n.channel, body: n.body, contentType: 'application/json', maxForwards: 1 });
      }
    }
  }

  private sendAll(to: NodeId, bodies: string[]): void {
    sendWindowed(bodies, this.o.window, (body, done) => this.send(to, body, done), (r) => {
      if (r.failed > 0) this.log.log('debug', 'anti-entropy datagrams not answered', { to: nodeKey(to), ...r });
    });
  }

  private send(to: NodeId, body: string, done?: (code: number) => void): void {
    this.o.node.kdmq.send({ to, channel: AE_CHANNEL, body, contentType: 'application/json', maxForwards: 1, done: (r) => done?.(r.code) });
  }
}

