// The replay ports: a Transport that delivers recorded inbound datagrams when the replay driver
// says so and captures what the node sends (with the virtual time), and a Resolver that answers
// each query with the next recorded answer for it, at the recorded time.

import type { Clock } from '../ports/clock.ts';
import type { DnsAnswer, Resolver, SrvRecord } from '../ports/resolver.ts';
import type { Datagram, Endpoint, Transport, TransportStats } from '../transport/transport.ts';
import { epText, parseEp, type TraceRecord } from './format.ts';

export interface Sent {
  t: number;
  local: string;
  remote: string;
  data: Uint8Array;
}

export class ReplayTransport implements Transport {
  readonly stats: TransportStats = { sent: 0, received: 0, sendErrors: 0 };
  readonly sent: Sent[] = [];
  private handler: (d: Datagram) => void = () => {};
  private readonly locals: Endpoint[] = [];
  private readonly binds: Array<Extract<TraceRecord, { r: 'bind' }>>;
  /** called after each send (the --as response mapper listens here) */
  onSend: (s: Sent) => void = () => {};

  constructor(
    private readonly clock: Clock,
    binds: Array<Extract<TraceRecord, { r: 'bind' }>> = [],
  ) {
    this.binds = [...binds];
  }

  bind(local: Endpoint): Promise<Endpoint> {
    const rec = this.binds.find((b) => b.req === epText(local));
    if (rec) this.binds.splice(this.binds.indexOf(rec), 1);
    if (rec && rec.ep === null) return Promise.reject(new Error(rec.error ?? `bind ${rec.req} failed (recorded)`));
    const ep = rec?.ep ? parseEp(rec.ep)! : { host: local.host.replace(/^\[|\]$/g, ''), port: local.port };
    this.locals.push(ep);
    return Promise.resolve({ ...ep });
  }

  send(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    this.stats.sent++;
    const s = { t: this.clock.now(), local: epText(from), remote: epText(to), data: new Uint8Array(data) };
    this.sent.push(s);
    this.onSend(s);
  }

  deliver(local: Endpoint, remote: Endpoint, data: Uint8Array): void {
    this.stats.received++;
    this.handler({ local, remote, data });
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.handler = handler;
  }

  endpoints(): Endpoint[] {
    return this.locals.map((e) => ({ ...e }));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class ReplayResolver implements Resolver {
  private readonly queue = new Map<string, Array<Extract<TraceRecord, { r: 'dns' }>>>();
  readonly missing: string[] = [];

  constructor(
    private readonly clock: Clock,
    answers: Array<Extract<TraceRecord, { r: 'dns' }>>,
  ) {
    for (const a of answers) {
      const k = `${a.q} ${a.name.toLowerCase()}`;
      if (!this.queue.has(k)) this.queue.set(k, []);
      this.queue.get(k)!.push(a);
    }
  }

  private answer<T>(q: 'a' | 'aaaa' | 'srv', name: string): Promise<DnsAnswer<T>> {
    const rec = this.queue.get(`${q} ${name.toLowerCase()}`)?.shift();
    if (!rec) {
      this.missing.push(`${q} ${name}`);
      return Promise.resolve({ ok: false, code: 'timeout', error: `${name}: no answer in the trace` });
    }
    return new Promise((resolve) => {
      this.clock.setTimeout(() => resolve(rec.answer as DnsAnswer<T>), Math.max(0, rec.t - this.clock.now()));
    });
  }

  a(name: string): Promise<DnsAnswer<string>> {
    return this.answer('a', name);
  }
  aaaa(name: string): Promise<DnsAnswer<string>> {
    return this.answer('aaaa', name);
  }
  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    return this.answer('srv', name);
  }
}
