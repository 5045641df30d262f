// A simulated cluster: N nodes built by the same factory as `kdmq serve` (createNode, the
// applications included), on one
// SimNetwork, one VirtualClock, simulated DNS and a seeded random forked per node. One process,
// no sockets, no real timers: the same seed gives the same run. Used by tests and `kdmq check`.

import { createNode, type KdmqNode, type Ports } from '../actors/node/create-node.ts';
import { nodeCrypto } from '../ports/node-crypto.ts';
import { validateConfig } from '../config/load.ts';
import type { KdmqConfig } from '../config/types.ts';
import { SeededRandom, type Random } from '../ports/random.ts';
import { VirtualClock } from '../ports/virtual-clock.ts';
import type { Log } from '../ports/log.ts';
import type { Clock } from '../ports/clock.ts';
import { noFaults, type Faults } from '../ports/faults.ts';
import { SimNetwork, type LinkParams } from '../transport/sim-transport.ts';
import { SimDns } from './sim-dns.ts';

export interface SimClusterOptions {
  seed: string;
  /** raw config per node (validated), given the node's index and IP */
  config: (i: number, ip: string) => Record<string, unknown>;
  link?: Partial<LinkParams>;
  log?: (node: number) => Log;
  /** extra setup per node once the factory built it (hooks on node.app), before it is considered started */
  install?: (node: KdmqNode, i: number) => void;
  /** the clock node i's ports get (default: the shared clock; the checker gives offset clocks) */
  clockFor?: (i: number) => Clock;
  /** build the network (default SimNetwork; the exhaustive explorer passes a controlled one) */
  network?: (clock: VirtualClock, random: Random, link?: Partial<LinkParams>) => SimNetwork;
  /** the bugs planted in node i (its own faults port; default none) */
  faults?: (i: number) => Faults;
  /** wrap node i's ports before createNode (the trace recorder plugs in here; persistence too) */
  ports?: (i: number, ports: Ports) => Ports;
}

export interface SimMember {
  index: number;
  ip: string;
  node: KdmqNode | null;
  config: KdmqConfig;
}

export const simIp = (i: number) => `127.0.1.${i + 1}`;

export class SimCluster {
  readonly clock = new VirtualClock(1_795_000_000_000);
  readonly random: Random;
  readonly net: SimNetwork;
  readonly dns: SimDns;
  readonly members: SimMember[] = [];
  /** per member: marks its current incarnation dead (crash or stop) */
  private readonly fences: Array<() => void> = [];

  constructor(readonly opts: SimClusterOptions) {
    this.random = new SeededRandom(opts.seed);
    this.net = opts.network
      ? opts.network(this.clock, this.random.fork('net'), opts.link)
      : new SimNetwork({ clock: this.clock, random: this.random.fork('net'), defaults: opts.link });
    this.dns = new SimDns(this.clock);
  }

  configFor(i: number): KdmqConfig {
    const r = validateConfig(this.opts.config(i, simIp(i)));
    if (!r.ok) throw new Error(`sim node ${i}: ${r.error}`);
    return r.config;
  }

  /** start node i (again, after a crash: a fresh node with no state) */
  async start(i: number): Promise<KdmqNode> {
    const config = this.configFor(i);
    const life = { alive: true };
    this.fences[i] = () => void (life.alive = false);
    const ports: Ports = {
      clock: this.opts.clockFor?.(i) ?? this.clock,
      random: this.random.fork(`node${i}/${this.clock.now()}`),
      resolver: this.dns.forNode(() => life.alive), // answers to a dead incarnation are dropped (counted)
      transport: this.net.transport(),
      log: this.opts.log?.(i),
      crypto: nodeCrypto,
      faults: this.opts.faults?.(i) ?? noFaults,
    };
    const node = await createNode(config, this.opts.ports ? this.opts.ports(i, ports) : ports);
    this.opts.install?.(node, i);
    this.members[i] = { index: i, ip: simIp(i), node, config };
    await flush();
    return node;
  }

  /** crash node i: its sockets vanish, its state is lost, nothing is announced */
  async crash(i: number): Promise<void> {
    const m = this.members[i];
    if (!m?.node) return;
    const t = m.node;
    m.node = null;
    this.fences[i]?.();
    t.root.stop();
    t.list.stopAll();
    await closeTransport(t);
  }

  /** clean stop of node i (leave notice) */
  async stop(i: number): Promise<void> {
    const m = this.members[i];
    if (!m?.node) return;
    const t = m.node;
    m.node = null;
    await t.stop();
    this.fences[i]?.();
    await closeTransport(t);
  }

  live(): Array<SimMember & { node: KdmqNode }> {
    return this.members.filter((m): m is SimMember & { node: KdmqNode } => m?.node != null);
  }

  /** run virtual time forward, letting promise continuations settle after every timer */
  async run(ms: number): Promise<void> {
    const until = this.clock.now() + ms;
    for (;;) {
      const due = this.clock.nextDue();
      if (due === undefined || due > until) break;
      this.clock.step();
      // flush() inlined (no async frame and promise per step): its 8 awaits plus the one that
      // awaiting its promise costs, so continuations interleave exactly as with `await flush()`
      for (let i = 0; i < FLUSH_TICKS; i++) await SETTLED;
    }
    this.clock.runUntil(until);
    await flush();
  }
}

async function closeTransport(n: KdmqNode): Promise<void> {
  await n.transport.close();
}

/** awaited by flush: an already-settled promise takes the same one tick as a new one, without the allocation */
const SETTLED = Promise.resolve();

/** microtask ticks `await flush()` takes: flush's own 8 awaits and the await of its promise */
const FLUSH_TICKS = 9;

export async function flush(): Promise<void> {
  for (let i = 0; i < 8; i++) await SETTLED;
}
