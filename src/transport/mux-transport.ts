// MuxTransport: UDP and stream transports behind one Transport port, chosen by the endpoint's
// proto (absent = udp). bind() by the local endpoint's proto, send() by the destination's (then
// the source's): RFC 3261 §18.1.1 leaves the choice to the target URI's transport parameter.

import type { Datagram, Endpoint, Transport, TransportStats } from './transport.ts';

export class MuxTransport implements Transport {
  constructor(
    readonly udp: Transport,
    readonly stream: Transport | null,
  ) {}

  private pick(e: Endpoint | undefined): Transport | null {
    const p = e?.proto ?? 'udp';
    return p === 'udp' ? this.udp : this.stream;
  }

  bind(local: Endpoint): Promise<Endpoint> {
    const t = this.pick(local);
    if (!t) return Promise.reject(new Error(`bind ${local.proto}:${local.host}:${local.port} failed: no stream transport`));
    return t.bind(local);
  }

  send(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    const t = this.pick(to.proto ? to : from);
    if (t) t.send(from, to, data);
    else this.udp.stats.sendErrors++;
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.udp.onDatagram(handler);
    this.stream?.onDatagram(handler);
  }

  endpoints(): Endpoint[] {
    return [...this.udp.endpoints(), ...(this.stream?.endpoints() ?? [])];
  }

  async close(): Promise<void> {
    await Promise.all([this.udp.close(), this.stream?.close()]);
  }

  get stats(): TransportStats {
    const a = this.udp.stats;
    const b = this.stream?.stats ?? { sent: 0, received: 0, sendErrors: 0 };
    return { sent: a.sent + b.sent, received: a.received + b.received, sendErrors: a.sendErrors + b.sendErrors };
  }
}
