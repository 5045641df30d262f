// Wires the replication outbox into a node (specs/replication.md R1): which nodes a change is owed
// to (every active node, and those that were active and are now disabled or timed out, so they get
// what they missed on their return), admission control for the LimitGuard, and a full sync pushed
// to a node that was removed and comes back (what it was owed was dropped with it).

import type { Clock, TimerId } from '../../ports/clock.ts';
import type { Log } from '../../ports/log.ts';
import type { KdmqClient } from '../dmq/kdmq-client.ts';
import type { LimitGuard } from './limits.ts';
import type { NodeId, NodeList, NodeView } from '../membership/node-list.ts';
import { ReplicationOutbox, type Change } from './replication-outbox.ts';

/** at most this many removed nodes are remembered for a sync on their return */
const MAX_REMEMBERED = 256;
/**
 * a node back after its removal usually asks for a sync itself (it restarted): the push waits this
 * long and is dropped when the node's own sync request arrives meanwhile (one copy, not two)
 */
const RESYNC_GRACE_MS = 5000;

export class Replication {
  readonly outbox: ReplicationOutbox;
  private readonly everActive = new Set<string>();
  /** removed nodes that are owed a full sync when they are active again */
  private readonly owedSync = new Set<string>();
  private owed: NodeView[] | null = null;
  private readonly resyncers: Array<(to: NodeId) => void> = [];
  /** pushes waiting out RESYNC_GRACE_MS, by node key */
  private readonly resyncTimers = new Map<string, TimerId>();

  constructor(
    private readonly d: { clock: Clock; list: NodeList; kdmq: KdmqClient; limits: LimitGuard; log: Log },
  ) {
    const cfg = d.limits.config;
    this.outbox = new ReplicationOutbox({
      clock: d.clock,
      config: { retryMs: cfg.replication_retry, liveMs: Math.max(5000, 2 * cfg.replication_max_lag) },
      kick: (to, key) => d.kdmq.flow.kick(to, key),
      isActive: (key) => d.list.statusOfKey(key) === 'active',
      onRejected: (to, channel, n, code) =>
        d.log.log('warn', 'replicated change refused by the node, not sent again', { node: `${to.host}:${to.port}`, channel, changes: n, code }),
    });
    d.kdmq.flow.attach(this.outbox);
    d.kdmq.onAnswer((key) => this.outbox.heard(key));
    d.limits.setReplicationProbe(() => this.outbox.worst(d.list.activePeers()));
    d.list.onChange((c) => {
      this.owed = null;
      if (c.to === 'active') {
        this.everActive.add(c.key);
        const view = d.list.activePeers().find((v) => v.key === c.key);
        if (view !== undefined) {
          if (this.owedSync.delete(c.key)) this.scheduleResync(view);
          d.kdmq.flow.kick(view, c.key);
        }
      } else if (c.to === 'removed') {
        this.everActive.delete(c.key);
        this.outbox.forget(c.key);
        this.owedSync.add(c.key);
        if (this.owedSync.size > MAX_REMEMBERED) this.owedSync.delete(this.owedSync.values().next().value!);
      }
    });
  }

  /** a channel pushes everything it holds to `to` (its sync answer) */
  onResync(fn: (to: NodeId) => void): void {
    this.resyncers.push(fn);
  }

  private scheduleResync(to: NodeView): void {
    if (this.resyncTimers.has(to.key)) return;
    this.resyncTimers.set(to.key, this.d.clock.setTimeout(() => {
      this.resyncTimers.delete(to.key);
      if (this.d.list.statusOfKey(to.key) !== 'active') {
        this.owedSync.add(to.key); // gone again: still owed
        return;
      }
      this.d.log.log('info', 'node back after its removal and no sync request from it: sending it everything (sync answer)', { node: to.key });
      for (const fn of this.resyncers) fn(to);
    }, RESYNC_GRACE_MS));
  }

  /** `key` asked us for a sync (usrloc action 3): its answer covers a push it was owed */
  syncRequested(key: string): void {
    const t = this.resyncTimers.get(key);
    if (t !== undefined) {
      this.d.clock.clearTimeout(t);
      this.resyncTimers.delete(key);
    }
    this.owedSync.delete(key);
  }

  /** the nodes a change made now is owed to */
  owedTo(): NodeView[] {
    if (this.owed === null) {
      const out: NodeView[] = [];
      for (const v of this.d.list.peers()) if (v.status === 'active' || this.everActive.has(v.key)) out.push(v);
      this.owed = out;
    }
    return this.owed;
  }

  /** a local change, answered 200 after this call: owed to every node in owedTo() */
  owe(change: Change): void {
    const to = this.owedTo();
    if (to.length === 0) return;
    this.outbox.enqueue(change, to);
    // a node that is not active (down, or cut off) is owed at most replication_max_backlog
    // changes; past that, a full sync on its return replaces them (the same end state, and the
    // memory of a dead seed, never removed from the list, stays bounded)
    const max = this.d.limits.config.replication_max_backlog;
    if (max <= 0) return;
    for (const v of to) {
      if (v.status === 'active' || this.outbox.backlog(v.key) <= max) continue;
      this.outbox.forget(v.key);
      this.owedSync.add(v.key);
      this.d.log.log('info', 'node not active and owed more than limits.replication_max_backlog changes: a full sync replaces them on its return', { node: v.key });
    }
  }

  stop(): void {
    this.outbox.stop();
    for (const t of this.resyncTimers.values()) this.d.clock.clearTimeout(t);
    this.resyncTimers.clear();
  }
}
