// Unix datagram sockets (ctl "unixd:", jsonrpcs dgram_socket): Node has none, so they come from
// the optional package node-unix-socket (prebuilt N-API binary), loaded only when one is
// configured. Without it the configured socket is refused with one line saying so. An edge.

import { createRequire } from 'node:module';

export interface UnixDgram {
  /** send to a peer's bound path; errors (peer gone, too long) come back as a string */
  send(buf: Uint8Array, to: string): Promise<string | null>;
  close(): void;
}

interface NativeSocket {
  bind(path: string): void;
  sendTo(buf: Buffer, offset: number, length: number, dest: string, cb?: (e?: Error) => void): void;
  on(ev: 'data', f: (buf: Buffer, from: string) => void): void;
  on(ev: 'error', f: (e: Error) => void): void;
  close(): void;
}

let native: { DgramSocket: new () => NativeSocket } | string | undefined;

function load(): { DgramSocket: new () => NativeSocket } | string {
  if (native === undefined) {
    try {
      native = createRequire(import.meta.url)('node-unix-socket') as { DgramSocket: new () => NativeSocket };
    } catch (e) {
      native = `unix datagram sockets need the optional package node-unix-socket (npm install node-unix-socket): ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return native;
}

/** bind a unix datagram socket at `path` (which must not exist); messages go to `onMessage` */
export function openUnixDgram(path: string, onMessage: (buf: Buffer, from: string) => void, onError: (e: Error) => void): UnixDgram | string {
  const mod = load();
  if (typeof mod === 'string') return mod;
  let s: NativeSocket;
  try {
    s = new mod.DgramSocket();
    s.bind(path);
  } catch (e) {
    return `${path}: cannot bind a unix datagram socket: ${(e as Error).message}`;
  }
  s.on('data', onMessage);
  s.on('error', onError);
  let closed = false;
  return {
    send: (buf, to) =>
      new Promise((resolve) => {
        if (closed || to === '') return resolve(closed ? 'closed' : 'the sender has no bound address');
        try {
          const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
          s.sendTo(b, 0, b.length, to, (e) => resolve(e ? e.message : null));
        } catch (e) {
          resolve((e as Error).message);
        }
      }),
    close: () => {
      if (closed) return;
      closed = true;
      s.close();
    },
  };
}
