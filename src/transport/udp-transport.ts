// UdpTransport: the live Transport port over node:dgram (one socket per bound endpoint, udp4 or
// udp6 by the host's spelling). RFC 3261 §18 leaves datagram size to the network: we accept up to
// the OS maximum (65 507 bytes of IPv4 payload), ask for a large receive buffer, count send errors
// instead of throwing, and turn bind failures into Errors naming the address and the errno code.
// Datagrams are read as soon as they arrive into a queue stamped with their read time and handed
// over in slices of a few ms: a node short of CPU keeps its backlog here, where its age is known
// (limits.max_queue_wait answers an old request with a cheap 503), not in the kernel's buffer.

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
/** hand datagrams over for at most this long before letting the event loop read more */
const SLICE_MS = 1;
/** datagrams waiting at most; beyond, the newest are dropped and counted (stats.queueDropped) */
const MAX_QUEUED = 65_536;

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
  readonly stats: TransportStats & { queueDropped: number } = { sent: 0, received: 0, sendErrors: 0, queueDropped: 0 };
  private readonly queue: Datagram[] = [];
  private qHead = 0;
  private draining = false;
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
          this.enqueue({ local: bound, remote: { host: rinfo.address, port: rinfo.port }, data: msg, at: Date.now() });
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

  private enqueue(d: Datagram): void {
    if (this.queue.length - this.qHead >= MAX_QUEUED) {
      this.stats.queueDropped++;
      return;
    }
    this.queue.push(d);
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  /** hand queued datagrams over, oldest first, for one slice; then yield so libuv reads more */
  private drain(): void {
    if (this.closed) {
      this.queue.length = 0;
      this.qHead = 0;
      this.draining = false;
      return;
    }
    const end = performance.now() + SLICE_MS;
    try {
      while (this.qHead < this.queue.length) {
        const d = this.queue[this.qHead];
        this.queue[this.qHead++] = undefined as unknown as Datagram;
        this.handler(d);
        if (performance.now() >= end) break;
      }
    } finally {
      if (this.qHead >= this.queue.length) {
        this.queue.length = 0;
        this.qHead = 0;
        this.draining = false;
      } else {
        if (this.qHead > 4096) {
          this.queue.splice(0, this.qHead);
          this.qHead = 0;
        }
        setImmediate(() => this.drain());
      }
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
