// The one composition root: createNode(config, ports) builds a node from its config and one ports
// bundle (clock, random, resolver, transport, crypto, persistence, the REGISTER digest auth over its
// subscriber database, faults, log): the node's core here, then its applications (install-app.ts:
// registrar, usrloc and htable channels, anti-entropy, persistence). `kdmq serve`, the simulator
// and replay all call this one function; nothing here knows which world it runs in. DESIGN.md
// "The one factory".
// Traffic goes through the card's actors: the root actor (node-root-machine.ts) invokes the
// transport actor, which owns the sockets and the transactions (every KDMQ and reply is sent
// through it, every request and outcome comes from it to the root), and the notification cycle
// actor, whose machine holds the cycle's states and gets every notification request and outcome.

import { createActor, type Actor } from 'xstate';
import type { KdmqConfig } from '../../config/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Random } from '../../ports/random.ts';
import type { Resolver } from '../../ports/resolver.ts';
import { silentLog, type Log } from '../../ports/log.ts';
import { noFaults, type Faults } from '../../ports/faults.ts';
import type { Endpoint, Transport } from '../../transport/transport.ts';
import type { Persistence } from '../../persist/port.ts';
import type { DigestAuth } from '../../registrar/auth.ts';
import { installApp, type App } from './install-app.ts';
import { transportHandleOf, type TransportActorInput, type TransportInEvent, type TransportOutEvent } from '../../transport/transport-actor.ts';
import { transportInputOf, transportShortcut } from './root-transport.ts';
import { NodeList, nodeKey, type NodeId } from '../membership/node-list.ts';
import { CycleWork } from '../membership/notification-cycle.ts';
import { cycleSender, type CycleEvent, type notificationCycleMachine } from '../membership/notification-cycle-machine.ts';
import { nodeRootMachine } from './node-root-machine.ts';
import { KdmqClient } from '../dmq/kdmq-client.ts';
import { Router } from './router.ts';
import { LimitGuard } from '../channels/limits.ts';
import type { NodeCounters, NodeHandle } from '../channels/node-handle.ts';
import { KdmqAuth, keysFromConfig, type CryptoPort } from '../dmq/kdmq-auth.ts';
import { Replication } from '../channels/replication.ts';
import { dmqSocketOf, localNodeId, parseListen, seedIds } from './node-identity.ts';

export { localNodeId, parseListen } from './node-identity.ts';

export interface Ports {
  clock: Clock;
  random: Random;
  resolver: Resolver;
  transport: Transport;
  log?: Log;
  /** HMAC for signed KDMQ (dmq.secret / dmq.keyring); `kdmq serve` and the simulator provide it */
  crypto?: CryptoPort;
  /** bugs planted in this node (the simulator's tests only); absent = noFaults, as `kdmq serve` runs */
  faults?: Faults;
  /** durable storage for usrloc.db_mode 1/2/3 (SQLite or PostgreSQL in `kdmq serve`); absent = memory only */
  persistence?: Persistence;
  /** digest authentication of REGISTER over its subscriber database (auth.enable); absent = none */
  registerAuth?: DigestAuth;
}

/** the node's core, before its applications: its handle (actors/channels/node-handle.ts), with the router and the root actor themselves */
export interface NodeCore extends NodeHandle {
  readonly router: Router;
  readonly root: Actor<typeof nodeRootMachine>;
}

/** the node createNode returns: the core and its applications (the app's random is ports.random.fork('app')) */
export interface KdmqNode extends NodeCore {
  readonly app: App;
}

/** the parts createNode builds before the actors start */
interface Parts {
  config: KdmqConfig;
  ports: Ports;
  log: Log;
  local: NodeId;
  endpoints: Endpoint[];
  counters: NodeCounters;
  faults: Faults;
  list: NodeList;
  limits: LimitGuard;
  auth: KdmqAuth | null;
}

/** the two children of the root, once it runs: what the node sends through and posts to */
interface Children {
  transport: { send(e: TransportInEvent): void } | null;
  cycle: Actor<typeof notificationCycleMachine> | null;
}

export async function createNode(config: KdmqConfig, ports: Ports): Promise<KdmqNode> {
  const core = await startCore(config, ports);
  // installed right after the root started, as before the merge (the same timer order: trace hashes)
  return Object.assign(core, { app: installApp(core, ports) });
}

async function startCore(config: KdmqConfig, ports: Ports): Promise<NodeCore> {
  const p = await buildParts(config, ports);
  const transportInput = transportInputOf(config, ports, p.limits);
  const { log, list, limits } = p;
  // the root's children, read from its snapshot when first needed (the cycle's startup
  // notification is sent while the root starts); null again once the node stopped
  let root: Actor<typeof nodeRootMachine> | null = null;
  let stopped = false;
  const children: Children = { transport: null, cycle: null };
  const child = <K extends keyof Children>(k: K): Children[K] => {
    if (stopped || root === null) return null;
    return (children[k] ??= (root.getSnapshot().children[k] as Children[K] | undefined) ?? null);
  };
  // every command for the transport goes to the transport actor, every outcome to the cycle actor
  const toTransport = (e: TransportInEvent): void => {
    const h = stopped ? null : (transportHandleOf(transportInput) ?? null); // the shortcut: see root-transport.ts
    if (h !== null) h.handle(e);
    else child('transport')?.send(e);
  };
  let toCycle: ((e: CycleEvent) => void) | null = null; // the cycle's measured shortcut: cycleSender
  const post = (e: CycleEvent): void => void (child('cycle') && (toCycle ??= cycleSender(child('cycle')!))(e));
  const kdmq = buildKdmqClient(p, toTransport, post);
  // what waits for a removed node is dropped (counted); a full sync replaces it if it comes back
  list.onChange((c) => void (c.to === 'removed' && kdmq.flow.forget(c.key)));
  const replication = new Replication({ clock: ports.clock, list, kdmq, limits, log });
  const router = new Router({ config, list, counters: p.counters, log, limits, auth: p.auth, faults: p.faults, reply: toTransport });
  const cycle = buildCycleWork(p, kdmq);
  cycle.attach(post);
  router.setNotification((body, sender, maxForwards) => {
    let answer: string | null = null;
    post({ type: 'cycle.request', body, sender, maxForwards, respond: (b) => void (answer = b) });
    return answer;
  });
  const started = createRoot(p, transportInput, { work: cycle, onJoined: () => router.joined() }, router, kdmq);
  root = started;
  started.start();
  const startedAt = ports.clock.now();
  log.log('info', 'node started', { node: nodeKey(p.local), listen: p.endpoints.map((e) => `${e.host}:${e.port}`) });
  return {
    config,
    local: p.local,
    list,
    cycle,
    router,
    kdmq,
    counters: p.counters,
    limits,
    auth: p.auth,
    faults: p.faults,
    replication,
    startedAt,
    endpoints: p.endpoints,
    transport: ports.transport,
    transactionStats: () => (stopped ? null : (transportHandleOf(transportInput)?.stats ?? null)),
    root: started,
    addChannel: (ch) => router.addChannel(ch),
    setRegistrar: (h) => router.setRegistrar(h),
    onStatusChange: (fn) => list.onChange(fn),
    pingNow: () => started.send({ type: 'node.pingNow' }),
    async stop() {
      started.send({ type: 'node.stop' });
      // give the leave notice one event-loop turn to reach the transport before the actors stop
      await Promise.resolve();
      started.stop();
      stopped = true;
      list.stopAll();
      replication.stop();
    },
  };
}

async function buildParts(config: KdmqConfig, ports: Ports): Promise<Parts> {
  const log = ports.log ?? silentLog;
  const endpoints: Endpoint[] = [];
  for (const l of config.listen) endpoints.push(await ports.transport.bind(parseListen(l)));
  const local = localNodeId(config);
  const counters: NodeCounters = { badNodeLines: 0, rejectedSenders: 0, unknownChannel: 0, nodeListRefused: { max_nodes: 0, hostname: 0 } };
  const faults = ports.faults ?? noFaults;
  const list = new NodeList(local, ports.clock, config.dmq.fail_remove, faults);
  const limits = new LimitGuard(ports.clock, config.limits);
  const keys = keysFromConfig(config.dmq);
  if (typeof keys === 'string') throw new Error(`dmq.keyring: ${keys}`); // validated before: broken invariant
  if (keys !== null && !ports.crypto) throw new Error('dmq.secret/dmq.keyring need the crypto port');
  const auth = keys !== null && ports.crypto ? new KdmqAuth(ports.clock, ports.crypto, keys, config.dmq.kamailio_peers) : null;
  list.onChange((c) => log.log('info', 'membership change', { node: c.key, from: c.from, to: c.to, trigger: c.event }));
  return { config, ports, log, local, endpoints, counters, faults, list, limits, auth };
}

function buildKdmqClient(p: Parts, send: (e: TransportInEvent) => void, post: (e: CycleEvent) => void): KdmqClient {
  const { config, ports, log, limits, list, auth } = p;
  return new KdmqClient({
    clock: ports.clock,
    random: ports.random.fork('kdmq'),
    resolver: ports.resolver,
    local: p.local,
    socket: dmqSocketOf(p.local, p.endpoints),
    sockets: p.endpoints,
    send,
    onTimeout: (to, sentAt, sentWhile, channel) => {
      if (channel !== config.dmq.notification_channel) post({ type: 'cycle.dataTimedOut', to, sentAt, sentWhile });
    },
    statusOfKey: (key) => list.statusOfKey(key),
    sign: auth ? (out) => auth.sign(out) : undefined,
    flow: { inFlight: limits.config.peer_in_flight, queue: limits.config.peer_queue },
    notificationChannel: config.dmq.notification_channel,
    onDropBurst: (b) => {
      // only droppable messages (anti-entropy digests) are ever dropped: the next round repeats them
      if (b.phase === 'start') log.log('info', 'node queue full: dropping the oldest anti-entropy digests', { node: b.key, channel: b.channel, limit: limits.config.peer_queue });
      else log.log('info', 'node queue drained', { node: b.key, dropped: b.dropped });
    },
  });
}

function buildCycleWork(p: Parts, kdmq: KdmqClient): CycleWork {
  const { config, ports } = p;
  return new CycleWork({
    list: p.list,
    sender: kdmq,
    clock: ports.clock,
    resolver: ports.resolver,
    config: {
      channel: config.dmq.notification_channel,
      notificationAddresses: seedIds(config),
      multiNotify: config.dmq.multi_notify,
      failRemove: config.dmq.fail_remove,
    },
    counters: p.counters,
    maxNodes: p.limits.config.max_nodes,
    log: (msg, fields) => p.log.log('info', msg, fields),
  });
}

/**
 * The root actor (not started). A request or outcome whose handling throws (a bug) is logged and, for
 * a request, answered 500, so that one message cannot stop the node's actors (xstate stops an
 * actor whose action throws).
 */
function createRoot(p: Parts, transport: TransportActorInput, cycle: { work: CycleWork; onJoined: () => void }, router: Router, kdmq: KdmqClient): Actor<typeof nodeRootMachine> {
  const { config, ports, log } = p;
  let root!: Actor<typeof nodeRootMachine>;
  const failed = (err: unknown, what: string): void => log.log('error', 'internal error', { what, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  const route = (event: Extract<TransportOutEvent, { type: 'transport.received' }>): void => {
    try {
      router.route(event);
    } catch (err) {
      failed(err, `${event.request.method} from ${event.source.host}:${event.source.port}`);
      transportHandleOf(transport)?.handle({ type: 'transport.respond', txId: event.txId, status: 500, reason: 'Server Internal Error' });
    }
  };
  const complete = (event: Exclude<TransportOutEvent, { type: 'transport.received' }>): void => {
    try {
      kdmq.complete(event);
    } catch (err) {
      failed(err, `outcome of ${event.id}`);
    }
  };
  const machine = nodeRootMachine.provide({
    actors: { transport: transportShortcut(() => root, route, complete) },
    actions: { route: (_, { event }) => route(event), complete: (_, { event }) => complete(event) },
  });
  root = createActor(machine, {
    clock: ports.clock,
    input: { transport, cycle: { pingIntervalMs: config.dmq.ping_interval * 1000, leaveOnStop: config.dmq.leave_on_stop, ...cycle } },
  });
  return root;
}
