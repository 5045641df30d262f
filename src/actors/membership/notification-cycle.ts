// What the notification cycle's actions do (protocol reference §2.3–§2.6, §2.9, specs/membership.md):
// seeds into the node list, multi_notify's DNS expansion, notifications and their outcomes, seed
// probes, the answer to a notification request (merge, our list, the re-broadcast of news with
// MF−1) and the leave notice. When each runs, and the cycle's states, are notification-cycle-
// machine.ts's: the outcome of every send goes back to that machine as an event (`post`).

import type { Clock } from '../../ports/clock.ts';
import type { Resolver } from '../../ports/resolver.ts';
import type { NodeStatus } from './node-list-body.ts';
import { expandNotificationAddress } from './multi-notify.ts';
import { NodeList, keyOf, nodeKey, type NodeId } from './node-list.ts';
import { ListMerge } from './node-list-merge.ts';
import type { DmqSender, KdmqOutcome } from '../dmq/dmq-sender.ts';
import type { CycleEvent } from './notification-cycle-machine.ts';

/** the node-list parameter by which kdmq nodes recognise each other (defined with the node-list text) */
export { KDMQ_MARK } from './node-lines.ts';

export interface CycleConfig {
  channel: string;
  notificationAddresses: NodeId[];
  multiNotify: boolean;
  failRemove: boolean;
}

export interface CycleDeps {
  list: NodeList;
  sender: DmqSender;
  clock: Clock;
  resolver: Resolver;
  config: CycleConfig;
  counters: { badNodeLines: number; nodeListRefused?: { max_nodes: number; hostname: number } };
  /** limits.max_nodes: entries (local included) that received lists may create; seeds always fit */
  maxNodes?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

const isIpLiteral = (h: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || /^\[[0-9a-fA-F:.]+\]$/.test(h);

export class CycleWork {
  readonly merge: ListMerge;
  /** the cycle actor's mailbox: outcomes of sends are its events (set by the composition root) */
  private post: (e: CycleEvent) => void = () => {};

  constructor(private readonly d: CycleDeps) {
    this.merge = new ListMerge(d);
  }

  /** where the outcomes of this work's sends go: the notification cycle actor */
  attach(post: (e: CycleEvent) => void): void {
    this.post = post;
  }

  /** our list: local + vouched-for active nodes; the local line says `disabled` when leaving */
  body(localStatus: NodeStatus = 'active'): string {
    return this.merge.body(localStatus);
  }

  /** our list as node `to`'s Kamailio version reads it (node-dialect.ts) */
  bodyFor(to: NodeId, localStatus: NodeStatus = 'active'): string {
    return this.merge.body(localStatus, this.d.list.versions.dialect(keyOf(to)));
  }

  peerCount(): number {
    return this.d.list.peers().length;
  }
  activePeerCount(): number {
    return this.d.list.activePeers().length;
  }

  /** multi_notify with a DNS name as first notification address (§2.3): discovery resolves it */
  hasDnsSeed(): boolean {
    const c = this.d.config;
    return c.multiNotify && c.notificationAddresses.length > 0 && !isIpLiteral(c.notificationAddresses[0].host);
  }

  /** §2.3 without DNS: the notification addresses (multi_notify: only the first) as seeds */
  addSeeds(): void {
    const c = this.d.config;
    const seeds = c.multiNotify ? c.notificationAddresses.slice(0, 1) : c.notificationAddresses;
    for (const a of seeds) this.d.list.ensure(a, 'pending', { seed: true });
  }

  /** multi_notify's expansion of the first address; resolves to the nodes it added to the list */
  async expandSeed(): Promise<NodeId[]> {
    if (!this.hasDnsSeed()) return [];
    const seed = this.d.config.notificationAddresses[0];
    const r = await expandNotificationAddress(this.d.resolver, seed.host, Number(seed.port) || null, seed.transport);
    const added: NodeId[] = [];
    for (const t of r.targets) {
      const id: NodeId = { host: t.host, port: String(t.port), transport: seed.transport };
      if (!this.d.list.ensure(id, 'pending')) continue;
      added.push(id);
      this.d.log?.('node discovered by DNS', { node: nodeKey(id), name: seed.host });
    }
    return added;
  }

  /** our list to every non-local node (startup: MF 2, §2.3; ping: MF 1, §2.6) */
  notifyAll(maxForwards: number): void {
    for (const p of this.d.list.peers()) this.notify(p, maxForwards);
  }

  /** our list to these nodes, if still listed (the ones a DNS re-expansion added) */
  notifySome(nodes: readonly NodeId[], maxForwards: number): void {
    for (const p of this.d.list.peers()) if (nodes.some((n) => nodeKey(n) === p.key)) this.notify(p, maxForwards);
  }

  /**
   * send our list to one node; its outcome comes back to the machine as cycle.outcome (§2.5).
   * A re-broadcast (`rebroadcast`) dates its outcome, not its send: a time-out of one is never
   * older than the node's last sign of life (the node machine's `stale` guard), as before #16.
   */
  notify(to: NodeId, maxForwards: number, rebroadcast = false): void {
    const sentWhile: NodeStatus = rebroadcast ? 'active' : (this.d.list.status(to) ?? 'pending');
    const sentAt = rebroadcast ? -1 : this.d.clock.now();
    this.d.sender.send({
      to,
      channel: this.d.config.channel,
      body: this.bodyFor(to),
      contentType: 'text/plain',
      maxForwards,
      done: (result) => this.post({ type: 'cycle.outcome', to, result, sentAt: sentAt < 0 ? this.d.clock.now() : sentAt, sentWhile }),
    });
  }

  /** kdmq C4 (fail_remove): probe every configured seed that is not in the list */
  probeLostSeeds(): void {
    if (!this.d.config.failRemove) return;
    for (const a of this.d.config.notificationAddresses) {
      if (this.d.list.has(a) || this.d.list.isLocal(a)) continue;
      this.d.sender.send({
        to: a,
        channel: this.d.config.channel,
        body: this.bodyFor(a),
        contentType: 'text/plain',
        maxForwards: 2,
        done: (result) => this.post({ type: 'cycle.probed', to: a, result }),
      });
    }
  }

  /** a probe's answer: only a 200 creates the entry, active */
  applyProbe(to: NodeId, r: KdmqOutcome): void {
    if (r.code !== 200 || this.d.list.has(to)) return;
    this.d.list.versions.learn(nodeKey(to), r.server);
    this.d.list.ensure(to, 'active', { seed: true });
    this.d.list.send(to, { type: 'node.replied', at: this.d.clock.now() });
    this.merge.verifyKey(nodeKey(to));
    this.merge.merge(r.body, null, to);
  }

  /** a notification's outcome: a 200 is a sign of life and a list to merge, a 408 a failure */
  applyOutcome(to: NodeId, r: KdmqOutcome, sentAt: number, sentWhile: NodeStatus): void {
    if (r.code === 200) {
      const key = keyOf(to); // `to` is mostly a view, which carries its key
      this.d.list.versions.learn(key, r.server);
      this.d.list.sendKey(key, { type: 'node.replied', at: this.d.clock.now() });
      this.merge.verifyKey(key);
      this.merge.merge(r.body, null, to);
    } else if (r.code === 408) {
      this.timedOut(to, sentAt, sentWhile);
    }
  }

  /** a request to `to` timed out: failure evidence (pings and, kdmq, data-channel requests) */
  timedOut(to: NodeId, sentAt: number, sentWhile: NodeStatus): void {
    this.d.list.send(to, { type: 'node.timedOut', at: this.d.clock.now(), sentAt, sentWhile });
  }

  /** §2.4: merge an inbound notification, re-broadcast news with MF−1; returns the 200 body */
  answer(body: string, sender: NodeId | null, maxForwards: number): string {
    const mf = Math.max(0, maxForwards - 1);
    const news = this.merge.merge(body, sender);
    const reply = sender === null ? this.body() : this.bodyFor(sender);
    if (news > 0 && mf > 0) for (const p of this.d.list.activePeers()) this.notify(p, mf, true);
    return reply;
  }

  /** clean stop (kdmq; §2.9): our list with our own line disabled, to every active node; returns how many were sent */
  sendLeave(answered: () => void): number {
    const to = this.d.list.activePeers();
    for (const p of to) {
      const body = this.bodyFor(p, 'disabled');
      this.d.sender.send({ to: p, channel: this.d.config.channel, body, contentType: 'text/plain', maxForwards: 1, done: () => answered() });
    }
    return to.length;
  }
}
