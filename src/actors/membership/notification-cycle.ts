// The notification cycle's logic (protocol reference §2.3–§2.6, specs/membership.md): startup
// notification with MF 2, merging received lists, replying with ours, re-broadcasting news with
// MF−1, periodic pings, seed probes and DNS re-expansion (kdmq), and the leave notice on stop.
// The timing lives in notification-cycle-machine.ts; this file holds the actions it runs.

import type { Clock } from '../../ports/clock.ts';
import type { Resolver } from '../../ports/resolver.ts';
import { isIpLiteralHost, joinNodeLines, type NodeStatus } from './node-list-body.ts';
import { expandNotificationAddress } from './multi-notify.ts';
import { NodeList, keyOf, nodeKey, type NodeId } from './node-list.ts';
import { NodeListText, type PreparedLine } from './node-lines.ts';
import type { DmqSender, KdmqOutcome } from '../dmq/dmq-sender.ts';

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
  /** init callbacks: sync requests of the data channels (§2.8) */
  onJoined: () => void;
  counters: { badNodeLines: number; nodeListRefused?: { max_nodes: number; hostname: number } };
  /** limits.max_nodes: entries (local included) that received lists may create; seeds always fit */
  maxNodes?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

const isIpLiteral = (h: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || /^\[[0-9a-fA-F:.]+\]$/.test(h);

/** the last body merged from one node (request or reply), when that merge changed nothing */
interface MergeMemo {
  body: string;
  version: number;
  /** the sender's own active line: node.heard is sent on every merge */
  heardKey: string | null;
  bad: number;
}

export class NotificationCycle {
  private joined = false;
  private leaving = false;

  /** our list body, rebuilt only after a membership change (pings send it to every peer) */
  private cachedBody: string | null = null;
  /** node-list text read and written, each distinct line worked out once */
  private readonly text = new NodeListText();
  /** by node key, per direction ([0] a request from it, [1] a reply from it): see merge */
  private readonly lastMerged: [Map<string, MergeMemo>, Map<string, MergeMemo>] = [new Map(), new Map()];

  /**
   * nodes with direct evidence of life: a 200 to our request, or their own notification listing
   * themselves active. Only these go into the lists we send (specs/hostile-networks.md "Node
   * lists"): a node that only a third party listed active is not passed on, so a Kamailio peer
   * never replicates every REGISTER to it (holding a transaction per send until fr_timer).
   */
  private readonly verified = new Set<string>();

  private verifyKey(k: string): void {
    if (this.verified.has(k)) return;
    this.verified.add(k);
    this.cachedBody = null;
  }

  constructor(private readonly d: CycleDeps) {
    d.list.onChange((c) => {
      if (c.to === 'removed') this.verified.delete(c.key);
      this.cachedBody = null;
    });
  }

  /** our list: local + active nodes; the local line says `disabled` when leaving */
  body(localStatus: NodeStatus = 'active'): string {
    if (localStatus === 'active' && this.cachedBody !== null) return this.cachedBody;
    const b = this.buildBody(localStatus);
    if (localStatus === 'active') this.cachedBody = b;
    return b;
  }

  private buildBody(localStatus: NodeStatus): string {
    const written: string[] = [];
    this.d.list.forEachNode((id, key, status, local) => {
      if (!local && !(status === 'active' && this.verified.has(key))) return;
      const line = this.text.lineOf(id, key, local ? localStatus : status, local);
      if (line !== null) written.push(line);
    });
    return joinNodeLines(written, this.d.list.faults);
  }

  /** §2.3: add the notification addresses and send our list to every non-local node, MF 2 */
  async startup(): Promise<void> {
    const c = this.d.config;
    if (c.multiNotify && c.notificationAddresses.length > 0) {
      await this.expand(c.notificationAddresses[0]);
    } else {
      for (const a of c.notificationAddresses) this.d.list.ensure(a, 'pending', { seed: true });
    }
    for (const p of this.d.list.peers()) this.notify(p, 2);
  }

  private async expand(seed: NodeId): Promise<void> {
    if (isIpLiteral(seed.host)) {
      this.d.list.ensure(seed, 'pending', { seed: true });
      return;
    }
    const r = await expandNotificationAddress(this.d.resolver, seed.host, Number(seed.port) || null, seed.transport);
    for (const t of r.targets) {
      const id: NodeId = { host: t.host, port: String(t.port), transport: seed.transport };
      if (this.d.list.ensure(id, 'pending')) this.d.log?.('node discovered by DNS', { node: nodeKey(id), name: seed.host });
    }
  }

  /** §2.6: ping every non-local node (MF 1); alone → redo startup; kdmq: probe lost seeds, re-expand DNS */
  async ping(): Promise<void> {
    if (this.leaving) return;
    const peers = this.d.list.peers();
    if (peers.length === 0) {
      this.joined = false;
      await this.startup();
      return;
    }
    for (const p of peers) this.notify(p, 1);
    const c = this.d.config;
    if (c.multiNotify && c.notificationAddresses[0] && !isIpLiteral(c.notificationAddresses[0].host)) {
      const before = new Set(this.d.list.peers().map((p) => p.key));
      await this.expand(c.notificationAddresses[0]);
      for (const p of this.d.list.peers()) if (!before.has(p.key)) this.notify(p, 2);
    } else if (c.failRemove) {
      for (const a of c.notificationAddresses) {
        if (!this.d.list.has(a) && !this.d.list.isLocal(a)) this.probe(a);
      }
    }
  }

  /** send our list to one node and apply the outcome (§2.5) */
  notify(to: NodeId, maxForwards: number): void {
    const sentWhile = this.d.list.status(to) ?? 'pending';
    const sentAt = this.d.clock.now();
    this.d.sender.send({
      to,
      channel: this.d.config.channel,
      body: this.body(),
      contentType: 'text/plain',
      maxForwards,
      done: (r) => this.onOutcome(to, r, sentAt, sentWhile),
    });
  }

  /** kdmq C4: a configured seed that is not in the list; only a 200 creates an entry */
  private probe(to: NodeId): void {
    this.d.sender.send({
      to,
      channel: this.d.config.channel,
      body: this.body(),
      contentType: 'text/plain',
      maxForwards: 2,
      done: (r) => {
        if (r.code !== 200 || this.d.list.has(to)) return;
        this.d.list.ensure(to, 'active', { seed: true });
        this.d.list.send(to, { type: 'node.replied', at: this.d.clock.now() });
        this.verifyKey(nodeKey(to));
        this.merge(r.body, null, to);
        this.initOnce();
      },
    });
  }

  private onOutcome(to: NodeId, r: KdmqOutcome, sentAt: number, sentWhile: NodeStatus): void {
    const at = this.d.clock.now();
    if (r.code === 200) {
      const key = keyOf(to); // `to` is mostly a view, which carries its key
      this.d.list.sendKey(key, { type: 'node.replied', at });
      this.verifyKey(key);
      this.merge(r.body, null, to);
      this.initOnce();
    } else if (r.code === 408) {
      this.d.list.send(to, { type: 'node.timedOut', at, sentAt, sentWhile });
    }
  }

  /** a data-channel request timed out: the same failure evidence as a ping time-out (kdmq) */
  dataTimedOut(to: NodeId, sentAt: number, sentWhile: NodeStatus): void {
    this.d.list.send(to, { type: 'node.timedOut', at: this.d.clock.now(), sentAt, sentWhile });
  }

  /** §2.4 step 2: merge lines, return how many were new or changed */
  merge(body: string, sender: NodeId | null, from: NodeId | null = sender): number {
    const list = this.d.list;
    const senderKey = sender === null ? null : keyOf(sender);
    const memos = this.lastMerged[sender === null ? 1 : 0];
    const memoKey = from === null ? null : from === sender ? senderKey : keyOf(from);
    const memo = memoKey === null ? undefined : memos.get(memoKey);
    if (memo !== undefined && memo.body === body && memo.version === list.version) return this.remerge(memo);
    const prepared = this.text.parse(body);
    this.d.counters.badNodeLines += prepared.bad;
    const at = this.d.clock.now();
    const versionBefore = list.version;
    let news = 0;
    let heardKey: string | null = null;
    let allKnown = true;
    for (const p of prepared.lines) {
      const local = p.key === list.localKey;
      // the line's node as the list has it now (undefined: not in it), asked once per line
      const current = local ? undefined : list.statusOfKey(p.key);
      if (!local && current === undefined) allKnown = false;
      else if (p.key === senderKey && p.line.status === 'active') heardKey = p.key;
      news += this.mergeLine(p, current, senderKey, at);
      if (p.kdmq) list.markKdmqKey(p.key);
    }
    if (memoKey !== null) {
      // a body that changed nothing (every line known, no status changed), from a list that has
      // not changed since, changes nothing again (node.listed without a transition has no effect,
      // and a refused line is never memoised): only the sender's node.heard remains
      if (memos.size >= 1024) memos.clear(); // bounded whatever the senders
      if (allKnown && list.version === versionBefore) memos.set(memoKey, { body, version: list.version, heardKey, bad: prepared.bad });
      else memos.delete(memoKey);
    }
    return news;
  }

  /** the same body from the same node again, nothing changed since: what merge would do */
  private remerge(m: MergeMemo): number {
    this.d.counters.badNodeLines += m.bad;
    if (m.heardKey === null) return 0;
    const list = this.d.list;
    const before = list.statusOfKey(m.heardKey);
    list.sendKey(m.heardKey, { type: 'node.heard', at: this.d.clock.now() });
    this.verifyKey(m.heardKey);
    if (list.version !== m.version) for (const memos of this.lastMerged) memos.clear();
    return before !== 'active' ? 1 : 0;
  }

  /** `current`: the node's status in the list before this line (undefined: not in it) */
  private mergeLine(p: PreparedLine, current: NodeStatus | undefined, senderKey: string | null, at: number): number {
    const { line, id, key } = p;
    const list = this.d.list;
    if (key === list.localKey) return 0;
    const status: NodeStatus = line.status ?? 'pending';
    const fromSelf = senderKey === key;
    if (current === undefined) {
      if (!this.mayCreate(id, fromSelf)) return 0;
      list.ensure(id, status);
      // the node itself says it is active: direct evidence, even if we removed it after failures
      if (fromSelf && status === 'active') {
        list.sendKey(key, { type: 'node.heard', at });
        this.verifyKey(key);
      }
      return 1;
    }
    if (fromSelf && status === 'active') {
      list.sendKey(key, { type: 'node.heard', at });
      this.verifyKey(key);
      return current !== 'active' ? 1 : 0;
    }
    if (line.status === null) return 0;
    if (current === status) return 0;
    const after = list.sendKey(key, { type: 'node.listed', status, fromSelf, at });
    return after !== current ? 1 : 0;
  }

  /**
   * specs/hostile-networks.md "Node lists": a line may create an entry only while the list holds
   * fewer than limits.max_nodes (local included), and only with an IP-literal host unless the
   * line is the sender's own (a third party cannot make us resolve names and send to them).
   */
  private mayCreate(id: NodeId, fromSelf: boolean): boolean {
    const refused = this.d.counters.nodeListRefused;
    if (!fromSelf && !isIpLiteralHost(id.host)) {
      if (refused) refused.hostname++;
      return false;
    }
    if (this.d.maxNodes !== undefined && this.d.list.peers().length + 1 >= this.d.maxNodes) {
      if (refused) refused.max_nodes++;
      return false;
    }
    return true;
  }

  /** §2.4: an inbound notification request; returns the 200 body */
  handleRequest(body: string, sender: NodeId | null, maxForwards: number): string {
    const mf = Math.max(0, maxForwards - 1);
    const news = this.merge(body, sender);
    const reply = this.body();
    if (news > 0 && mf > 0) {
      for (const p of this.d.list.activePeers()) {
        this.d.sender.send({ to: p, channel: this.d.config.channel, body: reply, contentType: 'text/plain', maxForwards: mf, done: (r) => this.onOutcome(p, r, this.d.clock.now(), 'active') });
      }
    }
    this.initOnce();
    return reply;
  }

  private initOnce(): void {
    if (this.joined || this.leaving) return;
    if (this.d.list.activePeers().length === 0) return;
    this.joined = true;
    this.d.onJoined();
  }

  /** clean stop: our list with our own line disabled, to every active node (kdmq; §2.9) */
  leave(): void {
    this.leaving = true;
    const body = this.body('disabled');
    for (const p of this.d.list.activePeers()) {
      this.d.sender.send({ to: p, channel: this.d.config.channel, body, contentType: 'text/plain', maxForwards: 1 });
    }
  }
}
