// The checker's simulated world: N kdmq nodes built by the one factory createNode (as `kdmq serve`)
// on one SimCluster, found through simulated DNS (multi_notify on cluster.sim, so nodes join and
// leave by zone changes), each on its own offset clock; simulated UAs that REGISTER, refresh and
// unregister; htable writes; and the monitor's hooks at the node edges (statuses, data, bindings).

import type { App } from '../actors/node/install-app.ts';
import { nodeKey } from '../actors/membership/node-list.ts';
import type { KdmqNode } from '../actors/node/create-node.ts';
import type { Clock } from '../ports/clock.ts';
import { writeRequest } from '../sip/index.ts';
import { toRecord } from '../actors/location/binding.ts';
import { parseUsrlocBody } from '../actors/channels/usrloc-body.ts';
import type { Endpoint } from '../transport/transport.ts';
import type { LinkParams, SimTransport } from '../transport/sim-transport.ts';
import { SimCluster, simIp, type SimClusterOptions } from './cluster.ts';
import { OffsetClock } from './offset-clock.ts';
import { plantFaults, type PlantedBug } from '../ports/faults.ts';
import { Monitor } from './monitor.ts';

export const CLUSTER_NAME = 'cluster.sim';
export const UA_HOST = '127.0.1.250';
export const HT_TABLE = 'sim';
/** UAs share this many AoRs (several contacts per AoR) */
export const AORS = 3;

export function nodeConfig(ip: string, seeds: string[] = [`sip:${CLUSTER_NAME}:5090`]): Record<string, unknown> {
  return {
    listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
    dmq: { server_address: `sip:${ip}:5090`, notification_address: seeds, multi_notify: true, ping_interval: 1 },
    sip: { t1: 100, t2: 400, kdmq_timeout: 2000 },
    rpc: { listen: '' },
    registrar: { default_expires: 120, min_expires: 5 },
    htable: { tables: { [HT_TABLE]: { size: 4, dmqreplicate: true } } },
    // small flow-control windows, so the overload fault (a flood of REGISTERs) fills them
    limits: { peer_in_flight: 4, peer_queue: 32 },
  };
}

export interface WorldOptions {
  nodes: number;
  seed: string;
  offsetsMs?: number[];
  record?: boolean;
  /** keep the trace hash without recording the lines (Monitor's `hash` option) */
  hash?: boolean;
  link?: Partial<LinkParams>;
  network?: SimClusterOptions['network'];
  /** node config (default nodeConfig with DNS discovery) */
  config?: (i: number, ip: string) => Record<string, unknown>;
  /** bugs planted in every node, or per node (each node gets its own faults port; default none) */
  plant?: readonly PlantedBug[] | ((i: number) => readonly PlantedBug[]);
}

export type DnsFault = 'servfail' | 'timeout' | 'nxdomain' | null;

export class World {
  readonly cluster: SimCluster;
  readonly monitor: Monitor;
  readonly apps: Array<App | null> = [];
  readonly inDns = new Set<number>();
  /** why data may legitimately differ after the quiet period (known finding KF-01) */
  readonly dataRisk: string[] = [];
  private dnsFault: DnsFault = null;
  private ua!: SimTransport;
  private uaEp!: Endpoint;
  private readonly uas = new Map<number, { gen: number; cseq: number }>();
  private branch = 0;
  private deadTimeouts = 0;
  private readonly dmqKeys: string[] = [];

  private constructor(readonly o: WorldOptions) {
    let t0 = 0;
    this.monitor = new Monitor({ record: o.record ?? false, hash: o.hash, now: () => this.cluster.clock.now() - t0 });
    this.cluster = new SimCluster({
      seed: o.seed,
      config: o.config ?? ((_, ip) => nodeConfig(ip)),
      link: o.link,
      network: o.network,
      clockFor: (i) => this.clockOf(i),
      install: (node, i) => this.install(node, i),
      faults: (i) => plantFaults(typeof o.plant === 'function' ? o.plant(i) : (o.plant ?? [])),
    });
    t0 = this.cluster.clock.now();
    this.cluster.net.onDeliver((d) => this.monitor.onDatagram(d));
  }

  static async create(o: WorldOptions): Promise<World> {
    const w = new World(o);
    w.ua = w.cluster.net.transport();
    w.uaEp = await w.ua.bind({ host: UA_HOST, port: 5070 });
    return w;
  }

  get clock() {
    return this.cluster.clock;
  }

  clockOf(i: number): Clock {
    const off = this.o.offsetsMs?.[i] ?? 0;
    return off === 0 ? this.cluster.clock : new OffsetClock(this.cluster.clock, off);
  }

  node(i: number): KdmqNode | null {
    return this.cluster.members[i]?.node ?? null;
  }

  private install(node: KdmqNode, i: number): void {
    const app = node.app;
    this.apps[i] = app;
    this.monitor.started(i);
    const current = () => this.cluster.members[i]?.node === node;
    node.onStatusChange((c) => current() && this.monitor.onStatus(i, c));
    for (const ch of [app.usrloc, app.htable.channel]) {
      if (!ch) continue;
      const handle = ch.handle.bind(ch);
      ch.handle = (req, sender, source) => {
        // one key for the three questions (node.list.status and isLocal would each rebuild it)
        const key = sender ? nodeKey(sender) : '(no From)';
        this.monitor.onData(i, ch.name, key, sender ? node.list.statusOfKey(key) : undefined, sender ? key === node.list.localKey : false);
        if (ch === app.usrloc && current()) {
          // only a delete (action 2) is checked here (the channel parses the body again: no memo shared between nodes)
          const m = parseUsrlocBody(req.bodyText());
          if (m.ok && 'action' in m.value && m.value.action === 2) this.monitor.onReplicatedDelete(i, m.value.contact);
        }
        return handle(req, sender, source);
      };
    }
    node.kdmq.flow.onDropped((m, key) => current() && this.monitor.onDropped(i, m.channel, key));
    const onChange = app.usrloc.onChange.bind(app.usrloc);
    app.usrloc.onChange = (c) => {
      if (current()) this.monitor.onBinding(i, c);
      onChange(c);
    };
    this.monitor.note({ k: 'node', node: i, ev: 'started' });
  }

  private updateDns(): void {
    const name = CLUSTER_NAME;
    if (this.dnsFault === 'nxdomain') this.cluster.dns.delete(name);
    else {
      const a = [...this.inDns].sort((x, y) => x - y).map(simIp);
      this.cluster.dns.set(name, { a, ttl: 1, ...(this.dnsFault ? { fail: this.dnsFault } : {}) });
    }
  }

  setDnsFault(f: DnsFault): void {
    this.dnsFault = f;
    this.updateDns();
  }

  /** add node i to DNS and start it (a join, or a restart after a crash) */
  async join(i: number): Promise<void> {
    this.inDns.add(i);
    this.updateDns();
    if (!this.node(i)) await this.cluster.start(i);
  }

  /** crash: sockets gone, state lost, no leave notice; its DNS record stays */
  async crash(i: number): Promise<void> {
    const n = this.node(i);
    if (!n) return;
    if (n.kdmq.inFlight() > 0) this.dataRisk.push(`node ${i} crashed with ${n.kdmq.inFlight()} KDMQs in flight`);
    this.deadTimeouts += this.dataTimeouts(n);
    this.apps[i]?.htable.store.stop();
    this.apps[i] = null;
    this.monitor.note({ k: 'node', node: i, ev: 'crashed' });
    await this.cluster.crash(i);
  }

  /** clean stop with a leave notice, removed from DNS */
  async leave(i: number): Promise<void> {
    const n = this.node(i);
    if (!n) return;
    this.inDns.delete(i);
    this.updateDns();
    this.deadTimeouts += this.dataTimeouts(n);
    this.apps[i]?.htable.store.stop();
    this.apps[i] = null;
    this.monitor.note({ k: 'node', node: i, ev: 'left' });
    await this.cluster.stop(i);
  }

  private dataTimeouts(n: KdmqNode): number {
    const t = n.kdmq.stats.timedOut;
    return (t.usrloc ?? 0) + (t.htable ?? 0);
  }

  /** data KDMQs that timed out so far, every incarnation counted */
  totalDataTimeouts(): number {
    return this.deadTimeouts + this.cluster.live().reduce((s, m) => s + this.dataTimeouts(m.node), 0);
  }

  /** nodeKey of node i's DMQ address (port 5090), built once: every write asks it of every live node */
  private dmqKey(i: number, ip: string): string {
    return (this.dmqKeys[i] ??= nodeKey({ host: ip, port: '5090', transport: null }));
  }

  /** a write at node i while it does not list every live node active cannot reach them all */
  private noteWriteRisk(i: number, what: string): void {
    const n = this.node(i);
    if (!n) return;
    const missing = this.cluster.live().filter((m) => m.index !== i && n.list.statusOfKey(this.dmqKey(m.index, m.ip)) !== 'active');
    if (missing.length > 0) this.dataRisk.push(`${what} at node ${i} while ${missing.map((m) => m.index).join(',')} not active there`);
  }

  /** UA `ua` sends a REGISTER to node i (expires 0 = unregister; newCall = new Call-ID, CSeq 1) */
  register(i: number, ua: number, expires: number, newCall = false): void {
    const s = this.uas.get(ua) ?? { gen: 0, cseq: 0 };
    if (newCall) s.gen++;
    s.cseq = newCall ? 1 : s.cseq + 1;
    this.uas.set(ua, s);
    const b = ++this.branch;
    const user = `u${ua % AORS}`;
    const ip = simIp(i);
    this.noteWriteRisk(i, `REGISTER ${user}`);
    this.monitor.note({ k: 'op', op: 'register', node: i, ua, expires, cseq: s.cseq, gen: s.gen });
    this.ua.send(this.uaEp, { host: ip, port: 5060 }, writeRequest({
      method: 'REGISTER',
      uri: `sip:${ip}`,
      headers: [
        ['Via', `SIP/2.0/UDP ${UA_HOST}:5070;branch=z9hG4bK-sim-${b}`],
        ['From', `<sip:${user}@${CLUSTER_NAME}>;tag=ua${b}`],
        ['To', `<sip:${user}@${CLUSTER_NAME}>`],
        ['Call-ID', `ua${ua}-${s.gen}@${UA_HOST}`],
        ['CSeq', `${s.cseq} REGISTER`],
        ['Contact', `<sip:ua${ua}@${UA_HOST}:5070>;expires=${expires}`],
        ['Max-Forwards', '70'],
        ['User-Agent', 'kdmq-check-ua'],
      ],
    }));
  }

  htSet(i: number, key: string, value: string): void {
    const app = this.apps[i];
    if (!app || !this.node(i)) return;
    this.noteWriteRisk(i, `htable set ${key}`);
    this.monitor.note({ k: 'op', op: 'htset', node: i, key, value });
    app.htable.store.set(HT_TABLE, key, { type: 2, strval: value });
  }

  htDelete(i: number, key: string): void {
    const app = this.apps[i];
    if (!app || !this.node(i)) return;
    this.noteWriteRisk(i, `htable delete ${key}`);
    this.monitor.note({ k: 'op', op: 'htdel', node: i, key });
    app.htable.store.delete(HT_TABLE, key);
  }

  live() {
    return this.cluster.live();
  }

  membershipViews() {
    return this.live().map((m) => ({ key: `${m.ip}:5090`, views: m.node.list.views() }));
  }

  bindings() {
    return this.live().map((m) => ({ key: `${m.ip}:5090`, records: Array.from(this.apps[m.index]!.registrar.store.all(), (b) => toRecord(b)) }));
  }

  htableItems() {
    return this.live().map((m) => {
      const slots = this.apps[m.index]!.htable.store.dump(HT_TABLE) ?? [];
      return { key: `${m.ip}:5090`, items: slots.flatMap((s) => s.items.map((it) => `${it.name}=${JSON.stringify(it.value)}`)) };
    });
  }

  async run(ms: number): Promise<void> {
    await this.cluster.run(ms);
  }
}
