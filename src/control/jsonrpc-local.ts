// JSON-RPC over jsonrpcs' local transports (jsonrpcs_fifo.c, jsonrpcs_sock.c 5.6.3), for kamctl
// (CTLENGINE=RPCFIFO) and kamcli: a FIFO (jsonrpcs.fifo_name) read as a stream of JSON documents,
// each naming a reply FIFO in jsonrpcs.fifo_reply_dir by "reply_name"; and a datagram socket
// (jsonrpcs.dgram_socket: a unix path or udp:IP:PORT) answering each datagram to its sender.
// Answers are the registry's (rpc.ts dispatch), laid out as srjson writes them. An edge.

import { constants, fstatSync, lstatSync, openSync, closeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { dispatch, type RpcRegistry } from './rpc.ts';
import type { Log } from '../ports/log.ts';
import { srjsonPrint } from './srjson.ts';
import { JsonDocSplitter } from './json-doc-splitter.ts';
import { applyPerms, removeOwn, removeStale, type UnixPerms } from './unix-perms.ts';
import { openUnixDgram } from './unix-dgram.ts';

export interface Closer {
  readonly address: string;
  close(): Promise<void>;
}

const REPLY_OPEN_RETRIES = 4; // jsonrpcs: 4 retries 80 ms apart while the client is not reading yet
const REPLY_RETRY_MS = 80;
const REPLY_WRITE_MS = 10_000;
const MAX_DGRAM = 65_456; // jsonrpcs' JSONRPC_DGRAM_BUF_SIZE

/** the registry's answer to one JSON document, laid out as jsonrpcs writes it */
export async function answerJson(reg: RpcRegistry, text: string): Promise<string> {
  return srjsonPrint(JSON.parse(await dispatch(reg, text.trim())));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** open the client's reply FIFO for writing without blocking, with jsonrpcs' security checks */
async function openReplyFifo(path: string): Promise<number | string> {
  for (let i = 0; ; i++) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENXIO' && i < REPLY_OPEN_RETRIES) {
        await sleep(REPLY_RETRY_MS);
        continue;
      }
      return code === 'ENXIO' ? `no client reading ${path}` : `cannot open ${path}: ${code}`;
    }
    const f = fstatSync(fd);
    const l = lstatSync(path);
    if (!f.isFIFO() || f.nlink > 1 || l.isSymbolicLink() || l.ino !== f.ino || l.dev !== f.dev) {
      closeSync(fd);
      return `${path} is not a plain FIFO (security check)`;
    }
    return fd;
  }
}

async function writeReply(dir: string, name: unknown, text: string, log: Log): Promise<void> {
  if (typeof name !== 'string' || name === '' || /[./\\]/.test(name) || name.length > 127) {
    return log.log('warn', 'jsonrpc fifo: request without a usable reply_name (no "." "/" "\\")', { reply_name: name });
  }
  const fd = await openReplyFifo(join(dir, name));
  if (typeof fd === 'string') return log.log('warn', 'jsonrpc fifo: cannot answer', { error: fd });
  await new Promise<void>((resolve) => {
    const out = new net.Socket({ fd, readable: false, writable: true });
    const timer = setTimeout(() => out.destroy(), REPLY_WRITE_MS);
    out.on('error', () => {});
    out.on('close', () => (clearTimeout(timer), resolve()));
    out.end(text);
  });
}

/** the FIFO: created (mode, owner), held open for reading and writing so it never reaches EOF */
export function startJsonrpcFifo(reg: RpcRegistry, path: string, replyDir: string, perms: UnixPerms, log: Log): Closer {
  const stale = removeStale(path, 'fifo');
  if (stale) throw new Error(`config key jsonrpcs.fifo_name: ${stale}`);
  try {
    execFileSync('mkfifo', ['-m', (perms.mode || 0o600).toString(8), path], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(`config key jsonrpcs.fifo_name: cannot create the FIFO ${path}: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim()}`);
  }
  const err = applyPerms(path, perms);
  if (err) {
    removeOwn(path, 'fifo');
    throw new Error(`config key jsonrpcs.fifo_mode: ${err}`);
  }
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const input = new net.Socket({ fd, readable: true, writable: false });
  const split = new JsonDocSplitter();
  let queue = Promise.resolve();
  input.on('error', (e) => log.log('warn', 'jsonrpc fifo: read error', { path, error: e.message }));
  input.on('data', (d: Buffer) => {
    for (const doc of split.push(d)) {
      if (typeof doc !== 'string') {
        log.log('warn', 'jsonrpc fifo: request too large, dropped', { path, bytes: doc.dropped });
        continue;
      }
      queue = queue.then(async () => {
        let req: { reply_name?: unknown };
        try {
          req = JSON.parse(doc) as { reply_name?: unknown };
        } catch {
          return log.log('warn', 'jsonrpc fifo: not a JSON document, dropped', { path });
        }
        await writeReply(replyDir, req?.reply_name, await answerJson(reg, doc), log);
      }).catch((e) => log.log('warn', 'jsonrpc fifo: request failed', { error: (e as Error).message }));
    }
  });
  return {
    address: `fifo:${path}`,
    close: async () => {
      input.destroy();
      removeOwn(path, 'fifo');
    },
  };
}

async function dgramAnswer(reg: RpcRegistry, msg: Buffer): Promise<Buffer> {
  const text = await answerJson(reg, msg.toString('utf8'));
  const out = Buffer.from(text);
  if (out.length <= MAX_DGRAM) return out;
  const id = (JSON.parse(text) as { id?: unknown }).id ?? null;
  return Buffer.from(srjsonPrint({ jsonrpc: '2.0', error: { code: 500, message: `reply too big for a datagram (${out.length} bytes): use the FIFO or HTTP` }, id }));
}

/** the datagram socket: a unix path (node-unix-socket) or udp:IP:PORT */
export async function startJsonrpcDgram(reg: RpcRegistry, spec: string, perms: UnixPerms, log: Log): Promise<Closer> {
  const udp = /^udp:(\[[0-9a-fA-F:.]+\]|[\w.-]+):(\d{1,5})$/.exec(spec);
  if (udp) {
    const host = udp[1].replace(/^\[|\]$/g, '');
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    sock.on('message', (m, r) => void dgramAnswer(reg, m).then((out) => sock.send(out, r.port, r.address, () => {})));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`config key jsonrpcs.dgram_socket: ${spec}: ${e.code ?? e.message}`)));
      sock.bind(Number(udp[2]), host, () => resolve());
    });
    sock.on('error', () => {});
    return { address: spec, close: () => new Promise<void>((r) => sock.close(() => r())) };
  }
  if (spec.startsWith('udp:')) throw new Error(`config key jsonrpcs.dgram_socket: "${spec}" is not udp:IP:PORT`);
  const stale = removeStale(spec, 'socket');
  if (stale) throw new Error(`config key jsonrpcs.dgram_socket: ${stale}`);
  let s: ReturnType<typeof openUnixDgram> = '';
  s = openUnixDgram(spec, (m, from) => {
    const sock = s;
    if (typeof sock !== 'string') void dgramAnswer(reg, m).then((out) => sock.send(out, from));
  }, (e) => log.log('warn', 'jsonrpc dgram: socket error', { path: spec, error: e.message }));
  if (typeof s === 'string') throw new Error(`config key jsonrpcs.dgram_socket: ${s}`);
  const err = applyPerms(spec, perms);
  const sock = s;
  if (err) {
    sock.close();
    removeOwn(spec, 'socket');
    throw new Error(`config key jsonrpcs.dgram_mode: ${err}`);
  }
  return { address: `unixd:${spec}`, close: async () => (sock.close(), removeOwn(spec, 'socket')) };
}
