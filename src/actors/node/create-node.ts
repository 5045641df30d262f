// The one composition root: createNode(config, ports) builds a node from its config and its
// ports (clock, random, resolver, transport, log). `kdmq serve`, the simulator and replay all
// call it; nothing here knows which world it runs in. DESIGN.md "The one factory".

import { createActor, fromCallback, type Actor } from 'xstate';
import type { KdmqConfig } from '../../config/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Random } from '../../ports/random.ts';
import type { Resolver } from '../../ports/resolver.ts';
import { silentLog, type Log } from '../../ports/log.ts';
import { noFaults, type Faults } from '../../ports/faults.ts';
import type { Endpoint, Transport } from '../../transport/transport.ts';
import type { TransactionStats } from '../../transport/transactions.ts';
import { createTransportHandle, type TransportActorInput, type TransportHandle, type TransportInEvent, type TransportOutEvent } from '../../transport/transport-actor.ts';
import { parseUri } from '../../sip/index.ts';
import { NodeList, nodeKey, type NodeId, type StatusChange } from '../membership/node-list.ts';
import { NotificationCycle } from '../membership/notification-cycle.ts';
import { notificationCycleMachine } from '../membership/notification-cycle-machine.ts';
import { nodeRootMachine } from './node-root-machine.ts';
import { KdmqClient } from '../dmq/kdmq-client.ts';
import { Router, type DataChannel, type RequestHandler } from './router.ts';
import { LimitGuard } from './limits.ts';
import { KdmqAuth, keysFromConfig, type CryptoPort } from '../dmq/kdmq-auth.ts';
import { Replication } from '../channels/replication.ts';

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
}

export interface NodeCounters {
  badNodeLines: number;
  rejectedSenders: number;
  unknownChannel: number;
  /** node-list lines that would have created an entry and did not (limits.max_nodes, or a host name from a third party) */
  nodeListRefused: { max_nodes: number; hostname: number };
}

export interface KdmqNode {
  readonly config: KdmqConfig;
  readonly local: NodeId;
  readonly list: NodeList;
  readonly cycle: NotificationCycle;
  readonly router: Router;
  readonly kdmq: KdmqClient;
  readonly counters: NodeCounters;
  /** config `limits:` and the refusal counters (kdmq_limit_refusals_total) */
  readonly limits: LimitGuard;
  /** signed KDMQ, when dmq.secret or dmq.keyring is set */
  readonly auth: KdmqAuth | null;
  /** this node's planted faults (noFaults but in the simulator's tests); its applications read them too */
  readonly faults: Faults;
  /** what each node is owed of the local changes (the outbox), and admission control on it */
  readonly replication: Replication;
  readonly startedAt: number;
  readonly endpoints: Endpoint[];
  readonly transport: Transport;
  /** the transaction layer's counters (parse errors, 400s, retransmissions, time-outs); null before start / after stop */
  transactionStats(): TransactionStats | null;
  /** a data channel (usrloc, htable) plugs in here */
  addChannel(ch: DataChannel): void;
  /** the REGISTER handler plugs in here */
  setRegistrar(h: RequestHandler): void;
  onStatusChange(fn: (c: StatusChange) => void): void;
  pingNow(): void;
  /** leave notice (if configured), then stop actors; the transport is closed by its owner */
  stop(): Promise<void>;
  readonly root: Actor<typeof nodeRootMachine>;
}

export function parseListen(l: string): Endpoint {
  const m = /^(udp|tcp|tls):(\[([0-9a-fA-F:.]+)\]|([\d.]+)):(\d+)$/.exec(l)!;
  const ep: Endpoint = { host: m[3] ?? m[4], port: Number(m[5]) };
  if (m[1] !== 'udp') ep.proto = m[1] as 'tcp' | 'tls';
  return ep;
}

export function localNodeId(config: KdmqConfig): NodeId {
  const addr = config.dmq.server_address ?? `sip:${parseListen(config.listen[0]).host}:${parseListen(config.listen[0]).port}`;
  const u = parseUri(addr);
  if (!u.ok) throw new Error(`dmq.server_address: ${u.error}`); // validated before: broken invariant
  const t = u.value.params.find(([n]) => n === 'transport')?.[1] ?? null;
  return { host: u.value.host, port: u.value.portText, transport: t && t.toLowerCase() !== 'udp' ? t.toLowerCase() : null };
}

function seedIds(config: KdmqConfig): NodeId[] {
  const out: NodeId[] = [];
  for (const a of config.dmq.notification_address) {
    const u = parseUri(a);
    if (!u.ok) continue;
    const t = u.value.params.find(([n]) => n === 'transport')?.[1] ?? null;
    out.push({ host: u.value.host, port: u.value.portText, transport: t && t.toLowerCase() !== 'udp' ? t.toLowerCase() : null });
  }
  return out;
}

export async function createNode(config: KdmqConfig, ports: Ports): Promise<KdmqNode> {
  const log = ports.log ?? silentLog;
  const endpoints: Endpoint[] = [];
  for (const l of config.listen) endpoints.push(await ports.transport.bind(parseListen(l)));
  const local = localNodeId(config);
  const bare = local.host.replace(/^\[|\]$/g, '');
  const localProto = local.transport ?? 'udp';
  const dmqSocket =
    endpoints.find((e) => e.host === bare && String(e.port) === (local.port || '5060') && (e.proto ?? 'udp') === localProto) ??
    endpoints.find((e) => e.host === bare && String(e.port) === (local.port || '5060')) ??
    endpoints[0];
  const counters: NodeCounters = { badNodeLines: 0, rejectedSenders: 0, unknownChannel: 0, nodeListRefused: { max_nodes: 0, hostname: 0 } };
  const faults = ports.faults ?? noFaults;
  const list = new NodeList(local, ports.clock, config.dmq.fail_remove, faults);
  const limits = new LimitGuard(ports.clock, config.limits);
  const keys = keysFromConfig(config.dmq);
  if (typeof keys === 'string') throw new Error(`dmq.keyring: ${keys}`); // validated before: broken invariant
  if (keys !== null && !ports.crypto) throw new Error('dmq.secret/dmq.keyring need the crypto port');
  const auth = keys !== null && ports.crypto ? new KdmqAuth(ports.clock, ports.crypto, keys, config.dmq.kamailio_peers) : null;
  list.onChange((c) => log.log('info', 'membership change', { node: c.key, from: c.from, to: c.to, trigger: c.event }));

  let root!: Actor<typeof nodeRootMachine>;
  // commands for the transport go straight to the transport actor's handle (what its receive
  // does) rather than through a root event relayed by sendTo and the actor's mailbox: same order
  // (the transport never answers synchronously), two xstate macrosteps less per datagram sent
  const toTransport = (e: TransportInEvent): void => {
    const t = root.getSnapshot().children.transport;
    if (t !== undefined && transportHandle !== null && root.getSnapshot().status === 'active') transportHandle.handle(e);
    else root.send({ type: 'node.transport', event: e });
  };
  const kdmq = new KdmqClient({
    clock: ports.clock,
    random: ports.random.fork('kdmq'),
    resolver: ports.resolver,
    local,
    socket: dmqSocket,
    sockets: endpoints,
    send: (e) => toTransport(e),
    onTimeout: (to, sentAt, sentWhile, channel) => {
      if (channel !== config.dmq.notification_channel) cycle.dataTimedOut(to, sentAt, sentWhile);
    },
    statusOfKey: (key) => list.statusOfKey(key),
    sign: auth ? (out) => auth.sign(out) : undefined,
    flow: { inFlight: limits.config.peer_in_flight, queue: limits.config.peer_queue },
    notificationChannel: config.dmq.notification_channel,
    onDropBurst: (b) => {
      // only droppable messages (anti-entropy digests) are ever dropped: the next round repeats them
      if (b.phase === 'start') log.log('info', 'peer queue full: dropping the oldest anti-entropy digests', { node: b.key, channel: b.channel, limit: limits.config.peer_queue });
      else log.log('info', 'peer queue drained', { node: b.key, dropped: b.dropped });
    },
  });
  // what waits for a node that left the list is dropped (counted) rather than kept; replicated
  // changes it was owed are dropped with it and replaced by a full sync if it comes back
  list.onChange((c) => {
    if (c.to === 'removed') kdmq.flow.forget(c.key);
  });
  const replication = new Replication({ clock: ports.clock, list, kdmq, limits, log });
  const router = new Router({ config, list, counters, log, limits, auth, faults, reply: (e) => toTransport(e) });
  const cycle = new NotificationCycle({
    list,
    sender: kdmq,
    clock: ports.clock,
    resolver: ports.resolver,
    config: {
      channel: config.dmq.notification_channel,
      notificationAddresses: seedIds(config),
      multiNotify: config.dmq.multi_notify,
      failRemove: config.dmq.fail_remove,
    },
    counters,
    maxNodes: limits.config.max_nodes,
    onJoined: () => router.joined(),
    log: (msg, fields) => log.log('info', msg, fields),
  });
  router.setCycle(cycle);

  // transport events go straight to the root's route/complete actions while it runs, as
  // toTransport does for sends: one xstate macrostep (and snapshot) less per datagram received.
  // One raised while another is being handled waits for it, as in the root's mailbox; a root that
  // stopped gets them through xstate as before.
  const upQueue: TransportOutEvent[] = [];
  let upBusy = false;
  const toRoot = (e: TransportOutEvent, sendBack: (e: TransportOutEvent) => void): void => {
    if (root.getSnapshot().status !== 'active') return sendBack(e);
    upQueue.push(e);
    if (upBusy) return;
    upBusy = true;
    try {
      for (let x = upQueue.shift(); x !== undefined; x = upQueue.shift()) {
        if (x.type === 'transport.received') router.route(x);
        else kdmq.complete(x);
      }
    } finally {
      upBusy = false;
    }
  };

  let transportHandle: TransportHandle | null = null;
  const machine = nodeRootMachine.provide({
    actors: {
      // transportActor, keeping its handle so transactionStats() can read the layer's counters
      transport: fromCallback<TransportInEvent, TransportActorInput>(({ input, sendBack, receive }) => {
        const handle = createTransportHandle(input, (e) => toRoot(e, sendBack));
        transportHandle = handle;
        receive((e) => handle.handle(e));
        return () => void handle.stop();
      }),
      cycle: notificationCycleMachine.provide({
        actions: {
          startup: () => void cycle.startup(),
          ping: () => void cycle.ping(),
          leave: () => {
            if (config.dmq.leave_on_stop) cycle.leave();
          },
        },
      }),
    },
    actions: {
      route: (_, { event }) => router.route(event),
      complete: (_, { event }) => kdmq.complete(event),
    },
  });
  const timeoutF = config.sip.kdmq_timeout > 0 ? config.sip.kdmq_timeout : undefined;
  root = createActor(machine, {
    clock: ports.clock,
    input: {
      transport: {
        transport: ports.transport,
        clock: ports.clock,
        random: ports.random.fork('transport'),
        timers: { t1: config.sip.t1, t2: config.sip.t2, t4: config.sip.t4, ...(timeoutF ? { timeoutF } : {}) },
        closeOnStop: false,
        limits: {
          maxDatagram: limits.config.max_datagram,
          maxHeaders: limits.config.max_headers,
          maxBody: limits.config.max_body,
          maxPendingServer: limits.config.max_pending_transactions,
          maxQueueWait: limits.config.max_queue_wait,
          maxStreamMessage: config.tcp?.max_message ?? 1_048_576,
        },
        onRefused: (l) => void limits.refusals[l]++,
      },
      cycle: { pingIntervalMs: config.dmq.ping_interval * 1000 },
    },
  });
  const startedAt = ports.clock.now();
  root.start();
  log.log('info', 'node started', { node: nodeKey(local), listen: endpoints.map((e) => `${e.host}:${e.port}`) });

  return {
    config,
    local,
    list,
    cycle,
    router,
    kdmq,
    counters,
    limits,
    auth,
    faults,
    replication,
    startedAt,
    endpoints,
    transport: ports.transport,
    transactionStats: () => transportHandle?.stats ?? null,
    root,
    addChannel: (ch) => router.addChannel(ch),
    setRegistrar: (h) => router.setRegistrar(h),
    onStatusChange: (fn) => list.onChange(fn),
    pingNow: () => root.send({ type: 'node.pingNow' }),
    async stop() {
      root.send({ type: 'node.stop' });
      // give the leave notice one event-loop turn to reach the transport before the actors stop
      await Promise.resolve();
      root.stop();
      list.stopAll();
      replication.stop();
    },
  };
}
