// SimNetwork: the simulated twin of UDP. An in-memory datagram network on the Clock port
// (a VirtualClock in the simulator) with seeded per-link delay + jitter (which also reorders),
// loss, duplication, two-way partitions and one-way blocks. SimTransport is the Transport port
// attached to it. Same seed + same calls = same deliveries at the same virtual times.

import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { Datagram, Endpoint, Transport, TransportStats } from './transport.ts';
import { endpointKey } from './transport.ts';

export interface LinkParams {
  /** fixed one-way delay, ms */
  delayMs: number;
  /** extra delay uniform in [0, jitterMs): datagrams overtake each other when jitter > spacing */
  jitterMs: number;
  /** probability a datagram is lost */
  loss: number;
  /** probability a datagram is delivered twice (each copy with its own delay) */
  duplicate: number;
}

export interface SimDelivery {
  from: Endpoint;
  to: Endpoint;
  data: Uint8Array;
  time: number;
}

export interface SimNetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

/** IPv4 UDP payload limit (65 535 − 8 UDP − 20 IP); IPv6 allows 65 527 */
export const MAX_UDP4_PAYLOAD = 65_507;
export const MAX_UDP6_PAYLOAD = 65_527;
const FIRST_EPHEMERAL = 32_768;

const DEFAULT_LINK: LinkParams = { delayMs: 1, jitterMs: 0, loss: 0, duplicate: 0 };

export interface SimNetworkOptions {
  clock: Clock;
  random: Random;
  defaults?: Partial<LinkParams>;
}

export class SimNetwork {
  readonly stats: SimNetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  readonly clock: Clock;
  private readonly random: Random;
  private defaults: LinkParams;
  private readonly links = new Map<string, Partial<LinkParams>>();
  private readonly blocked = new Set<string>();
  private readonly bound = new EndpointMap<SimTransport>();
  private readonly nextPort = new Map<string, number>();
  private readonly taps: Array<(d: SimDelivery) => void> = [];

  constructor(options: SimNetworkOptions) {
    this.clock = options.clock;
    this.random = options.random;
    this.defaults = { ...DEFAULT_LINK, ...options.defaults };
  }

  /** a new Transport attached to this network */
  transport(): SimTransport {
    return new SimTransport(this);
  }

  setDefaults(params: Partial<LinkParams>): void {
    this.defaults = { ...this.defaults, ...params };
  }

  /** parameters for datagrams from `fromHost` to `toHost` (one direction) */
  setLink(fromHost: string, toHost: string, params: Partial<LinkParams>): void {
    const key = linkKey(fromHost, toHost);
    this.links.set(key, { ...this.links.get(key), ...params });
  }

  /** cut every link between the two groups, both ways */
  partition(groupA: string[], groupB: string[]): void {
    for (const a of groupA) {
      for (const b of groupB) {
        this.block(a, b);
        this.block(b, a);
      }
    }
  }

  /** drop everything sent from `fromHost` to `toHost` (one way) */
  block(fromHost: string, toHost: string): void {
    this.blocked.add(linkKey(fromHost, toHost));
  }

  /** remove every partition and block (link parameters stay) */
  heal(): void {
    this.blocked.clear();
  }

  onDeliver(tap: (d: SimDelivery) => void): void {
    this.taps.push(tap);
  }

  /** @internal used by SimTransport */
  attach(t: SimTransport, local: Endpoint): Endpoint {
    let port = local.port;
    if (port === 0) port = this.freePort(local.host);
    const ep = { host: local.host, port };
    if (this.bound.get(ep) !== undefined) {
      throw Object.assign(new Error(`bind ${endpointKey(ep)} failed: EADDRINUSE`), { code: 'EADDRINUSE' });
    }
    this.bound.set(ep, t);
    return ep;
  }

  /** @internal */
  detach(t: SimTransport, local: Endpoint): void {
    if (this.bound.get(local) === t) this.bound.delete(local);
  }

  /** @internal: schedule the copies of one datagram; the caller has checked size and socket */
  transmit(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    this.stats.sent++;
    // the common case (no block, no per-link parameters) builds no key and no merged object
    const key = this.blocked.size > 0 || this.links.size > 0 ? linkKey(from.host, to.host) : '';
    if (this.blocked.size > 0 && this.blocked.has(key)) {
      this.stats.dropped++;
      return;
    }
    const own = this.links.size > 0 ? this.links.get(key) : undefined;
    const link = own === undefined ? this.defaults : { ...this.defaults, ...own };
    // draw in a fixed order so a seed always gives the same fates
    const lost = this.random.next() < link.loss;
    const copies = this.random.next() < link.duplicate ? 2 : 1;
    if (lost) {
      this.stats.dropped++;
      return;
    }
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const delay = link.delayMs + (link.jitterMs > 0 ? this.random.next() * link.jitterMs : 0);
      // the bytes are handed over without a copy: no sender writes into a buffer it has sent (the
      // SIP writer makes a new one per message; retransmissions resend it unchanged) and no
      // receiver writes into one it got (the parser takes views into it), as with a real socket
      const src = { ...from };
      const dst = { ...to };
      this.clock.setTimeout(() => this.deliver(src, dst, data), delay);
    }
  }

  /** @internal hand one datagram to its socket now (the exhaustive explorer calls this directly) */
  deliver(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    const target = this.bound.get(to);
    if (!target) {
      this.stats.dropped++; // nobody listens (or closed while in flight): ICMP unreachable, ignored
      return;
    }
    this.stats.delivered++;
    const time = this.clock.now();
    for (const tap of this.taps) tap({ from, to, data, time });
    target.receive({ local: { ...to }, remote: from, data });
  }

  private freePort(host: string): number {
    let p = this.nextPort.get(host) ?? FIRST_EPHEMERAL;
    for (let tries = 0; tries < 65_536; tries++) {
      if (p > 65_535) p = FIRST_EPHEMERAL;
      if (this.bound.get({ host, port: p }) === undefined) {
        this.nextPort.set(host, p + 1);
        return p;
      }
      p++;
    }
    throw Object.assign(new Error(`bind ${host}:0 failed: EADDRINUSE (no free port)`), { code: 'EADDRINUSE' });
  }
}

/**
 * A map keyed by endpoint (host, port): the same identity as endpointKey(e), looked up by port and
 * then by the host string, so a delivery or a send builds no key string (endpoint hosts are
 * shared strings whose hash V8 keeps; a fresh `host:port` string is hashed anew every time).
 */
class EndpointMap<T> {
  private readonly byPort = new Map<number, Map<string, T>>();

  get(e: Endpoint): T | undefined {
    return this.byPort.get(e.port)?.get(e.host);
  }

  set(e: Endpoint, v: T): void {
    let hosts = this.byPort.get(e.port);
    if (hosts === undefined) this.byPort.set(e.port, (hosts = new Map()));
    hosts.set(e.host, v);
  }

  delete(e: Endpoint): void {
    const hosts = this.byPort.get(e.port);
    if (hosts === undefined) return;
    hosts.delete(e.host);
    if (hosts.size === 0) this.byPort.delete(e.port);
  }
}

function linkKey(fromHost: string, toHost: string): string {
  return `${fromHost}>${toHost}`;
}

export class SimTransport implements Transport {
  readonly stats: TransportStats = { sent: 0, received: 0, sendErrors: 0 };
  /** bound endpoints in bind order, and the same by endpoint for send */
  private readonly locals: Endpoint[] = [];
  private readonly localBy = new EndpointMap<Endpoint>();
  private handler: (d: Datagram) => void = () => {};
  private closed = false;

  constructor(private readonly net: SimNetwork) {}

  bind(local: Endpoint): Promise<Endpoint> {
    const host = local.host.startsWith('[') ? local.host.slice(1, -1) : local.host;
    if (this.closed) return Promise.reject(new Error(`bind ${endpointKey(local)} failed: transport closed`));
    try {
      const ep = this.net.attach(this, { host, port: local.port });
      this.locals.push(ep);
      this.localBy.set(ep, ep);
      return Promise.resolve({ ...ep });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  send(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    const local = this.localBy.get(from);
    const max = from.host.includes(':') ? MAX_UDP6_PAYLOAD : MAX_UDP4_PAYLOAD;
    if (!local || data.byteLength > max || to.port <= 0 || to.port > 65_535) {
      this.stats.sendErrors++;
      return;
    }
    this.stats.sent++;
    this.net.transmit(local, to, data);
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.handler = handler;
  }

  endpoints(): Endpoint[] {
    return this.locals.map((e) => ({ ...e }));
  }

  close(): Promise<void> {
    this.closed = true;
    for (const ep of this.locals) {
      this.net.detach(this, ep);
      this.localBy.delete(ep);
    }
    this.locals.length = 0;
    return Promise.resolve();
  }

  /** @internal called by the network at delivery time */
  receive(d: Datagram): void {
    this.stats.received++;
    this.handler(d);
  }
}
