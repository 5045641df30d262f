// The `kdmq-ae` channel: kdmq-to-kdmq anti-entropy (specs/anti-entropy.md). Every interval a node
// sends a digest (bucket hashes) of each store to every active kdmq peer whose key sorts after
// its own; the peer answers with the sub-bucket (leaf) hashes of the differing buckets; the first
// node sends its versions of the differing leaves; the peer pushes what it holds newer and asks
// for what the first node holds newer. Repairs go through the replication
// rules and are announced to Kamailio nodes as ordinary usrloc/htable KDMQ, never to kdmq nodes.

import type { NodeHandle } from '../actors/channels/node-handle.ts';
import type { DataChannel, Reply } from '../actors/channels/channel.ts';
import { nodeKey, type NodeId } from '../actors/membership/node-list.ts';
import { sendWindowed } from '../actors/dmq/send-window.ts';
import type { Clock, TimerId } from '../ports/clock.ts';
import { silentLog, type Log } from '../ports/log.ts';
import type { SipRequest } from '../sip/types.ts';
import { SUB, type WireVersion } from './digest.ts';
import { applyRecords, decideVersions, DigestMemo, recordBodies, subBodies, versionBodies, wantBodies } from './protocol.ts';
import type { AeSource } from './source.ts';

export const AE_CHANNEL = 'kdmq-ae';

export interface AntiEntropyOptions {
  node: NodeHandle;
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
  /** body bytes sent, by step */
  digestBytes: number;
  subBytes: number;
  versionBytes: number;
  wantBytes: number;
  recordBytes: number;
  /** records pushed (ours newer or missing there), keys asked for (theirs newer), by store */
  pushed: Record<string, number>;
  wanted: Record<string, number>;
  /** repairs received that changed this node's store, by store */
  applied: Record<string, number>;
  recordsSent: number;
  recordsApplied: number;
  announced: number;
  bad: number;
}

type Msg =
  | { t: 'd'; n: number; h: Record<string, string> }
  | { t: 's'; s: string; n: number; m: number; x: Array<[number, string]> }
  | { t: 'v'; s: string; n: number; m: number; x: Array<[number, WireVersion[]]> }
  | { t: 'w'; s: string; x: string[] }
  | { t: 'r'; s: string; x: unknown[] };

export { pack } from './protocol.ts';

export class AntiEntropy implements DataChannel {
  readonly name = AE_CHANNEL;
  readonly stats: AntiEntropyStats = {
    rounds: 0, digestsSent: 0, digestBytes: 0, subBytes: 0, versionBytes: 0, wantBytes: 0, recordBytes: 0,
    pushed: {}, wanted: {}, applied: {}, recordsSent: 0, recordsApplied: 0, announced: 0, bad: 0,
  };
  private timer: TimerId | null = null;
  private readonly log: Log;
  /** our digest text (sent each round, compared with those received) */
  private readonly digest: DigestMemo;
  /** how a digest with our bucket count begins */
  private readonly digestHead: string;

  constructor(private readonly o: AntiEntropyOptions) {
    this.log = o.log ?? silentLog;
    this.digest = new DigestMemo(o.sources);
    this.digestHead = `{"t":"d","n":${o.buckets},"h":`;
  }

  /** every change of the location store (installApp's registrar feed): keeps digests current */
  onBinding(aor: string): void {
    for (const src of this.o.sources) src.touch?.(aor);
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
    const body = this.digest.get(this.o.buckets);
    for (const p of peers) {
      this.stats.digestsSent++;
      this.stats.digestBytes += body.length;
      this.send(p, body);
    }
  }

  handle(req: SipRequest, sender: NodeId): Reply {
    const text = req.bodyText();
    // the usual digest: the very text of ours (every bucket of every store equal). Parsed, it would
    // pass the checks below and onDigest would find no differing bucket and send nothing, after
    // the same index(n, true) calls that building our text makes.
    if (okBuckets(this.o.buckets) && text.startsWith(this.digestHead) && text === this.digest.get(this.o.buckets)) {
      this.o.node.list.markKdmq(sender);
      return { status: 200, reason: 'OK' };
    }
    let m: Msg;
    try {
      m = JSON.parse(text) as Msg;
    } catch {
      this.stats.bad++;
      return { status: 400, reason: 'Bad Request' };
    }
    this.o.node.list.markKdmq(sender);
    const src = m && typeof m === 'object' && 's' in m ? this.o.sources.find((x) => x.id === m.s) : undefined;
    const x = src && 'x' in m && Array.isArray(m.x) ? (m.x as unknown[]) : null;
    if (m?.t === 'd' && okBuckets(m.n) && typeof m.h === 'object' && m.h !== null) this.onDigest(sender, m);
    else if (src && x && m.t === 's' && okShape(m)) this.onSub(sender, src, m.n, x);
    else if (src && x && m.t === 'v' && okShape(m)) this.onVersions(sender, src, m.n, x);
    else if (src && x && m.t === 'w') this.pushRecords(sender, src, x.filter((k): k is string => typeof k === 'string'));
    else if (src && x && m.t === 'r') this.onRecords(src, x);
    else {
      this.stats.bad++;
      return { status: 400, reason: 'Bad Request' };
    }
    return { status: 200, reason: 'OK' };
  }

  /** their digest → our leaf hashes of the buckets that differ */
  private onDigest(from: NodeId, m: Extract<Msg, { t: 'd' }>): void {
    for (const src of this.o.sources) {
      const bodies = subBodies(src, m.n, m.h[src.id]);
      for (const b of bodies) this.stats.subBytes += b.length;
      this.sendAll(from, bodies);
    }
  }

  /** their leaf hashes → our versions of the leaves that differ (empty leaves included) */
  private onSub(from: NodeId, src: AeSource, n: number, groups: unknown[]): void {
    const bodies = versionBodies(src, n, groups);
    for (const b of bodies) this.stats.versionBytes += b.length;
    this.sendAll(from, bodies);
  }

  /** their versions → push what we hold newer, ask for what they hold newer */
  private onVersions(from: NodeId, src: AeSource, n: number, groups: unknown[]): void {
    const { push, want } = decideVersions(src, n, groups);
    this.stats.wanted[src.id] = (this.stats.wanted[src.id] ?? 0) + want.length;
    if (push.length > 0) this.pushRecords(from, src, push);
    if (want.length > 0) {
      const bodies = wantBodies(src, want);
      for (const b of bodies) this.stats.wantBytes += b.length;
      this.sendAll(from, bodies);
    }
  }

  private pushRecords(to: NodeId, src: AeSource, keys: string[]): void {
    const { bodies, count } = recordBodies(src, keys);
    this.stats.recordsSent += count;
    this.stats.pushed[src.id] = (this.stats.pushed[src.id] ?? 0) + count;
    for (const b of bodies) this.stats.recordBytes += b.length;
    this.sendAll(to, bodies);
  }

  private onRecords(src: AeSource, recs: unknown[]): void {
    const notices = applyRecords(src, recs);
    this.stats.recordsApplied += notices.length;
    this.stats.applied[src.id] = (this.stats.applied[src.id] ?? 0) + notices.length;
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
    this.o.node.kdmq.send({ to, channel: AE_CHANNEL, body, contentType: 'application/json', maxForwards: 1, droppable: true, done: (r) => done?.(r.code) });
  }
}


/** a bucket count a digest may carry */
function okBuckets(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 4096;
}

/** `s` and `v` messages: bucket count as in a digest, and our sub-bucket count */
function okShape(m: { n: number; m: number }): boolean {
  return okBuckets(m.n) && m.m === SUB;
}
