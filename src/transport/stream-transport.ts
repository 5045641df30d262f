// StreamTransport: the Transport port over TCP and TLS (node:net, node:tls), RFC 3261 §18 with
// §18.3 framing (stream-framing.ts). Connections are keyed by remote endpoint and reused both ways
// (§18.2.2 responses go back on the request's connection; an inbound connection also carries our
// requests to that peer, under its Via sent-by alias when the host matches, RFC 5923's idea).
// Failed connects back off exponentially; idle connections close; their number is bounded.

import net from 'node:net';
import tls from 'node:tls';
import { parseMessage, responseTo, writeResponse } from '../sip/index.ts';
import type { Datagram, Endpoint, Proto, Transport } from './transport.ts';
import { endpointKey } from './transport.ts';
import { DEFAULT_MAX_STREAM_MESSAGE, StreamFramer, topViaSentBy } from './stream-framing.ts';
import type { StreamStats, StreamTlsOptions, StreamTransportOptions } from './stream-options.ts';

export type { StreamStats, StreamTlsOptions, StreamTransportOptions } from './stream-options.ts';

interface Conn {
  socket: net.Socket | null;
  proto: Proto;
  local: Endpoint;
  remote: Endpoint;
  keys: Set<string>;
  queue: Uint8Array[] | null;
  queued: number;
  framer: StreamFramer;
  timer?: NodeJS.Timeout;
}

const bare = (h: string): string => h.replace(/^\[|\]$/g, '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
const keyOf = (proto: Proto, e: Endpoint): string => `${proto}:${endpointKey({ host: bare(e.host), port: e.port })}`;

export class StreamTransport implements Transport {
  readonly stats: StreamStats = {
    sent: 0, received: 0, sendErrors: 0, connectionsOpened: 0, connectionsAccepted: 0, connectionsRefused: 0,
    connectFailures: 0, framingErrors: 0, oversize: 0, pings: 0,
  };
  private readonly servers = new Map<string, { server: net.Server; local: Endpoint }>();
  private readonly conns = new Map<string, Conn>();
  private readonly backoff = new Map<string, { until: number; delay: number }>();
  private readonly all = new Set<Conn>();
  private handler: (d: Datagram) => void = () => {};
  private closed = false;
  private readonly o: Required<Omit<StreamTransportOptions, 'tls'>> & { tls?: StreamTlsOptions };

  constructor(options: StreamTransportOptions = {}) {
    this.o = {
      maxMessage: DEFAULT_MAX_STREAM_MESSAGE, maxConnections: 4096, idleTimeoutMs: 120_000, connectTimeoutMs: 10_000,
      backoffMinMs: 100, backoffMaxMs: 30_000, maxQueueBytes: 8 * 1024 * 1024,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    };
  }

  /** live connections (each counted once, whatever its aliases) */
  connectionCount(): number {
    return this.all.size;
  }

  bind(local: Endpoint): Promise<Endpoint> {
    const proto = local.proto === 'tls' ? 'tls' : 'tcp';
    const host = bare(local.host);
    const label = `${proto}:${endpointKey({ host, port: local.port })}`;
    if (this.closed) return Promise.reject(new Error(`bind ${label} failed: transport closed`));
    if (proto === 'tls' && !this.o.tls) return Promise.reject(new Error(`bind ${label} failed: no tls certificate configured`));
    const server = proto === 'tls' ? tls.createServer(this.tlsServerOptions()) : net.createServer();
    return new Promise<Endpoint>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? 'UNKNOWN';
        reject(Object.assign(new Error(`bind ${label} failed: ${code} (${err.message})`), { code }));
      });
      server.listen({ host, port: local.port, exclusive: true }, () => {
        const bound: Endpoint = { host, port: (server.address() as net.AddressInfo).port, proto };
        server.removeAllListeners('error');
        server.on('error', () => this.stats.sendErrors++);
        server.on(proto === 'tls' ? 'secureConnection' : 'connection', (s: net.Socket) => this.accept(s, bound));
        if (proto === 'tls') server.on('tlsClientError', () => this.stats.connectionsRefused++);
        this.servers.set(keyOf(proto, bound), { server, local: bound });
        resolve(bound);
      });
    });
  }

  send(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    const proto = to.proto ?? from.proto;
    if (this.closed || (proto !== 'tcp' && proto !== 'tls') || data.byteLength > this.o.maxMessage) {
      this.stats.sendErrors++;
      return;
    }
    const key = keyOf(proto, to);
    const conn = this.conns.get(key) ?? this.connect(proto, key, { ...from, proto }, { host: bare(to.host), port: to.port, proto });
    if (conn) this.write(conn, data);
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.handler = handler;
  }

  endpoints(): Endpoint[] {
    return [...this.servers.values()].map((s) => ({ ...s.local }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.all]) this.drop(c);
    const servers = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(servers.map(({ server }) => new Promise<void>((r) => server.close(() => r()))));
  }

  private tlsServerOptions(): tls.TlsOptions {
    const t = this.o.tls!;
    return { cert: t.certificate, key: t.privateKey, ca: t.caList, requestCert: t.verifyPeer || t.requireCertificate, rejectUnauthorized: false };
  }

  private accept(socket: net.Socket, local: Endpoint): void {
    if (this.closed || this.all.size >= this.o.maxConnections || !this.peerCertOk(socket, local.proto!)) {
      this.stats.connectionsRefused++;
      socket.destroy();
      return;
    }
    this.stats.connectionsAccepted++;
    const remote: Endpoint = { host: bare(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0, proto: local.proto };
    const conn = this.register(local.proto!, socket, local, remote, null);
    this.wire(conn, socket);
  }

  /** Kamailio's semantics: verify_certificate checks a presented chain; require_certificate wants one */
  private peerCertOk(socket: net.Socket, proto: Proto): boolean {
    if (proto !== 'tls' || !this.o.tls) return true;
    const s = socket as tls.TLSSocket;
    const presented = Object.keys(s.getPeerCertificate() ?? {}).length > 0;
    if (!presented) return !this.o.tls.requireCertificate;
    return !this.o.tls.verifyPeer || s.authorized;
  }

  private register(proto: Proto, socket: net.Socket | null, local: Endpoint, remote: Endpoint, queue: Uint8Array[] | null): Conn {
    const conn: Conn = { socket, proto, local, remote, keys: new Set([keyOf(proto, remote)]), queue, queued: 0, framer: new StreamFramer(this.o.maxMessage) };
    if (this.all.size >= this.o.maxConnections) {
      const oldest = this.all.values().next().value; // insertion order: the oldest first
      if (oldest) this.drop(oldest);
    }
    this.all.add(conn);
    for (const k of conn.keys) this.conns.set(k, conn);
    return conn;
  }

  private connect(proto: Proto, key: string, from: Endpoint, to: Endpoint): Conn | null {
    const conn = this.register(proto, null, from, to, []);
    const wait = Math.max(0, (this.backoff.get(key)?.until ?? 0) - Date.now());
    const start = (): void => {
      conn.timer = undefined;
      if (this.closed || !this.all.has(conn)) return;
      const localAddress = from.host && from.host !== '0.0.0.0' && from.host !== '::' ? bare(from.host) : undefined;
      const common = { host: to.host, port: to.port, localAddress };
      const t = this.o.tls;
      let socket: net.Socket;
      try {
        socket =
          proto === 'tls'
            ? tls.connect({ ...common, ca: t?.caList, cert: t?.certificate, key: t?.privateKey, rejectUnauthorized: t?.verifyPeer ?? true, checkServerIdentity: () => undefined })
            : net.connect(common);
      } catch {
        this.connectFailed(conn); // bad TLS material or address: a failed connect, never a throw
        return;
      }
      conn.socket = socket;
      socket.setTimeout(this.o.connectTimeoutMs);
      socket.once(proto === 'tls' ? 'secureConnect' : 'connect', () => {
        this.stats.connectionsOpened++;
        this.backoff.delete(key);
        socket.setTimeout(this.o.idleTimeoutMs);
        const q = conn.queue ?? [];
        conn.queue = null;
        conn.queued = 0;
        for (const d of q) this.write(conn, d);
      });
      this.wire(conn, socket);
    };
    if (wait > 0) conn.timer = setTimeout(start, wait);
    else start();
    return conn;
  }

  private wire(conn: Conn, socket: net.Socket): void {
    socket.setNoDelay(true);
    if (conn.queue === null) socket.setTimeout(this.o.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('timeout', () => (conn.queue !== null ? this.connectFailed(conn) : this.drop(conn)));
    socket.on('error', () => {
      if (conn.queue !== null) this.connectFailed(conn);
      else this.stats.sendErrors++;
    });
    socket.on('close', () => {
      if (conn.queue !== null) this.connectFailed(conn);
      this.drop(conn);
    });
  }

  private connectFailed(conn: Conn): void {
    if (conn.queue === null) return;
    this.stats.connectFailures++;
    this.stats.sendErrors += conn.queue.length;
    conn.queue = null;
    const key = keyOf(conn.proto, conn.remote);
    const prev = this.backoff.get(key)?.delay ?? 0;
    const delay = Math.min(this.o.backoffMaxMs, prev === 0 ? this.o.backoffMinMs : prev * 2);
    this.backoff.set(key, { until: Date.now() + delay, delay });
    this.drop(conn);
  }

  private write(conn: Conn, data: Uint8Array): void {
    if (conn.queue !== null) {
      if (conn.queued + data.byteLength > this.o.maxQueueBytes) {
        this.stats.sendErrors++;
        return;
      }
      conn.queue.push(data);
      conn.queued += data.byteLength;
      return;
    }
    const s = conn.socket;
    if (!s || s.destroyed) {
      this.stats.sendErrors++;
      return;
    }
    this.stats.sent++;
    s.write(data, (err) => {
      if (err) this.stats.sendErrors++;
    });
  }

  private onData(conn: Conn, chunk: Buffer): void {
    for (const f of conn.framer.push(chunk)) {
      if (f.kind === 'ping') {
        this.stats.pings++;
        conn.socket?.write('\r\n');
      } else if (f.kind === 'message') {
        this.stats.received++;
        this.alias(conn, f.data);
        this.handler({ local: conn.local, remote: conn.remote, data: f.data });
      } else {
        if (f.kind === 'oversize') {
          this.stats.oversize++;
          const answer = tooLarge(f.head);
          if (answer) conn.socket?.write(answer);
        } else this.stats.framingErrors++;
        conn.socket?.end();
        setTimeout(() => this.drop(conn), 1000).unref();
      }
    }
  }

  /** a request's Via sent-by names the peer's listening socket: send our requests there on this connection */
  private alias(conn: Conn, data: Uint8Array): void {
    if (data[0] === 0x53 && data[1] === 0x49 && data[2] === 0x50 && data[3] === 0x2f) return; // a response
    const sentBy = topViaSentBy(data, conn.proto);
    if (!sentBy || sentBy.host !== conn.remote.host) return;
    const key = keyOf(conn.proto, sentBy);
    const other = this.conns.get(key);
    if (other && other !== conn && other.queue === null) return; // a working connection is there already
    if (other && other !== conn) other.keys.delete(key);
    conn.keys.add(key);
    this.conns.set(key, conn);
  }

  private drop(conn: Conn): void {
    if (!this.all.delete(conn)) return;
    if (conn.timer) clearTimeout(conn.timer);
    for (const k of conn.keys) if (this.conns.get(k) === conn) this.conns.delete(k);
    if (conn.queue && conn.queue.length > 0) this.stats.sendErrors += conn.queue.length;
    conn.queue = null;
    conn.socket?.destroy();
  }
}

/** RFC 3261 §21.5.14 answer to an oversize request (null for a response or an unreadable head) */
function tooLarge(head: Uint8Array): Uint8Array | null {
  const p = parseMessage(head);
  const req = p.ok ? (p.value.kind === 'request' ? p.value : null) : p.partial ?? null;
  if (!req || req.method === 'ACK' || !req.vias().ok || !req.from().ok || !req.to().ok || !req.callId().ok || !req.cseq().ok) return null;
  return writeResponse(responseTo(req, 513, 'Message Too Large'));
}
