// The merge of received node lists into the node list (protocol reference §2.4, specs/membership.md
// rows M.., specs/hostile-networks.md "Node lists"), and our own list body: which lines create an
// entry, which become node-machine events (node.heard, node.listed), which nodes we vouch for.
// Used by the notification cycle's actions (notification-cycle.ts). Per node; no I/O.

import type { Clock } from '../../ports/clock.ts';
import { isIpLiteralHost, joinNodeLines, type NodeStatus } from './node-list-body.ts';
import { NodeList, keyOf, type NodeId } from './node-list.ts';
import { NodeListText, type PreparedLine } from './node-lines.ts';
import { defaultStatus, type Dialect } from './node-dialect.ts';

export interface MergeDeps {
  list: NodeList;
  clock: Clock;
  counters: { badNodeLines: number; nodeListRefused?: { max_nodes: number; hostname: number } };
  /** limits.max_nodes: entries (local included) that received lists may create; seeds always fit */
  maxNodes?: number;
}

/** the last body merged from one node (request or reply), when that merge changed nothing */
interface MergeMemo {
  body: string;
  version: number;
  /** the sender's own active line: node.heard is sent on every merge */
  heardKey: string | null;
  bad: number;
}

export class ListMerge {
  /** our list body per dialect, rebuilt only after a membership change (pings send it to every peer) */
  private readonly cachedBodies = new Map<Dialect, string>();
  /** node-list text read and written, each distinct line worked out once */
  private readonly text = new NodeListText();
  /** by node key, per direction ([0] a request from it, [1] a reply from it): see merge */
  private readonly lastMerged: [Map<string, MergeMemo>, Map<string, MergeMemo>] = [new Map(), new Map()];

  /**
   * nodes with direct evidence of life: a 200 to our request, or their own notification listing
   * themselves active. Only these go into the lists we send (specs/hostile-networks.md "Node
   * lists"): a node that only a third party listed active is not passed on, so a Kamailio node
   * never replicates every REGISTER to it (holding a transaction per send until fr_timer).
   */
  private readonly verified = new Set<string>();

  /** direct evidence that the node `k` is alive: it goes into our lists from now on */
  verifyKey(k: string): void {
    if (this.verified.has(k)) return;
    this.verified.add(k);
    this.cachedBodies.clear();
  }

  constructor(private readonly d: MergeDeps) {
    d.list.onChange((c) => {
      if (c.to === 'removed') this.verified.delete(c.key);
      this.cachedBodies.clear();
    });
  }

  /** our list: local + active nodes; the local line says `disabled` when leaving; statuses as `dialect` writes them */
  body(localStatus: NodeStatus = 'active', dialect: Dialect = '5.6'): string {
    const cached = localStatus === 'active' ? this.cachedBodies.get(dialect) : undefined;
    if (cached !== undefined) return cached;
    const b = this.buildBody(localStatus, dialect);
    if (localStatus === 'active') this.cachedBodies.set(dialect, b);
    return b;
  }

  private buildBody(localStatus: NodeStatus, dialect: Dialect): string {
    const written: string[] = [];
    this.d.list.forEachNode((id, key, status, local) => {
      if (!local && !(status === 'active' && this.verified.has(key))) return;
      const line = this.text.lineOf(id, key, local ? localStatus : status, local, dialect);
      if (line !== null) written.push(line);
    });
    return joinNodeLines(written, this.d.list.faults);
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
    // a line without status: pending from 5.6/6.0, active from 6.1 (node-dialect.ts)
    const senderDialect = list.versions.dialect(memoKey ?? '');
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
      news += this.mergeLine(p, current, senderKey, at, senderDialect);
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
  private mergeLine(p: PreparedLine, current: NodeStatus | undefined, senderKey: string | null, at: number, dialect: Dialect): number {
    const { line, id, key } = p;
    const list = this.d.list;
    if (key === list.localKey) return 0;
    const status: NodeStatus = line.status ?? defaultStatus(dialect);
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
}
