// TEST ONLY (config `dmq.test_block`, RPC `kdmq.test_block`): a Transport wrapper that drops every
// datagram to or from the listed IPs, so interop tests can partition processes on loopback without
// iptables. Never configure it in production: a blocked peer looks dead to this node.

import { RpcError, register, type RpcRegistry } from '../control/rpc.ts';
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

/** `kdmq.test_block "ip1,ip2"` sets the list (`""` clears it) and returns it; no params reads it */
export function registerTestBlockMethod(reg: RpcRegistry, t: TestBlockTransport): void {
  register(reg, 'kdmq.test_block', 'TEST ONLY: drop datagrams to/from these IPs', (p) => {
    if (p.length > 0) {
      if (!p.every((x) => typeof x === 'string')) throw new RpcError(500, 'Invalid Parameters');
      t.setBlocked((p as string[]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== ''));
    }
    return { blocked: t.list(), dropped: t.dropped };
  });
}
