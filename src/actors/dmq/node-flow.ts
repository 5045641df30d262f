// Per-peer flow control for outgoing KDMQ (specs/hostile-networks.md "Outgoing flow control").
// Two lanes per peer: the notification channel (pings, node lists) and data (usrloc, htable,
// kdmq-ae, sync answers). A lane sends at most `inFlight` requests to one peer at a time; the
// rest wait in that lane's FIFO. Replicated changes do not wait here: they are owed in the
// replication outbox (replication-outbox.ts), which this lane pulls from whenever it has a free
// slot (alternating with its FIFO), so nothing acknowledged is ever dropped to make room. Only
// messages marked `droppable` (anti-entropy digests, which the next round repeats) and
// notification-lane messages are dropped when their FIFO is over its bound, oldest first, their
// `done` called (asynchronously) with a local 503 marked `dropped`, counted per peer and channel.
// A slow peer sets the pace; notification traffic never waits behind data.
// Pure: no clock, no I/O; the caller dispatches and reports each outcome.

import type { KdmqOutcome, KdmqSend } from './dmq-sender.ts';
import { keyOf } from '../membership/node-list.ts';

export interface PeerFlowConfig {
  /** data requests in flight per peer */
  inFlight: number;
  /** data requests waiting per peer */
  queue: number;
  /** notification requests in flight per peer */
  notifyInFlight: number;
  /** notification requests waiting per peer */
  notifyQueue: number;
}

export const DROPPED: Readonly<KdmqOutcome> = { code: 503, reason: 'Service Unavailable (peer queue full, not sent)', body: '', dropped: true };

/** a burst of drops on one peer's data lane: starts with the first drop, ends when the lane's queue is empty again */
export interface DropBurst {
  peer: KdmqSend['to'];
  key: string;
  phase: 'start' | 'end';
  /** messages dropped in this burst so far (1 at start) */
  dropped: number;
  channel: string;
}

class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined as T;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
  /** remove and return the first item that matches (O(n); only when a lane is over its bound) */
  removeFirst(match: (x: T) => boolean): T | undefined {
    for (let i = this.head; i < this.items.length; i++) {
      const x = this.items[i];
      if (!match(x)) continue;
      this.items.splice(i, 1);
      return x;
    }
    return undefined;
  }
  drain(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}

interface Lane {
  inFlight: number;
  queue: Fifo<KdmqSend>;
}

interface PeerState {
  id: KdmqSend['to'];
  data: Lane;
  note: Lane;
  /** drops in the current burst (0 = no burst) */
  burst: number;
  /** the next free data slot goes to the outbox first (alternates with the FIFO) */
  owedFirst: boolean;
}

/** what PeerFlow pulls replicated changes from (replication-outbox.ts) */
export interface OwedSource {
  pull(key: string): KdmqSend | undefined;
}

/**
 * A message handed to dispatch: the sender's fields, and a `done` that settles its lane slot once
 * (a later call is ignored) and then calls the sender's own `done`. One object per message, in
 * place of a copy of the message plus a closure.
 */
class Flight implements KdmqSend {
  readonly to: KdmqSend['to'];
  readonly channel: string;
  readonly body: string;
  readonly contentType: string;
  readonly maxForwards: number;
  readonly droppable: boolean | undefined;
  private settled = false;

  constructor(
    private readonly flow: PeerFlow,
    readonly key: string,
    readonly peer: PeerState,
    readonly lane: Lane,
    readonly original: KdmqSend,
  ) {
    this.to = original.to;
    this.channel = original.channel;
    this.body = original.body;
    this.contentType = original.contentType;
    this.maxForwards = original.maxForwards;
    this.droppable = original.droppable;
  }

  done(r: KdmqOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.flow.settle(this, r);
  }
}

/** at most this many peers keep their own drop counters; the rest are summed under peer "other" */
const MAX_COUNTED_PEERS = 256;

export class PeerFlow {
  private readonly peers = new Map<string, PeerState>();
  private source: OwedSource | null = null;
  /** dropped messages by peer key, then channel (kdmq_peer_queue_dropped_total) */
  readonly dropped = new Map<string, Record<string, number>>();

  constructor(
    readonly config: PeerFlowConfig,
    private readonly notificationChannel: string,
    /** really send `m` (to the peer whose node key is `key`); its `done` must be called exactly once */
    private readonly dispatch: (m: KdmqSend, key: string) => void,
    private readonly onBurst?: (b: DropBurst) => void,
  ) {}

  /** replicated changes are pulled from `s` whenever a data slot is free */
  attach(s: OwedSource): void {
    this.source = s;
  }

  private state(key: string, id: KdmqSend['to']): PeerState {
    let p = this.peers.get(key);
    if (p === undefined) {
      p = { id, data: { inFlight: 0, queue: new Fifo() }, note: { inFlight: 0, queue: new Fifo() }, burst: 0, owedFirst: true };
      this.peers.set(key, p);
    }
    return p;
  }

  /** something is owed to `key`: pull while its data lane has room */
  kick(to: KdmqSend['to'], key: string): void {
    if (this.source === null) return;
    const p = this.state(key, to);
    const maxIn = Math.max(1, this.config.inFlight);
    while (p.data.inFlight < maxIn) {
      const m = this.source.pull(key);
      if (m === undefined) break;
      this.start(key, p, p.data, m);
    }
    if (p.data.queue.length === 0) this.idle(key, p, p.data);
  }

  submit(m: KdmqSend): void {
    const key = keyOf(m.to);
    const p = this.state(key, m.to);
    const note = m.channel === this.notificationChannel;
    const lane = note ? p.note : p.data;
    const maxIn = Math.max(1, note ? this.config.notifyInFlight : this.config.inFlight);
    if (lane.inFlight < maxIn) {
      this.start(key, p, lane, m);
      return;
    }
    lane.queue.push(m);
    const maxQ = note ? this.config.notifyQueue : this.config.queue;
    if (lane.queue.length > maxQ) this.shed(key, p, lane, note);
  }

  /** over the bound: drop the oldest droppable message (every one on the notification lane) */
  private shed(key: string, p: PeerState, lane: Lane, note: boolean): void {
    const victim = note ? lane.queue.shift()! : lane.queue.removeFirst((x) => x.droppable === true);
    if (victim === undefined) return;
    for (const fn of this.dropObservers) fn(victim, key);
    this.drop(key, p, !note, victim);
  }

  private start(key: string, p: PeerState, lane: Lane, m: KdmqSend): void {
    lane.inFlight++;
    this.dispatch(new Flight(this, key, p, lane, m), key);
  }

  /** @internal a Flight's first outcome: free its slot, start the next waiting message, tell the sender */
  settle(f: Flight, r: KdmqOutcome): void {
    const { lane, peer: p } = f;
    lane.inFlight--;
    const next = this.next(f.key, p, lane);
    if (next !== undefined) this.start(f.key, p, lane, next);
    else this.idle(f.key, p, lane);
    f.original.done?.(r);
  }

  /** the data lane alternates between its FIFO and what the outbox owes the peer */
  private next(key: string, p: PeerState, lane: Lane): KdmqSend | undefined {
    if (lane !== p.data || this.source === null) return lane.queue.shift();
    p.owedFirst = !p.owedFirst;
    if (!p.owedFirst) return this.source.pull(key) ?? lane.queue.shift();
    return lane.queue.shift() ?? this.source.pull(key);
  }

  private idle(key: string, p: PeerState, lane: Lane): void {
    if (lane === p.data && p.burst > 0) {
      const n = p.burst;
      p.burst = 0;
      this.onBurst?.({ peer: p.id, key, phase: 'end', dropped: n, channel: '' });
    }
    if (p.data.inFlight === 0 && p.note.inFlight === 0 && p.data.queue.length === 0 && p.note.queue.length === 0 && this.peers.get(key) === p) this.peers.delete(key);
  }

  private readonly dropObservers: Array<(m: KdmqSend, key: string) => void> = [];

  /** `fn` for every message dropped because its lane was over its bound (not for forget()) */
  onDropped(fn: (m: KdmqSend, key: string) => void): void {
    this.dropObservers.push(fn);
  }

  private drop(key: string, p: PeerState, data: boolean, m: KdmqSend): void {
    this.count(key, m.channel);
    if (data) {
      p.burst++;
      if (p.burst === 1) this.onBurst?.({ peer: m.to, key, phase: 'start', dropped: 1, channel: m.channel });
    }
    const done = m.done;
    if (done) queueMicrotask(() => done({ ...DROPPED }));
  }

  private count(key: string, channel: string): void {
    let c = this.dropped.get(key);
    if (c === undefined) {
      if (this.dropped.size >= MAX_COUNTED_PEERS) key = 'other';
      c = this.dropped.get(key) ?? {};
      this.dropped.set(key, c);
    }
    c[channel] = (c[channel] ?? 0) + 1;
  }

  /** a peer left the node list: drop (and count) what waits for it; what is in flight ends by itself */
  forget(key: string): void {
    const p = this.peers.get(key);
    if (!p) return;
    for (const lane of [p.data, p.note]) for (const m of lane.queue.drain()) this.drop(key, p, false, m);
    p.burst = 0;
    if (p.data.inFlight === 0 && p.note.inFlight === 0) this.peers.delete(key);
  }

  /** requests waiting (not yet sent), all peers */
  queued(): number {
    let n = 0;
    for (const p of this.peers.values()) n += p.data.queue.length + p.note.queue.length;
    return n;
  }

  /** per peer: in flight and waiting, both lanes */
  view(): Array<{ key: string; inFlight: number; queued: number }> {
    return [...this.peers].map(([key, p]) => ({ key, inFlight: p.data.inFlight + p.note.inFlight, queued: p.data.queue.length + p.note.queue.length }));
  }
}
