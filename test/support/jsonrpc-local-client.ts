// Clients for JSON-RPC over jsonrpcs' local transports, as kamctl (RPCFIFO) and kamcli speak
// them: fifoRpc() makes a reply FIFO in a directory, writes {"jsonrpc","method","params",
// "reply_name","id"} into the server FIFO and reads the reply text; dgramRpc() sends one datagram
// from a bound unix datagram socket (or UDP) and returns the reply datagram's text. Both resolve to
// the raw text (the caller parses it) and reject after a deadline. Test support only.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openUnixDgram } from '../../src/control/unix-dgram.ts';

function request(method: string, params: unknown[], extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ jsonrpc: '2.0', method, ...(params.length ? { params } : {}), ...extra, id: 1 })}\n`;
}

function complete(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** one request over the server FIFO; the reply FIFO is made in `replyDir` and removed after */
export function fifoRpc(fifo: string, replyDir: string, method: string, params: unknown[] = [], timeoutMs = 5000): Promise<string> {
  const name = `kdmq_test_reply_${randomBytes(4).toString('hex')}`;
  const path = join(replyDir, name);
  execFileSync('mkfifo', ['-m', '0666', path]);
  // O_RDWR: opening never blocks and the server's open for writing finds a reader
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const sock = new net.Socket({ fd, readable: true, writable: false });
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const done = (f: () => void) => {
      clearTimeout(timer);
      sock.destroy();
      rmSync(path, { force: true });
      f();
    };
    const timer = setTimeout(() => done(() => reject(new Error(`no reply on ${path} to ${method} within ${timeoutMs} ms (got ${JSON.stringify(text)})`))), timeoutMs);
    sock.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      if (complete(text)) done(() => resolve(text));
    });
    sock.on('error', (e) => done(() => reject(e)));
    try {
      const w = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        writeSync(w, request(method, params, { reply_name: name }));
      } finally {
        closeSync(w);
      }
    } catch (e) {
      done(() => reject(e as Error));
    }
  });
}

/** one request as one datagram: to a unix datagram socket path, or to "udp:IP:PORT" */
export function dgramRpc(target: string, replyDir: string, method: string, params: unknown[] = [], timeoutMs = 5000): Promise<string> {
  const msg = Buffer.from(request(method, params));
  return new Promise<string>((resolve, reject) => {
    let timer: NodeJS.Timeout;
    const udp = /^udp:(.+):(\d+)$/.exec(target);
    if (udp) {
      const s = dgram.createSocket('udp4');
      timer = setTimeout(() => (s.close(), reject(new Error(`no reply from ${target} within ${timeoutMs} ms`))), timeoutMs);
      s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(m.toString('utf8'))));
      s.send(msg, Number(udp[2]), udp[1]);
      return;
    }
    const path = join(replyDir, `kdmq_test_dgram_${randomBytes(4).toString('hex')}`);
    const s = openUnixDgram(path, (m) => {
      clearTimeout(timer);
      if (typeof s !== 'string') s.close();
      rmSync(path, { force: true });
      resolve(m.toString('utf8'));
    }, () => {});
    if (typeof s === 'string') return reject(new Error(s));
    timer = setTimeout(() => (s.close(), rmSync(path, { force: true }), reject(new Error(`no reply from ${target} within ${timeoutMs} ms`))), timeoutMs);
    void s.send(msg, target).then((err) => err && (clearTimeout(timer), s.close(), rmSync(path, { force: true }), reject(new Error(err))));
  });
}
