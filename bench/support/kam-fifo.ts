// Kamailio's JSON-RPC over the jsonrpcs FIFO (startKamailio({ jsonrpcFifo: true })), for answers
// of any size: the cluster figure's ul.dump of 100 000s of AoRs. Over HTTP (xhttp) such a dump
// failed with "TypeError: terminated" (Kamailio closed the connection in the middle of the body;
// register-cluster runs 2-3 of 2026-12-07 at ≈ 100 000 AoRs), and kamcmd's BINRPC answers
// "reply too big". jsonrpcs writes a FIFO reply with a blocking fwrite of the whole body
// (jsonrpcs_fifo.c), so nothing there limits the size: this reader only has to keep reading. The
// reply FIFO is made in /tmp (jsonrpcs' default reply directory) and opened O_RDWR (the open never
// blocks and Kamailio's open for writing finds a reader); the reply's end is found by a streaming
// scan of the JSON's nesting (linear in its size; parsing the growing text at every chunk is not).

import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

/** Tracks where a JSON text ends, chunk by chunk: depth of {} and [], strings and escapes. */
export class JsonEnd {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private started = false;
  /** feed a chunk; true once a complete top-level object or array has been seen */
  feed(chunk: Buffer): boolean {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
      } else if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) {
        this.depth++;
        this.started = true;
      } else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.started && this.depth === 0) return true;
      }
    }
    return false;
  }
}

let seq = 0;

/** one JSON-RPC request over Kamailio's jsonrpcs FIFO; returns `result`, throws on `error` */
export function kamFifoRpc(fifo: string, method: string, params: unknown[] = [], timeoutMs = 300_000): Promise<unknown> {
  const name = `kdmq_bench_${process.pid}_${++seq}`;
  const path = join('/tmp', name);
  execFileSync('mkfifo', ['-m', '0666', path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const sock = new net.Socket({ fd, readable: true, writable: false });
  return new Promise<unknown>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const end = new JsonEnd();
    let bytes = 0;
    const done = (f: () => void) => {
      clearTimeout(timer);
      sock.destroy();
      rmSync(path, { force: true });
      f();
    };
    const timer = setTimeout(() => done(() => reject(new Error(`${method} over ${fifo}: no complete reply within ${timeoutMs} ms (${bytes} bytes)`))), timeoutMs);
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      bytes += d.length;
      if (!end.feed(d)) return;
      done(() => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { result?: unknown; error?: { code: number; message: string } };
          if (body.error) reject(new Error(`${method}: ${body.error.code} ${body.error.message}`));
          else resolve(body.result);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    sock.on('error', (e) => done(() => reject(e)));
    try {
      const w = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        writeSync(w, `${JSON.stringify({ jsonrpc: '2.0', method, params, reply_name: name, id: 1 })}\n`);
      } finally {
        closeSync(w);
      }
    } catch (e) {
      done(() => reject(e as Error));
    }
  });
}
