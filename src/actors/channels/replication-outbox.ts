// What every node is owed (specs/replication.md R1 "Nothing acknowledged is dropped"): per peer, a
// pending set of changes keyed by binding (ruid) or htable cell, each holding only the latest
// version (coalescing: bounded by the table, not by the traffic). PeerFlow pulls from it whenever a
// data slot to that peer is free; changes waiting together leave as one `multi` KDMQ where the
// channel allows it. A failed KDMQ goes back (unless a newer version waits), nothing is ever dropped
// to make room; the lag and backlog to the slowest live peer drive admission control (503 before
// the 200). Pure: the clock arrives as a port, sends go through PeerFlow.

import type { TimerId } from '../../ports/clock.ts';
import type { KdmqOutcome, KdmqSend } from '../dmq/dmq-sender.ts';
import type { NodeId } from '../membership/node-list.ts';
import { keyOf } from '../membership/node-list.ts';
import type { Change, ChannelPacking, OutboxDeps, OutboxStats } from './outbox-types.ts';

export type { Change, ChannelPacking, OutboxConfig, OutboxDeps, OutboxStats } from './outbox-types.ts';

interface Batch {
  channel: string;
  changes: Change[];
  /** oldest change's `at` */
  at: number;
}

interface PeerOwed {
  id: NodeId;
  /** per channel, key → latest change, oldest first (Map insertion order; re-set moves to the end) */
  pending: Map<string, Map<string, Change>>;
  /** failed batches, sent before anything pending */
  retry: Batch[];
  inFlight: number;
  /** no retry before this clock time */
  holdUntil: number;
  holdTimer: TimerId | null;
  /** last answer of any kind from this peer (clock ms) */
  heardAt: number;
  /** which channel's pending set was pulled from last (round robin) */
  turn: number;
}

export class ReplicationOutbox {
  private readonly peers = new Map<string, PeerOwed>();
  readonly stats: OutboxStats = { enqueued: 0, coalesced: 0, batches: 0, changesSent: 0, retried: 0, rejected: 0 };
  private readonly channels: string[] = [];
  private readonly packing: Record<string, ChannelPacking> = {};

  constructor(private readonly d: OutboxDeps) {}

  /** a data channel (usrloc, htable) says how its changes pack into one KDMQ */
  register(channel: string, packing: ChannelPacking): void {
    if (!(channel in this.packing)) this.channels.push(channel);
    this.packing[channel] = packing;
  }

  /** `change` is owed to every node in `to` (the nodes active now, or owed since they were) */
  enqueue(change: Change, to: readonly (NodeId & { key?: string })[]): void {
    for (const id of to) {
      const key = id.key ?? keyOf(id);
      const p = this.peer(key, id);
      let set = p.pending.get(change.channel);
      if (set === undefined) p.pending.set(change.channel, (set = new Map()));
      if (set.delete(change.key)) this.stats.coalesced++;
      set.set(change.key, change);
      this.stats.enqueued++;
      this.d.kick(p.id, key);
    }
  }

  private peer(key: string, id: NodeId): PeerOwed {
    let p = this.peers.get(key);
    if (p === undefined) {
      p = { id, pending: new Map(), retry: [], inFlight: 0, holdUntil: 0, holdTimer: null, heardAt: this.d.clock.now(), turn: 0 };
      this.peers.set(key, p);
    }
    return p;
  }

  /** PeerFlow has a free data slot for `key`: the next KDMQ owed to it, if any */
  pull(key: string): KdmqSend | undefined {
    const p = this.peers.get(key);
    if (p === undefined || !this.d.isActive(key)) return undefined;
    if (p.retry.length > 0) {
      if (this.d.clock.now() < p.holdUntil) return undefined;
      return this.flight(key, p, p.retry.shift()!);
    }
    for (let i = 0; i < this.channels.length; i++) {
      const ch = this.channels[(p.turn + i) % this.channels.length];
      const set = p.pending.get(ch);
      if (set === undefined || set.size === 0) continue;
      p.turn = (p.turn + i + 1) % this.channels.length;
      return this.flight(key, p, this.take(p.id, ch, set));
    }
    return undefined;
  }

  /** oldest first, as many as fit in one KDMQ to `to` */
  private take(to: NodeId, channel: string, set: Map<string, Change>): Batch {
    const pack = this.packing[channel];
    const max = Math.max(1, pack.maxChanges(to));
    const maxBytes = pack.maxBytes(to);
    const changes: Change[] = [];
    // the usual case, a node that keeps up: one change waits, it leaves alone (no size to count)
    const alone = set.size === 1 || max === 1;
    let bytes = 0;
    for (const [k, c] of set) {
      const n = alone ? 0 : utf8Bytes(c.body()) + 8; // plus the multi key `"NNN":` and a comma
      if (changes.length > 0 && (changes.length >= max || bytes + n + pack.overhead(changes.length + 1) > maxBytes)) break;
      changes.push(c);
      bytes += n;
      set.delete(k);
      if (alone) break;
    }
    return { channel, changes, at: changes[0].at };
  }

  private flight(key: string, p: PeerOwed, b: Batch): KdmqSend {
    p.inFlight++;
    this.stats.batches++;
    this.stats.changesSent += b.changes.length;
    const pack = this.packing[b.channel];
    const body = b.changes.length === 1 ? b.changes[0].body() : pack.join(b.changes.map((c) => c.body()));
    return {
      to: p.id, channel: b.channel, body, contentType: 'application/json', maxForwards: 1,
      done: (r) => this.settle(key, p, b, r),
    };
  }

  private settle(key: string, p: PeerOwed, b: Batch, r: KdmqOutcome): void {
    p.inFlight--;
    if (!r.dropped && r.code !== 408) p.heardAt = this.d.clock.now();
    if (r.code >= 200 && r.code < 300) return;
    if (this.peers.get(key) !== p) return; // forgotten meanwhile: a sync on its return covers it
    if (r.code >= 400 && r.code < 500 && r.code !== 403 && r.code !== 408) {
      if (b.changes.length > 1) {
        // one bad change must not hold back the others: try each on its own
        for (let i = b.changes.length - 1; i >= 0; i--) this.putBack(p, { channel: b.channel, changes: [b.changes[i]], at: b.changes[i].at });
      } else {
        this.stats.rejected++;
        this.d.onRejected?.(p.id, b.channel, 1, r.code);
      }
    } else {
      this.putBack(p, b);
      if (r.code !== 408) this.hold(key, p);
    }
    this.d.kick(p.id, key);
  }

  /** back in front, without the changes a newer pending version replaces */
  private putBack(p: PeerOwed, b: Batch): void {
    const set = p.pending.get(b.channel);
    const left = set === undefined ? b.changes : b.changes.filter((c) => !set.has(c.key));
    if (left.length === 0) return;
    this.stats.retried += left.length;
    p.retry.unshift({ channel: b.channel, changes: left, at: Math.min(...left.map((c) => c.at)) });
  }

  private hold(key: string, p: PeerOwed): void {
    p.holdUntil = this.d.clock.now() + this.d.config.retryMs;
    if (p.holdTimer !== null) return;
    p.holdTimer = this.d.clock.setTimeout(() => {
      p.holdTimer = null;
      this.d.kick(p.id, key);
    }, this.d.config.retryMs);
  }

  /** any answer from `key` (pings included): it is alive */
  heard(key: string): void {
    const p = this.peers.get(key);
    if (p !== undefined) p.heardAt = this.d.clock.now();
  }

  /** the node left the list: what it was owed is dropped here; the caller owes it a full sync on its return */
  forget(key: string): boolean {
    const p = this.peers.get(key);
    if (p === undefined) return false;
    if (p.holdTimer !== null) this.d.clock.clearTimeout(p.holdTimer);
    this.peers.delete(key);
    return p.retry.length > 0 || p.inFlight > 0 || [...p.pending.values()].some((s) => s.size > 0);
  }

  /** changes owed to `key` and not yet answered (waiting, to retry, or in KDMQ in flight as batches) */
  backlog(key: string): number {
    const p = this.peers.get(key);
    if (p === undefined) return 0;
    let n = p.inFlight;
    for (const b of p.retry) n += b.changes.length;
    for (const s of p.pending.values()) n += s.size;
    return n;
  }

  /** ms since the oldest change owed to `key` and not yet sent was made (0 = none waits) */
  lagMs(key: string): number {
    const p = this.peers.get(key);
    if (p === undefined) return 0;
    let oldest = Infinity;
    if (p.retry.length > 0) oldest = p.retry[0].at;
    for (const s of p.pending.values()) {
      for (const c of s.values()) {
        if (c.at < oldest) oldest = c.at;
        break;
      }
    }
    return oldest === Infinity ? 0 : Math.max(0, this.d.clock.now() - oldest);
  }

  /** the slowest peer among `keys` that answered something within config.liveMs */
  worst(nodes: Iterable<{ key: string }>): { key: string; lagMs: number; backlog: number } | null {
    if (this.peers.size === 0) return null;
    const now = this.d.clock.now();
    let w: { key: string; lagMs: number; backlog: number } | null = null;
    for (const { key } of nodes) {
      const p = this.peers.get(key);
      if (p === undefined || now - p.heardAt > this.d.config.liveMs) continue;
      const lag = this.lagMs(key);
      const backlog = this.backlog(key);
      if (w === null || lag > w.lagMs || (lag === w.lagMs && backlog > w.backlog)) w = { key, lagMs: lag, backlog };
    }
    return w;
  }

  /** per peer: changes owed and the lag, for status, metrics and the checker's state hash */
  view(): Array<{ key: string; backlog: number; lagMs: number; inFlight: number }> {
    return [...this.peers.keys()].map((key) => ({ key, backlog: this.backlog(key), lagMs: this.lagMs(key), inFlight: this.peers.get(key)!.inFlight }));
  }

  /** a stable text of everything owed (the exhaustive explorer hashes it) */
  stateKey(): string {
    const parts: string[] = [];
    for (const [key, p] of [...this.peers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const pend = [...p.pending].map(([ch, s]) => `${ch}:${[...s.keys()].join(',')}`).join(';');
      const retry = p.retry.map((b) => `${b.channel}:${b.changes.map((c) => c.key).join(',')}`).join(';');
      parts.push(`${key}|${pend}|${retry}|${p.inFlight}|${p.holdUntil}`);
    }
    return parts.join('\n');
  }

  stop(): void {
    for (const p of this.peers.values()) if (p.holdTimer !== null) this.d.clock.clearTimeout(p.holdTimer);
  }
}

/** UTF-8 length of a string (no Buffer: this file runs in every world) */
export function utf8Bytes(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00) {
      n += 2; // a surrogate pair: 4 bytes for 2 units
      i++;
    } else n += 2;
  }
  return n;
}
