// Exhaustive mode for small scopes (issue "kdmq check" item 6): from a scenario's start state,
// explore every order of delivering or dropping the in-flight datagrams (and, within a tick
// budget, of firing the next timers), identifying states by a digest of the whole world and its
// pending timers (stateDigest, src/sim/state-digest.ts) so none is explored twice, and checking the
// safety invariants in every state. A state is reached by replaying its choice prefix from scratch:
// nodes are deterministic given their inputs. Past the state cap the result is `truncated`.

import { simIp, flush } from './cluster.ts';
import { ControlledNetwork } from './controlled-net.ts';
import { HT_TABLE, UA_HOST, World } from './world.ts';
import { checkSelfListed, type Violation } from './invariants.ts';
import { digestState, type Digest } from './state-digest.ts';
import { transportHandleOf } from '../transport/transport-actor.ts';
import type { PlantedBug } from '../ports/faults.ts';

export interface Scenario {
  describe: string;
  nodes: number;
  maxMessages: number;
  maxTicks: number;
  /** give up (truncated: `kdmq check` reports incomplete) after this many distinct states */
  maxStates?: number;
  setup(w: World, net: ControlledNetwork): Promise<void>;
}

/** the state cap when neither the scenario nor the caller sets one */
export const DEFAULT_MAX_STATES = 200_000;

export interface ExploreOptions {
  /** overrides the scenario's cap */
  maxStates?: number;
  /** bugs planted in every node (the checker's own tests) */
  plant?: readonly PlantedBug[];
}

export interface ExploreResult {
  states: number;
  /** the cap this exploration ran with */
  maxStates: number;
  replays: number;
  wallMs: number;
  /** the state cap was reached: the scope was not explored to the end (nothing else is cut off) */
  truncated: boolean;
  violation: Violation | null;
  /** the choices that lead to the violation: dN deliver, xN drop, t tick */
  path: string[];
}

const exConfig = (i: number, ip: string) => ({
  listen: [`udp:${ip}:5060`, `udp:${ip}:5090`],
  dmq: { server_address: `sip:${ip}:5090`, notification_address: i === 0 ? [] : [`sip:${simIp(0)}:5090`], ping_interval: 1 },
  sip: { t1: 100, t2: 400, kdmq_timeout: 250 },
  rpc: { listen: '' },
  registrar: { default_expires: 60, min_expires: 5 },
  htable: { tables: { [HT_TABLE]: { size: 4, dmqreplicate: true } } },
});

async function formed(w: World, nodes: number[]): Promise<void> {
  for (const i of nodes) await w.join(i);
  await w.run(300);
}

export const SCENARIOS: Record<string, Scenario> = {
  replicate: {
    describe: '2 nodes; a UA registers, refreshes and unregisters at node 0; every order and loss of the REGISTERs, KDMQs and 200s',
    nodes: 2,
    maxMessages: 9,
    maxTicks: 0,
    async setup(w, net) {
      await formed(w, [0, 1]);
      net.auto = false;
      w.register(0, 0, 60, true);
      w.register(0, 0, 90);
      w.register(0, 0, 0);
    },
  },
  join: {
    describe: '3 nodes; node 2 joins through node 0 while a UA registers at node 2; every order and loss',
    nodes: 3,
    maxMessages: 8,
    maxTicks: 0,
    async setup(w, net) {
      await formed(w, [0, 1]);
      net.auto = false;
      await w.join(2);
      w.register(2, 0, 60, true);
    },
  },
  crash: {
    describe: '3 nodes; node 2 crashes; every order and loss of the next pings, their time-outs and gossip',
    nodes: 3,
    maxMessages: 6,
    maxTicks: 7,
    async setup(w, net) {
      await formed(w, [0, 1, 2]);
      await w.run(1000);
      await w.crash(2);
      net.sinks.add(simIp(2));
      net.auto = false;
    },
  },
};

export interface Ctx {
  w: World;
  net: ControlledNetwork;
  ticks: number;
}

export async function build(sc: Scenario, plant?: readonly PlantedBug[]): Promise<Ctx> {
  let net!: ControlledNetwork;
  const w = await World.create({
    nodes: sc.nodes, seed: 'exhaustive', config: exConfig, plant,
    network: (clock, random, link) => (net = new ControlledNetwork({ clock, random, defaults: link })),
  });
  net.sinks.add(UA_HOST);
  await sc.setup(w, net);
  net.budget = sc.maxMessages;
  return { w, net, ticks: 0 };
}

export function choices(c: Ctx, sc: Scenario): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  c.net.inFlight.forEach((d, i) => {
    if (seen.has(d.key)) return;
    seen.add(d.key);
    out.push(`d${i}`, `x${i}`);
  });
  if (c.ticks < sc.maxTicks && c.w.clock.nextDue() !== undefined) out.push('t');
  return out;
}

export async function apply(c: Ctx, choice: string): Promise<void> {
  if (choice === 't') {
    c.ticks++;
    const due = c.w.clock.nextDue()!;
    while (c.w.clock.nextDue() === due) {
      c.w.clock.step();
      await flush();
    }
    return;
  }
  const i = Number(choice.slice(1));
  if (choice[0] === 'd') c.net.deliverAt(i);
  else c.net.dropAt(i);
  await flush();
}

/**
 * The state's identity for deduplication: the whole world (every node and application, the
 * network and its in-flight datagrams, the safety checkers' memory in the monitor) and the
 * clock's pending timers, as src/sim/state-digest.ts walks them; the monitor's trace lines are
 * left out (empty unless recording).
 */
export function stateDigest(c: Ctx, text = false): Digest {
  return digestState([['ticks', c.ticks], ['world', c.w]], {
    clock: c.w.clock,
    opaque: new Set([c.w.monitor.lines]),
    extra: transportState,
    text,
  });
}

/** a transport actor's input → its transaction layer and client transactions (held in closures) */
function transportState(o: object): unknown {
  const h = transportHandleOf(o);
  return h ? { layer: h.layer, clients: h.pendingClientTx() } : undefined;
}

function safety(c: Ctx): Violation | null {
  for (const m of c.w.live()) {
    const bad = checkSelfListed(m.node.list.views(), m.node.list.localKey);
    if (bad) c.w.monitor.violate('INV-02', bad, m.index);
  }
  return c.w.monitor.firstSafety() ?? null;
}

export async function explore(sc: Scenario, o: ExploreOptions = {}): Promise<ExploreResult> {
  const t0 = performance.now();
  const visited = new Set<string>();
  const stack: string[][] = [[]];
  let replays = 0;
  const maxStates = o.maxStates ?? sc.maxStates ?? DEFAULT_MAX_STATES;
  const result = (truncated: boolean, violation: Violation | null, path: string[]): ExploreResult =>
    ({ states: visited.size, maxStates, replays, wallMs: performance.now() - t0, truncated, violation, path });
  while (stack.length > 0) {
    let prefix = stack.pop()!;
    const c = await build(sc, o.plant);
    replays++;
    for (const ch of prefix) await apply(c, ch);
    for (;;) {
      const v = safety(c);
      if (v) return result(false, v, prefix);
      const h = stateDigest(c).hash;
      if (visited.has(h)) break;
      if (visited.size >= maxStates) return result(true, null, []); // a new state beyond the cap: incomplete
      visited.add(h);
      const next = choices(c, sc);
      if (next.length === 0) break;
      for (let i = next.length - 1; i >= 1; i--) stack.push([...prefix, next[i]]);
      await apply(c, next[0]);
      prefix = [...prefix, next[0]];
    }
  }
  return result(false, null, []);
}
