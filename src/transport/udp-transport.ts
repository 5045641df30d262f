// UdpTransport: the live Transport port over node:dgram (one socket per bound endpoint, udp4 or
// udp6 by the host's spelling). RFC 3261 §18 leaves datagram size to the network: we accept up to
// the OS maximum (65 507 bytes of IPv4 payload), ask for a large receive buffer, count send errors
// instead of throwing, and turn bind failures into Errors naming the address and the errno code.

import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP } from 'node:net';
import type { Datagram, Endpoint, Transport, TransportStats } from './transport.ts';
import { MAX_DATAGRAM, endpointKey } from './transport.ts';

export interface UdpTransportOptions {
  /** SO_RCVBUF asked for on every socket; the kernel may cap it (net.core.rmem_max) */
  recvBufferSize?: number;
  sendBufferSize?: number;
}

const DEFAULT_BUFFER = 4 * 1024 * 1024;

/**
 * dgram's default lookup is dns.lookup, which answers even an IP literal in a later process.nextTick:
 * every send() then waited for the whole handler that made it (a KDMQ broadcast left only after
 * the REGISTER's 200 had been built, a KDMQ's 200 only after the handler returned). Answering IP
 * literals at once makes send() write the datagram synchronously (uv_udp_try_send), in call order.
 */
function literalFirstLookup(host: string, family: number, cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const f = isIP(host);
  if (f !== 0) cb(null, host, f);
  else dns.lookup(host, family, cb);
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export class UdpTransport implements Transport {
  readonly stats: TransportStats = { sent: 0, received: 0, sendErrors: 0 };
  private readonly sockets = new Map<string, { socket: dgram.Socket; local: Endpoint }>();
  private handler: (d: Datagram) => void = () => {};
  private closed = false;

  constructor(private readonly options: UdpTransportOptions = {}) {}

  bind(local: Endpoint): Promise<Endpoint> {
    const host = stripBrackets(local.host);
    const label = endpointKey({ host, port: local.port });
    if (this.closed) return Promise.reject(new Error(`bind ${label} failed: transport closed`));
    const type = host.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6', lookup: literalFirstLookup as unknown as dgram.SocketOptions['lookup'] });
    return new Promise<Endpoint>((resolve, reject) => {
      const onBindError = (err: NodeJS.ErrnoException): void => {
        socket.close();
        const code = err.code ?? 'UNKNOWN';
        reject(Object.assign(new Error(`bind ${label} failed: ${code} (${err.message})`), { code }));
      };
      socket.once('error', onBindError);
      socket.bind({ address: host, port: local.port, exclusive: true }, () => {
        socket.off('error', onBindError);
        const bound: Endpoint = { host, port: socket.address().port };
        this.tuneBuffers(socket);
        socket.on('error', () => {
          this.stats.sendErrors++;
        });
        socket.on('message', (msg, rinfo) => {
          this.stats.received++;
          this.handler({ local: bound, remote: { host: rinfo.address, port: rinfo.port }, data: msg });
        });
        this.sockets.set(endpointKey(bound), { socket, local: bound });
        resolve(bound);
      });
    });
  }

  send(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    const entry = this.sockets.get(endpointKey({ host: stripBrackets(from.host), port: from.port }));
    if (!entry || data.byteLength > MAX_DATAGRAM) {
      this.stats.sendErrors++;
      return;
    }
    try {
      entry.socket.send(data, to.port, stripBrackets(to.host), (err) => {
        if (err) this.stats.sendErrors++;
        else this.stats.sent++;
      });
    } catch {
      // dgram throws synchronously on bad ports / addresses of the wrong family
      this.stats.sendErrors++;
    }
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.handler = handler;
  }

  endpoints(): Endpoint[] {
    return [...this.sockets.values()].map((s) => ({ ...s.local }));
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.sockets.values()];
    this.sockets.clear();
    await Promise.all(
      all.map(
        ({ socket }) =>
          new Promise<void>((resolve) => {
            try {
              socket.close(() => resolve());
            } catch {
              resolve(); // already closed
            }
          }),
      ),
    );
  }

  private tuneBuffers(socket: dgram.Socket): void {
    const recv = this.options.recvBufferSize ?? DEFAULT_BUFFER;
    const send = this.options.sendBufferSize ?? DEFAULT_BUFFER;
    try {
      socket.setRecvBufferSize(recv);
    } catch {
      // not allowed here (e.g. a container without CAP_NET_ADMIN): keep the kernel default
    }
    try {
      socket.setSendBufferSize(send);
    } catch {
      // same
    }
  }
}
