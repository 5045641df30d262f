// The BINRPC sockets of ctl.binrpc (io_listener.c 5.6.3): unix and TCP streams (any number of
// requests per connection, answered in order; a bad packet closes it; idle 120 s; at most 128
// connections), UDP and unix datagrams (one request per datagram, the reply to the sender; a
// short datagram is ignored, as ctl does). Unix sockets get ctl.mode/user/group. An edge:
// node:net, node:dgram, unix-dgram.ts; the protocol is handler.ts.

import net from 'node:net';
import dgram from 'node:dgram';
import type { RpcRegistry } from '../rpc.ts';
import type { Log } from '../../ports/log.ts';
import { answerBinrpc, MAX_REQUEST } from './handler.ts';
import { encodePacket, faultPacket, readHeader } from './codec.ts';
import type { CtlSocketSpec } from './socket-spec.ts';
import { applyPerms, removeOwn, removeStale, type UnixPerms } from '../unix-perms.ts';
import { openUnixDgram, type UnixDgram } from '../unix-dgram.ts';

export const MAX_CONNECTIONS = 128; // ctl's MAX_IO_READ_CONNECTIONS
const IDLE_MS = 120_000; // ctl's IO_STREAM_CONN_TIMEOUT
const MAX_DGRAM_REPLY = 65_507;
const MAX_PENDING_WRITE = 16 * 1024 * 1024;
const MAX_DGRAMS_IN_FLIGHT = 256;

export interface BinrpcListeners {
  /** what is listening, e.g. "tcp:127.0.0.1:2049", "unix:/run/kdmq/kdmq_ctl" */
  readonly addresses: string[];
  close(): Promise<void>;
}

export interface BinrpcOptions {
  perms: UnixPerms;
  log: Log;
  idleMs?: number;
}

/** one stream connection: requests answered one at a time, in order */
function serveStream(reg: RpcRegistry, sock: net.Socket, idleMs: number, log: Log): void {
  let buf: Buffer = Buffer.alloc(0);
  let busy = false;
  sock.setTimeout(idleMs, () => sock.destroy());
  sock.on('error', () => sock.destroy());
  const pump = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      while (buf.length > 0 && !sock.destroyed) {
        const step = await answerBinrpc(reg, buf);
        if (step.kind === 'need') break;
        buf = buf.subarray(step.consumed);
        if (sock.writableLength > MAX_PENDING_WRITE) sock.destroy(); // a client that never reads
        else sock.write(step.reply);
        if (step.close) {
          log.log('debug', 'binrpc: bad request, connection closed', { method: step.method });
          buf = Buffer.alloc(0);
          sock.end();
        }
      }
    } finally {
      busy = false;
    }
  };
  sock.on('data', (d: Buffer) => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    if (buf.length > 4 * MAX_REQUEST) return void sock.destroy(); // pipelined past any sense
    void pump().then(() => (buf.length > 0 && !busy ? pump() : undefined));
  });
}

/** one datagram: answered to its sender (a short or undecodable header gets nothing, as in ctl) */
async function answerDatagram(reg: RpcRegistry, msg: Uint8Array, send: (b: Uint8Array) => void): Promise<void> {
  const step = await answerBinrpc(reg, msg);
  if (step.kind === 'need') return;
  if (step.reply.length <= MAX_DGRAM_REPLY) return send(step.reply);
  const h = readHeader(step.reply);
  send(encodePacket(faultPacket(h.ok ? h.cookie : 0, 500, `reply too big for a datagram (${step.reply.length} bytes): use a stream socket`)));
}

function listenStream(reg: RpcRegistry, spec: CtlSocketSpec, opts: BinrpcOptions): Promise<{ address: string; close: () => Promise<void> }> {
  const server = net.createServer((sock) => serveStream(reg, sock, opts.idleMs ?? IDLE_MS, opts.log));
  server.maxConnections = MAX_CONNECTIONS;
  const conns = new Set<net.Socket>();
  server.on('connection', (s) => {
    conns.add(s);
    s.once('close', () => conns.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`config key ctl.binrpc: ${spec.text}: ${e.code ?? e.message}`)));
    const done = (address: string) => {
      server.on('error', (e) => opts.log.log('warn', 'binrpc: listener error', { socket: spec.text, error: e.message }));
      const close = () => new Promise<void>((r) => {
        for (const c of conns) c.destroy();
        server.close(() => r());
        if (spec.proto === 'unix') removeOwn(spec.path, 'socket');
      });
      resolve({ address, close });
    };
    if (spec.proto === 'unix') {
      const stale = removeStale(spec.path, 'socket');
      if (stale) return reject(new Error(`config key ctl.binrpc: ${stale}`));
      server.listen(spec.path, () => {
        const err = applyPerms(spec.path, opts.perms);
        if (err) {
          server.close();
          removeOwn(spec.path, 'socket');
          return reject(new Error(`config key ctl.mode: ${err}`));
        }
        done(`unix:${spec.path}`);
      });
    } else if (spec.proto === 'tcp') {
      server.listen(spec.port, spec.host, () => {
        const a = server.address() as net.AddressInfo;
        done(`tcp:${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
      });
    }
  });
}

function listenUdp(reg: RpcRegistry, spec: Extract<CtlSocketSpec, { proto: 'udp' }>): Promise<{ address: string; close: () => Promise<void> }> {
  const sock = dgram.createSocket(net.isIPv6(spec.host) ? 'udp6' : 'udp4');
  let inFlight = 0;
  sock.on('message', (msg, rinfo) => {
    if (inFlight >= MAX_DGRAMS_IN_FLIGHT) return;
    inFlight++;
    void answerDatagram(reg, msg, (b) => sock.send(b, rinfo.port, rinfo.address, () => {})).finally(() => inFlight--);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`config key ctl.binrpc: ${spec.text}: ${e.code ?? e.message}`)));
    sock.bind(spec.port, spec.host, () => {
      sock.on('error', () => {});
      const a = sock.address();
      resolve({ address: `udp:${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`, close: () => new Promise<void>((r) => sock.close(() => r())) });
    });
  });
}

function listenUnixDgram(reg: RpcRegistry, spec: Extract<CtlSocketSpec, { proto: 'unixd' }>, opts: BinrpcOptions): { address: string; close: () => Promise<void> } {
  const stale = removeStale(spec.path, 'socket');
  if (stale) throw new Error(`config key ctl.binrpc: ${stale}`);
  let inFlight = 0;
  let sock: UnixDgram | string = '';
  sock = openUnixDgram(spec.path, (msg, from) => {
    if (inFlight >= MAX_DGRAMS_IN_FLIGHT || typeof sock === 'string') return;
    inFlight++;
    const s = sock;
    void answerDatagram(reg, msg, (b) => void s.send(b, from)).finally(() => inFlight--);
  }, (e) => opts.log.log('warn', 'binrpc: unix datagram socket error', { path: spec.path, error: e.message }));
  if (typeof sock === 'string') throw new Error(`config key ctl.binrpc: ${spec.text}: ${sock}`);
  const err = applyPerms(spec.path, opts.perms);
  if (err) {
    sock.close();
    removeOwn(spec.path, 'socket');
    throw new Error(`config key ctl.mode: ${err}`);
  }
  const s = sock;
  return { address: `unixd:${spec.path}`, close: async () => { s.close(); removeOwn(spec.path, 'socket'); } };
}

/** open every socket; on a failure close those already open and throw one line naming the key */
export async function startBinrpc(reg: RpcRegistry, specs: CtlSocketSpec[], opts: BinrpcOptions): Promise<BinrpcListeners> {
  const open: Array<{ address: string; close: () => Promise<void> }> = [];
  try {
    for (const spec of specs) {
      if (spec.proto === 'udp') open.push(await listenUdp(reg, spec));
      else if (spec.proto === 'unixd') open.push(listenUnixDgram(reg, spec, opts));
      else open.push(await listenStream(reg, spec, opts));
    }
  } catch (e) {
    await Promise.all(open.map((o) => o.close()));
    throw e;
  }
  return { addresses: open.map((o) => o.address), close: async () => void (await Promise.all(open.map((o) => o.close()))) };
}
