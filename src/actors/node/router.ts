// Routes every new inbound request (protocol reference §1.2): OPTIONS → 200; KDMQ → the channel
// named by the Request-URI user (404 for an unknown one, 403 for senders outside dmq.allow or,
// on data channels, not active in the node list); REGISTER → the registrar; anything else →
// routing.other_reply. Replies to data channels never carry a body (§2.2). Also applies the
// REGISTER rate and sync-request limits (limits.ts) and, in signed mode, KDMQ signatures
// (kdmq-auth.ts): each refusal a SIP error with a reason and a count.

import type { KdmqConfig } from '../../config/types.ts';
import type { Log } from '../../ports/log.ts';
import type { SipRequest } from '../../sip/types.ts';
import type { Endpoint } from '../../transport/transport.ts';
import type { TransportInEvent, TransportOutEvent } from '../../transport/transport-actor.ts';
import { cidrContains, parseCidr, type Cidr } from '../dmq/cidr.ts';
import type { NodeCounters } from '../channels/node-handle.ts';
import { nodeKey, type NodeList, type NodeId } from '../membership/node-list.ts';
import { noFaults, type Faults } from '../../ports/faults.ts';
import type { LimitGuard } from '../channels/limits.ts';
import type { DataChannel, Reply, RequestHandler } from '../channels/channel.ts';
import type { KdmqAuth } from '../dmq/kdmq-auth.ts';

export interface RouterDeps {
  config: KdmqConfig;
  list: NodeList;
  counters: NodeCounters;
  log: Log;
  reply: (e: TransportInEvent) => void;
  limits?: LimitGuard;
  auth?: KdmqAuth | null;
  /** planted faults (the simulator's tests); absent = none */
  faults?: Faults;
}

export function senderOf(req: SipRequest): NodeId | null {
  const f = req.from();
  if (!f.ok) return null;
  const u = f.value.uri;
  const t = u.params.find(([n]) => n === 'transport')?.[1] ?? null;
  return { host: u.host, port: u.portText, transport: t && t.toLowerCase() !== 'udp' ? t.toLowerCase() : null };
}

function fnv(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/** a To tag derived from the request and this node (stateless-reply style, `<hex>.<hex>`); `local` = localTagPart(localKey), which a Router works out once */
export function toTagFor(req: SipRequest, localKey: string, local = localTagPart(localKey)): string {
  const cid = req.callId();
  const from = req.from();
  const callId = cid.ok ? cid.value : '';
  const tag = from.ok ? (from.value.params.find(([n]) => n === 'tag')?.[1] ?? '') : '';
  // FNV-1a of `${callId}|${tag}`, hashed part by part (the same value, without building that string)
  const a = fnv(tag, fnv('|', fnv(callId)));
  const b = fnv(tag, fnv('|', fnv(callId, 0x1234567)));
  return `${hex8(a)}${hex8(b)}.${local}`;
}

/** h (an unsigned 32-bit number) as 8 lower-case hex digits, in one string allocation */
function hex8(h: number): string {
  return String.fromCharCode(hexDigit(h >>> 28), hexDigit((h >>> 24) & 15), hexDigit((h >>> 20) & 15), hexDigit((h >>> 16) & 15), hexDigit((h >>> 12) & 15), hexDigit((h >>> 8) & 15), hexDigit((h >>> 4) & 15), hexDigit(h & 15));
}

function hexDigit(n: number): number {
  return n < 10 ? 48 + n : 87 + n; // '0'…'9', 'a'…'f'
}

/** the node's part of every To tag it writes (each Router keeps its node's: nothing shared between nodes of one process) */
export function localTagPart(localKey: string): string {
  return fnv(localKey).toString(16).padStart(8, '0');
}

export class Router {
  /** a notification request, handed to the notification cycle actor: our 200's body, null when it stopped */
  private notification: (body: string, sender: NodeId | null, maxForwards: number) => string | null = () => null;
  private registrar: RequestHandler | null = null;
  private readonly channels = new Map<string, DataChannel>();
  private readonly allow: Cidr[] | null;
  /** the planted fault 'accept-unknown-senders' (src/ports/faults.ts), read once */
  private readonly acceptUnknownSenders: boolean;
  /** this node's part of the To tags it writes (localTagPart of its key, which never changes) */
  private readonly tagPart: string;
  readonly stats = { received: {} as Record<string, number> };

  constructor(private readonly d: RouterDeps) {
    this.allow = d.config.dmq.allow ? d.config.dmq.allow.map((c) => parseCidr(c)!).filter(Boolean) : null;
    this.acceptUnknownSenders = (d.faults ?? noFaults).has('accept-unknown-senders');
    d.list.versions.setOverrides(d.config.dmq.kamailio_versions ?? {}); // dmq.kamailio_versions (node-dialect.ts)
    this.tagPart = localTagPart(d.list.localKey);
  }

  /** where notification requests go: the notification cycle actor (create-node.ts) */
  setNotification(fn: (body: string, sender: NodeId | null, maxForwards: number) => string | null): void {
    this.notification = fn;
  }
  setRegistrar(h: RequestHandler): void {
    this.registrar = h;
  }
  addChannel(ch: DataChannel): void {
    this.channels.set(ch.name, ch);
  }
  channelNames(): string[] {
    return [this.d.config.dmq.notification_channel, ...this.channels.keys()];
  }

  /** the init callbacks of every channel, once per (re)join */
  joined(): void {
    for (const ch of this.channels.values()) ch.onJoined?.();
  }

  route(e: Extract<TransportOutEvent, { type: 'transport.received' }>): void {
    const r = this.dispatch(e.request, e.source, e.local);
    const toTag = toTagFor(e.request, this.d.list.localKey, this.tagPart);
    this.d.reply({ type: 'transport.respond', txId: e.txId, status: r.status, reason: r.reason, headers: r.headers, body: r.body, toTag });
    r.after?.();
  }

  private dispatch(req: SipRequest, source: Endpoint, local: Endpoint): Reply {
    switch (req.method) {
      case 'OPTIONS':
        return { status: 200, reason: 'OK', headers: [['Allow', 'REGISTER, OPTIONS, KDMQ']] };
      case 'KDMQ':
        return this.kdmq(req, source);
      case 'REGISTER':
        if (this.d.limits && !this.d.limits.registerAllowed(source.host)) {
          return this.d.limits.refuse('register_rate', 1);
        }
        if (this.registrar) return this.registrar(req, source, local);
        break;
    }
    const [code, ...reason] = this.d.config.routing.other_reply.split(' ');
    return { status: Number(code), reason: reason.join(' ') };
  }

  private reject(req: SipRequest, source: Endpoint, why: string): Reply {
    this.d.counters.rejectedSenders++;
    this.d.log.log('warn', 'rejected KDMQ sender', { source: `${source.host}:${source.port}`, why, from: req.get('from') });
    return { status: 403, reason: 'Forbidden' };
  }

  private kdmq(req: SipRequest, source: Endpoint): Reply {
    const uri = req.requestUri();
    const named = uri.ok ? uri.value.user ?? '' : '';
    // a known channel is counted under its own name string (the same text): a string fresh from
    // the parser would have to be looked up in V8's string table to be a property key
    const notification = named === this.d.config.dmq.notification_channel;
    const ch = notification ? undefined : this.channels.get(named);
    const channel = notification ? this.d.config.dmq.notification_channel : ch !== undefined ? ch.name : named;
    this.stats.received[channel] = (this.stats.received[channel] ?? 0) + 1;
    if (this.allow && !this.allow.some((c) => cidrContains(c, source.host))) return this.reject(req, source, 'outside dmq.allow');
    if (this.d.auth) {
      const v = this.d.auth.verify(req, source.host);
      if (!v.ok) {
        this.d.log.log('warn', 'rejected KDMQ signature', { source: `${source.host}:${source.port}`, why: v.why, from: req.get('from') });
        this.d.counters.rejectedSenders++;
        return this.d.limits ? this.d.limits.refuse('signature') : { status: 403, reason: 'Forbidden (KDMQ signature)' };
      }
    }
    const sender = senderOf(req);
    // a Kamailio names its version in User-Agent: what this node is sent from now on (node-dialect.ts)
    if (sender) this.d.list.versions.learn(nodeKey(sender), req.get('user-agent'));
    if (notification) {
      const mf = req.maxForwards();
      const body = this.notification(req.bodyText(), sender, mf.ok && mf.value !== null ? mf.value : 1);
      if (body === null) return { status: 503, reason: 'Service Unavailable' }; // the cycle has stopped
      return { status: 200, reason: 'OK', headers: [['Content-Type', 'text/plain']], body };
    }
    if (!ch) {
      this.d.counters.unknownChannel++;
      return { status: 404, reason: 'User Not Found' };
    }
    // one key for both questions (status, local); statusOfKey answers 'active' for the local key
    const senderKey = sender ? nodeKey(sender) : '';
    if (!sender || (!this.acceptUnknownSenders && (this.d.list.statusOfKey(senderKey) !== 'active' || senderKey === this.d.list.localKey))) { // planted fault, see src/ports/faults.ts
      return this.reject(req, source, 'data from a node that is not active in the node list');
    }
    if (this.d.limits && isSyncRequest(channel, req) && !this.d.limits.syncAllowed(`${sender.host}:${sender.port}`)) {
      return this.d.limits.refuse('sync_requests', this.d.limits.syncRetryAfter(`${sender.host}:${sender.port}`));
    }
    const r = ch.handle(req, sender, source);
    return { status: r.status, reason: r.reason, headers: r.headers, after: r.after };
  }
}

/** usrloc `{"action":3}` or htable `{"action":1}` (protocol reference §5.2, §6.2): the sync requests */
function isSyncRequest(channel: string, req: SipRequest): boolean {
  if ((channel !== 'usrloc' && channel !== 'htable') || req.body.byteLength > 64) return false;
  const m = /^\s*\{\s*"action"\s*:\s*(\d+)\s*\}\s*$/.exec(req.bodyText());
  return m !== null && Number(m[1]) === (channel === 'usrloc' ? 3 : 1);
}
