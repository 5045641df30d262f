// The node list: one node-machine actor per known peer plus the local node (always active),
// in Kamailio's order (newest first, local last). Identity is (host string, port string,
// transport), protocol reference §1.4. Every status change is reported to observers, so the
// model checker can verify each one is a row of specs/membership.md.

import { NodeVersions } from './node-dialect.ts';
import { createActor, type Actor } from 'xstate';
import type { Clock } from '../../ports/clock.ts';
import { noFaults, type Faults } from '../../ports/faults.ts';
import type { NodeStatus } from './node-list-body.ts';
import { coalescingEvents, nodeMachine, type NodeContext, type NodeEvent } from './node-machine.ts';

export interface NodeId {
  host: string;
  port: string;
  transport: string | null;
}

export type MemberStatus = NodeStatus | 'removed';

export interface StatusChange {
  key: string;
  from: MemberStatus;
  to: MemberStatus;
  event: NodeEvent['type'];
  at: number;
}

export interface NodeView extends NodeId {
  key: string;
  status: NodeStatus;
  local: boolean;
  seed: boolean;
  kdmq: boolean;
  since: number;
  resolvedIp: string;
}

interface Entry {
  id: NodeId;
  key: string;
  actor: Actor<typeof nodeMachine>;
  since: number;
  resolvedIp: string;
  kdmq: boolean;
  /** this entry's view, until its status, since or kdmq mark changes (views are rebuilt often) */
  view: NodeView | null;
  /**
   * sign-of-life events (node.heard / node.replied) received while active and not yet given to the
   * actor: the latest `at`, 0 = none. See sendKey.
   */
  aliveAt: number;
}

/**
 * A view, written field by field: `{ ...id, key, … }` gave every view a map (hidden class) of its
 * own, so every read of a view's field anywhere (its key per send, its status, host, port) was a
 * megamorphic lookup. One literal, one shape for all views.
 */
function viewObject(id: NodeId, key: string, status: NodeStatus, local: boolean, seed: boolean, kdmq: boolean, since: number, resolvedIp: string): NodeView {
  return { host: id.host, port: id.port, transport: id.transport, key, status, local, seed, kdmq, since, resolvedIp };
}

/** the node's status: its machine's state, read from the actor (the list keeps no copy) */
function statusOf(e: Entry): NodeStatus {
  return e.actor.getSnapshot().value as NodeStatus;
}

export function nodeKey(n: NodeId): string {
  const t = n.transport && n.transport.toLowerCase() !== 'udp' ? `;transport=${n.transport.toLowerCase()}` : '';
  return `${n.host}:${n.port}${t}`;
}

/**
 * nodeKey(n), read from a NodeView (which carries its key) instead of rebuilding it: broadcasts
 * and pings send to views, and a key string already hashed makes every Map lookup cheaper.
 */
export function keyOf(n: NodeId & { key?: string }): string {
  return n.key ?? nodeKey(n);
}

export class NodeList {
  private entries: Entry[] = [];
  private readonly byKey = new Map<string, Entry>();
  private readonly observers: Array<(c: StatusChange) => void> = [];
  /** nodes removed after time-outs → time of that last failure (until an entry is created again) */
  private readonly failedRemoved = new Map<string, number>();
  readonly localKey: string;
  /** each node's Kamailio version and node-list dialect (node-dialect.ts) */
  readonly versions = new NodeVersions();
  /** bumped by every creation, status change, removal and kdmq mark (lets a merge skip a body it already merged) */
  version = 0;

  constructor(
    readonly local: NodeId,
    private readonly clock: Clock,
    private readonly failRemove: boolean,
    /** this node's planted faults (src/ports/faults.ts): none but in the simulator's tests */
    readonly faults: Faults = noFaults,
  ) {
    this.localKey = nodeKey(local);
  }

  onChange(fn: (c: StatusChange) => void): void {
    this.observers.push(fn);
  }

  isLocal(id: NodeId): boolean {
    return nodeKey(id) === this.localKey;
  }

  has(id: NodeId): boolean {
    return this.byKey.has(nodeKey(id));
  }

  /** `has` by a key already computed with nodeKey (the merge path keeps keys per parsed line) */
  hasKey(key: string): boolean {
    return this.byKey.has(key);
  }

  status(id: NodeId): NodeStatus | undefined {
    return this.statusOfKey(keyOf(id));
  }

  statusOfKey(key: string): NodeStatus | undefined {
    if (key === this.localKey) return 'active';
    const e = this.byKey.get(key);
    return e ? statusOf(e) : undefined;
  }

  /**
   * add an entry if absent (rows C1, C2, C4); returns true when created. A node we removed
   * after time-outs comes back as a suspect: `pending` instead of `active`/`timeout`, with its
   * last failure kept, so gossip alone cannot make it active again (only a 200 from it or a
   * request from it can: rows M02, M19, M23). Without this, a peer still listing the dead
   * node re-creates it `active` right after each removal (the "ghost node" loop).
   */
  ensure(id: NodeId, initial: NodeStatus, opts: { seed?: boolean; kdmq?: boolean; resolvedIp?: string } = {}): boolean {
    const key = nodeKey(id);
    if (key === this.localKey || this.byKey.has(key)) return false;
    const at = this.clock.now();
    const tomb = this.failedRemoved.get(key);
    this.failedRemoved.delete(key);
    if (tomb !== undefined && (initial === 'active' || initial === 'timeout')) initial = 'pending';
    const failedAt = tomb ?? 0;
    const actor = createActor(nodeMachine, {
      clock: this.clock,
      input: { key, ...id, seed: opts.seed ?? false, failRemove: this.failRemove, initial, at, failedAt, gossipRevivesDisabled: this.faults.has('gossip-revives-disabled') },
    });
    const entry: Entry = { id, key, actor, since: at, resolvedIp: opts.resolvedIp ?? id.host.replace(/^\[|\]$/g, ''), kdmq: opts.kdmq ?? false, view: null, aliveAt: 0 };
    actor.start();
    this.entries.unshift(entry);
    this.byKey.set(key, entry);
    this.emit({ key, from: 'removed', to: initial, event: 'node.listed', at });
    return true;
  }

  /** deliver an event to a node's actor; reports the change and drops removed entries */
  send(id: NodeId, event: NodeEvent): MemberStatus | undefined {
    return this.sendKey(nodeKey(id), event);
  }

  sendKey(key: string, event: NodeEvent): MemberStatus | undefined {
    const e = this.byKey.get(key);
    if (!e) return undefined;
    const before = statusOf(e);
    if ('at' in event && coalescingEvents(before).has(event.type)) {
      // the node machine says this event, in this state, only raises aliveAt (coalescingEvents):
      // kept here, the latest, until the next other event
      if (event.at > e.aliveAt) e.aliveAt = event.at;
      return before;
    }
    this.flushAlive(e);
    e.actor.send(event);
    const snap = e.actor.getSnapshot();
    const after: MemberStatus = snap.status === 'done' ? 'removed' : (snap.value as NodeStatus);
    if (after !== before) {
      e.since = this.clock.now();
      e.view = null;
      this.emit({ key: e.key, from: before, to: after, event: event.type, at: e.since });
    }
    if (after === 'removed') {
      if (event.type === 'node.timedOut') this.failedRemoved.set(e.key, snap.context.failedAt);
      e.actor.stop();
      this.byKey.delete(e.key);
      this.entries = this.entries.filter((x) => x !== e);
      this.cache = null;
    }
    // no change (e.g. node.heard on an active node): the cached views stay valid
    return after;
  }

  /** give the actor the sign of life held back by sendKey (the node is still active: nothing else was sent since) */
  private flushAlive(e: Entry): void {
    if (e.aliveAt === 0) return;
    const at = e.aliveAt;
    e.aliveAt = 0;
    e.actor.send({ type: 'node.heard', at });
  }

  /** the node machine's context with every held-back sign of life applied (tests, diagnostics) */
  contextOf(key: string): NodeContext | undefined {
    const e = this.byKey.get(key);
    if (!e) return undefined;
    this.flushAlive(e);
    return e.actor.getSnapshot().context;
  }

  markKdmq(id: NodeId): void {
    this.markKdmqKey(nodeKey(id));
  }

  markKdmqKey(key: string): void {
    const e = this.byKey.get(key);
    if (e && !e.kdmq) {
      e.kdmq = true;
      e.view = null;
      this.version++;
      this.cache = null;
    }
  }

  /** views, peers and active peers, rebuilt after any change (every REGISTER asks for the active ones) */
  private cache: { views: NodeView[]; peers: NodeView[]; active: NodeView[] } | null = null;

  private cached(): { views: NodeView[]; peers: NodeView[]; active: NodeView[] } {
    if (this.cache === null) {
      const views = this.buildViews();
      // every entry is a peer (the local node is the last view)
      const peers = views.slice(0, this.entries.length);
      const active: NodeView[] = [];
      for (const v of peers) if (v.status === 'active') active.push(v);
      this.cache = { views, peers, active };
    }
    return this.cache;
  }

  /** every node, newest first, local last (shared: do not mutate) */
  views(): NodeView[] {
    return this.cached().views;
  }

  /** the entries' views (an unchanged entry keeps its view object), then the local node's */
  private buildViews(): NodeView[] {
    const out: NodeView[] = new Array(this.entries.length + 1);
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      out[i] = e.view ??= this.viewOf(e);
    }
    out[this.entries.length] = this.localView ??= viewObject(this.local, this.localKey, 'active', true, false, true, 0, this.local.host.replace(/^\[|\]$/g, ''));
    return out;
  }

  private localView: NodeView | null = null;

  private viewOf(e: Entry): NodeView {
    const s = e.actor.getSnapshot();
    return viewObject(e.id, e.key, s.value as NodeStatus, false, s.context.seed, e.kdmq, e.since, e.resolvedIp);
  }

  /**
   * every node in views() order (newest first, local last) with its identity, key and status,
   * without building views: a list body is rebuilt after each change, and a change (a status, a
   * kdmq mark) would otherwise rebuild every view array first
   */
  forEachNode(fn: (id: NodeId, key: string, status: NodeStatus, local: boolean) => void): void {
    for (const e of this.entries) fn(e.id, e.key, statusOf(e), false);
    fn(this.local, this.localKey, 'active', true);
  }

  /** non-local nodes, any status (ping targets) */
  peers(): NodeView[] {
    return this.cached().peers;
  }

  /** non-local active nodes (broadcast targets) */
  activePeers(): NodeView[] {
    return this.cached().active;
  }

  stopAll(): void {
    for (const e of this.entries) e.actor.stop();
  }

  private emit(c: StatusChange): void {
    this.version++;
    this.cache = null;
    for (const o of this.observers) o(c);
  }
}
