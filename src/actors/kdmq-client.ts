// Sends KDMQ requests as protocol reference §1.1 and §10 item 2 say: R-URI and To
// sip:<channel>@<host>:<port>, From = our server_address with the channel as user and a tag,
// CSeq 10 KDMQ, a fresh Call-ID, Max-Forwards, Content-Type, Content-Length always. Correlates
// transport outcomes back to callers; a time-out is reported as code 408.

import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { Resolver } from '../ports/resolver.ts';
import type { NodeStatus } from '../dmq/node-list.ts';
import { isIpLiteralHost } from '../dmq/node-list.ts';
import type { Endpoint } from '../transport/transport.ts';
import type { OutgoingRequest } from '../sip/types.ts';
import type { TransportInEvent, TransportOutEvent } from '../transport/transport-actor.ts';
import type { DmqSender, KdmqOutcome, KdmqSend } from './dmq-sender.ts';
import { nodeKey, type NodeId } from './node-list.ts';
import { PeerFlow, type DropBurst, type PeerFlowConfig } from './peer-flow.ts';

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
  statusOf: (id: NodeId) => NodeStatus | undefined;
  /** signed KDMQ: the header to append (kdmq-auth.ts) */
  sign?: (out: OutgoingRequest) => [string, string];
  /** per-peer flow control (peer-flow.ts); absent: 64 in flight, 10 000 waiting, 16/256 for notifications */
  flow?: Partial<PeerFlowConfig>;
  /** the notification channel: its own lane, never behind data */
  notificationChannel?: string;
  /** a burst of dropped data messages for one peer starts or ends */
  onDropBurst?: (b: DropBurst) => void;
}

export const DEFAULT_FLOW: PeerFlowConfig = { inFlight: 64, queue: 10_000, notifyInFlight: 16, notifyQueue: 256 };

interface Pending {
  m: KdmqSend;
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
  private readonly callIdBase: string;

  /** per-peer in-flight caps and bounded queues: every send() goes through it */
  readonly flow: PeerFlow;

  constructor(private readonly d: KdmqClientDeps) {
    this.callIdBase = d.random.hex(8);
    this.flow = new PeerFlow({ ...DEFAULT_FLOW, ...d.flow }, d.notificationChannel ?? 'notification_peer', (m) => this.dispatch(m), d.onDropBurst);
  }

  /** queued per peer when its lane is full (peer-flow.ts); `done` is called once, also when dropped */
  send(m: KdmqSend): void {
    this.flow.submit(m);
  }

  private dispatch(m: KdmqSend): void {
    const host = m.to.host.replace(/^\[|\]$/g, '');
    const port = Number(m.to.port || '5060');
    if (isIpLiteralHost(m.to.host)) {
      this.sendTo(m, { host, port });
      return;
    }
    void this.d.resolver.a(m.to.host).then((r) => {
      if (r.ok && r.records.length > 0) this.sendTo(m, { host: r.records[0], port });
      else m.done?.({ code: 408, reason: `cannot resolve ${m.to.host}`, body: '' });
    });
  }

  private sendTo(m: KdmqSend, to: Endpoint): void {
    const n = ++this.seq;
    const id = `${m.channel}/${nodeKey(m.to)}/${n}`;
    const uri = `sip:${m.channel}@${hostPort(m.to)}`;
    const from = `<sip:${m.channel}@${hostPort(this.d.local)}>;tag=${this.d.random.hex(8)}`;
    this.pending.set(id, { m, sentAt: this.d.clock.now(), sentWhile: this.d.statusOf(m.to) ?? 'pending' });
    this.stats.sent[m.channel] = (this.stats.sent[m.channel] ?? 0) + 1;
    const request: OutgoingRequest = {
      method: 'KDMQ',
      uri,
      headers: [
        ['To', `<${uri}>`],
        ['From', from],
        ['CSeq', '10 KDMQ'],
        ['Call-ID', `${this.callIdBase}-${n}@${this.d.socket.host}`],
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
      out = { code: e.response.status, reason: e.response.reason, body: e.response.bodyText() };
    }
    p.m.done?.(out);
  }

  inFlight(): number {
    return this.pending.size;
  }

  /** requests waiting for a free slot of their peer */
  queued(): number {
    return this.flow.queued();
  }
}
