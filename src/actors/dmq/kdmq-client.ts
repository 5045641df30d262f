// Sends KDMQ requests as protocol reference §1.1 and §10 item 2 say: R-URI and To
// sip:<channel>@<host>:<port>, From = our server_address with the channel as user and a tag,
// CSeq 10 KDMQ, a fresh Call-ID, Max-Forwards, Content-Type, Content-Length always. Correlates
// transport outcomes back to callers; a time-out is reported as code 408.

import type { Clock } from '../../ports/clock.ts';
import type { Random } from '../../ports/random.ts';
import type { Resolver } from '../../ports/resolver.ts';
import type { NodeStatus } from '../membership/node-list-body.ts';
import { isIpLiteralHost } from '../membership/node-list-body.ts';
import type { Endpoint } from '../../transport/transport.ts';
import type { OutgoingRequest } from '../../sip/types.ts';
import type { TransportInEvent, TransportOutEvent } from '../../transport/transport-actor.ts';
import type { DmqSender, KdmqOutcome, KdmqSend } from './dmq-sender.ts';
import type { NodeId } from '../membership/node-list.ts';
import { PeerFlow, type DropBurst, type PeerFlowConfig } from './node-flow.ts';

export const USER_AGENT = 'kdmq (0.1.0)';

export interface KdmqClientDeps {
  clock: Clock;
  random: Random;
  resolver: Resolver;
  local: NodeId;
  socket: Endpoint;
  /** every bound socket: a node whose URI says ;transport=tcp|tls is sent to from the socket of that proto */
  sockets?: Endpoint[];
  send: (e: TransportInEvent) => void;
  onTimeout: (to: NodeId, sentAt: number, sentWhile: NodeStatus, channel: string) => void;
  /** a node's status by its node key (node-list.ts nodeKey) */
  statusOfKey: (key: string) => NodeStatus | undefined;
  /** signed KDMQ: the header to append (kdmq-auth.ts) */
  sign?: (out: OutgoingRequest) => [string, string];
  /** per-node flow control (node-flow.ts); absent: 64 in flight, 10 000 waiting, 16/256 for notifications */
  flow?: Partial<PeerFlowConfig>;
  /** the notification channel: its own lane, never behind data */
  notificationChannel?: string;
  /** a burst of dropped data messages for one peer starts or ends */
  onDropBurst?: (b: DropBurst) => void;
}

export const DEFAULT_FLOW: PeerFlowConfig = { inFlight: 64, queue: 10_000, notifyInFlight: 16, notifyQueue: 256 };

interface Pending {
  m: KdmqSend;
  key: string;
  sentAt: number;
  sentWhile: NodeStatus;
}

export interface KdmqStats {
  sent: Record<string, number>;
  timedOut: Record<string, number>;
  answered: Record<string, number>;
}

const hostPort = (id: NodeId) => `${id.host}:${id.port || '5060'}${id.transport ? `;transport=${id.transport}` : ''}`;

export class KdmqClient implements DmqSender {
  private seq = 0;
  private readonly pending = new Map<string, Pending>();
  readonly stats: KdmqStats = { sent: {}, timedOut: {}, answered: {} };
  /** Call-IDs are `<callIdBase>-<n>@<dmq socket host>`: all but n fixed per client */
  private readonly callIdPrefix: string;
  private readonly callIdSuffix: string;
  /** per channel, the From up to its tag value: `<sip:<channel>@<our host:port>>;tag=` */
  private readonly fromPrefixes = new Map<string, string>();
  /** per peer host as listed: without IPv6 brackets, and whether it is an IP literal (pure, bounded) */
  private readonly hosts = new Map<string, { bare: string; literal: boolean }>();

  /** per-peer in-flight caps and bounded queues: every send() goes through it */
  readonly flow: PeerFlow;

  constructor(private readonly d: KdmqClientDeps) {
    this.callIdPrefix = `${d.random.hex(8)}-`;
    this.callIdSuffix = `@${d.socket.host}`;
    this.flow = new PeerFlow({ ...DEFAULT_FLOW, ...d.flow }, d.notificationChannel ?? 'notification_peer', (m, key) => this.dispatch(m, key), d.onDropBurst);
  }

  /** queued per peer when its lane is full (node-flow.ts); `done` is called once, also when dropped */
  send(m: KdmqSend): void {
    this.flow.submit(m);
  }

  /** `key`: the node key of m.to (peer-flow computed it) */
  private dispatch(m: KdmqSend, key: string): void {
    const host = this.hostInfo(m.to.host);
    const port = Number(m.to.port || '5060');
    if (host.literal) {
      this.sendTo(m, { host: host.bare, port }, key);
      return;
    }
    void this.d.resolver.a(m.to.host).then((r) => {
      if (r.ok && r.records.length > 0) this.sendTo(m, { host: r.records[0], port }, key);
      else m.done?.({ code: 408, reason: `cannot resolve ${m.to.host}`, body: '' });
    });
  }

  private sendTo(m: KdmqSend, to: Endpoint, key: string): void {
    const n = ++this.seq;
    const id = `${m.channel}/${key}/${n}`;
    const uri = `sip:${m.channel}@${hostPort(m.to)}`;
    const from = `${this.fromPrefix(m.channel)}${this.d.random.hex(8)}`;
    this.pending.set(id, { m, key, sentAt: this.d.clock.now(), sentWhile: this.d.statusOfKey(key) ?? 'pending' });
    this.stats.sent[m.channel] = (this.stats.sent[m.channel] ?? 0) + 1;
    const request: OutgoingRequest = {
      method: 'KDMQ',
      uri,
      headers: [
        ['To', `<${uri}>`],
        ['From', from],
        ['CSeq', '10 KDMQ'],
        ['Call-ID', `${this.callIdPrefix}${n}${this.callIdSuffix}`],
        ['User-Agent', USER_AGENT],
        ['Max-Forwards', String(m.maxForwards)],
        ['Content-Type', m.contentType],
      ],
      body: m.body,
    };
    if (this.d.sign) request.headers.push(this.d.sign(request));
    const proto = m.to.transport === 'tcp' || m.to.transport === 'tls' ? m.to.transport : undefined;
    const socket = proto ? this.socketFor(proto) : this.d.socket;
    this.d.send({ type: 'transport.request', id, from: socket, to: proto ? { ...to, proto } : to, request });
  }

  private hostInfo(host: string): { bare: string; literal: boolean } {
    let h = this.hosts.get(host);
    if (h === undefined) {
      h = { bare: host.replace(/^\[|\]$/g, ''), literal: isIpLiteralHost(host) };
      if (this.hosts.size >= 1024) this.hosts.clear();
      this.hosts.set(host, h);
    }
    return h;
  }

  private fromPrefix(channel: string): string {
    let p = this.fromPrefixes.get(channel);
    if (p === undefined) {
      p = `<sip:${channel}@${hostPort(this.d.local)}>;tag=`;
      this.fromPrefixes.set(channel, p);
    }
    return p;
  }

  /** the socket KDMQ to a tcp/tls node leave from: the dmq socket if it has that proto, else one on its host */
  private socketFor(proto: 'tcp' | 'tls'): Endpoint {
    const s = this.d.socket;
    if (s.proto === proto) return s;
    const all = this.d.sockets ?? [];
    return all.find((e) => e.proto === proto && e.host === s.host) ?? all.find((e) => e.proto === proto) ?? { host: s.host, port: s.port, proto };
  }

  /** a transport outcome for one of our requests */
  complete(e: Exclude<TransportOutEvent, { type: 'transport.received' }>): void {
    const p = this.pending.get(e.id);
    if (!p) return;
    this.pending.delete(e.id);
    const ch = p.m.channel;
    let out: KdmqOutcome;
    if (e.type === 'transport.timedOut') {
      this.stats.timedOut[ch] = (this.stats.timedOut[ch] ?? 0) + 1;
      out = { code: 408, reason: 'Request Timeout', body: '' };
      this.d.onTimeout(p.m.to, p.sentAt, p.sentWhile, ch);
    } else {
      this.stats.answered[ch] = (this.stats.answered[ch] ?? 0) + 1;
      for (const fn of this.answerObservers) fn(p.key);
      const server = e.response.get('server');
      out = { code: e.response.status, reason: e.response.reason, body: e.response.bodyText(), ...(server !== undefined ? { server } : {}) };
    }
    p.m.done?.(out);
  }

  private readonly answerObservers: Array<(key: string) => void> = [];

  /** `fn(nodeKey)` on every answer (any code) to one of our requests: the node is alive */
  onAnswer(fn: (key: string) => void): void {
    this.answerObservers.push(fn);
  }

  inFlight(): number {
    return this.pending.size;
  }

  /** requests waiting for a free slot of their peer */
  queued(): number {
    return this.flow.queued();
  }
}
