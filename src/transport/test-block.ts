// TEST ONLY (config `dmq.test_block`, RPC `kdmq.test_block`): a Transport wrapper that drops every
// datagram to or from the listed IPs, so interop tests can partition processes on loopback without
// iptables. Never configure it in production: a blocked peer looks dead to this node.

import type { Datagram, Endpoint, Transport } from './transport.ts';

export class TestBlockTransport implements Transport {
  private blocked: Set<string>;
  dropped = 0;

  constructor(private readonly inner: Transport, ips: readonly string[] = []) {
    this.blocked = new Set(ips);
  }

  setBlocked(ips: readonly string[]): void {
    this.blocked = new Set(ips);
  }
  list(): string[] {
    return [...this.blocked];
  }
  bind(local: Endpoint): Promise<Endpoint> {
    return this.inner.bind(local);
  }
  send(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    if (this.blocked.has(to.host)) {
      this.dropped++;
      return;
    }
    this.inner.send(from, to, data);
  }
  onDatagram(handler: (d: Datagram) => void): void {
    this.inner.onDatagram((d) => {
      if (this.blocked.has(d.remote.host)) this.dropped++;
      else handler(d);
    });
  }
  endpoints(): Endpoint[] {
    return this.inner.endpoints();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  get stats() {
    return this.inner.stats;
  }
}
