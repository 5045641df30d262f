// Kamailio's JSON-RPC over the jsonrpcs FIFO (startKamailio({ jsonrpcFifo: true })), for the
// cluster figure's reads of 100 000s of AoRs. Over HTTP (xhttp) a 3-node ul.dump brief failed with
// "TypeError: terminated" (Kamailio closed the connection in the middle of the body;
// register-cluster runs 2-3 of 2026-12-07 at ≈ 100 000 AoRs), and kamcmd's BINRPC answers
// "reply too big". jsonrpcs writes a FIFO reply with a blocking fwrite of the whole body
// (jsonrpcs_fifo.c), so nothing there limits the size. But building a dump costs Kamailio time
// quadratic in the AoRs (42 s for 110 000 on this machine, alone), so the figure asks
// `ul.lookup location AoR` for every AoR of the step instead (kamFifoMany: requests pipelined,
// the FIFO server reads one JSON document at a time, replies come back in order on one reply
// FIFO). The reply FIFO is made in /tmp (jsonrpcs' default reply directory) and opened O_RDWR (the
// open never blocks and Kamailio's open for writing finds a reader); replies are split by a
// streaming scan of the JSON's nesting (linear in the size).

import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

/** Splits a stream of JSON documents, chunk by chunk: depth of {} and [], strings and escapes. */
export class JsonEnd {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private started = false;
  private parts: Buffer[] = [];
  /** documents completed so far, not yet taken */
  readonly docs: Buffer[] = [];
  /** feed a chunk; true once a complete top-level object or array has been seen */
  feed(chunk: Buffer): boolean {
    let from = 0;
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
        if (this.started && this.depth === 0) {
          this.parts.push(chunk.subarray(from, i + 1));
          this.docs.push(Buffer.concat(this.parts));
          this.parts = [];
          this.started = false;
          from = i + 1;
        }
      }
    }
    if (from < chunk.length) this.parts.push(chunk.subarray(from));
    return this.docs.length > 0;
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
      bytes += d.length;
      if (!end.feed(d)) return;
      done(() => {
        try {
          const body = JSON.parse(end.docs[0].toString('utf8')) as { result?: unknown; error?: { code: number; message: string } };
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

export interface RpcAnswer {
  result?: unknown;
  error?: { code: number; message: string };
}

/**
 * Many requests over one reply FIFO: `group` at a time written into the server FIFO (its pipe
 * buffer holds them: ≈ 150 bytes each), the next group when their replies are in. Replies in order.
 */
export async function kamFifoMany(fifo: string, calls: Array<{ method: string; params: unknown[] }>, o: { group?: number; timeoutMs?: number } = {}): Promise<RpcAnswer[]> {
  const group = o.group ?? 200;
  const name = `kdmq_bench_${process.pid}_${++seq}`;
  const path = join('/tmp', name);
  execFileSync('mkfifo', ['-m', '0666', path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const sock = new net.Socket({ fd, readable: true, writable: false });
  const end = new JsonEnd();
  let want = 0;
  let wake: (() => void) | undefined;
  let failed: Error | undefined;
  sock.on('data', (d: Buffer) => {
    end.feed(d);
    if (end.docs.length >= want) wake?.();
  });
  sock.on('error', (e) => {
    failed = e;
    wake?.();
  });
  const out: RpcAnswer[] = [];
  const deadline = Date.now() + (o.timeoutMs ?? 300_000);
  try {
    for (let i = 0; i < calls.length; i += group) {
      const part = calls.slice(i, i + group);
      want = part.length;
      const text = part.map((c, j) => JSON.stringify({ jsonrpc: '2.0', method: c.method, params: c.params, reply_name: name, id: i + j })).join('\n') + '\n';
      const w = openSync(fifo, constants.O_WRONLY);
      try {
        writeSync(w, text);
      } finally {
        closeSync(w);
      }
      await new Promise<void>((resolve, reject) => {
        if (end.docs.length >= want) return resolve();
        const t = setTimeout(() => reject(new Error(`${fifo}: ${end.docs.length} of ${want} replies of group ${i / group} by the deadline`)), Math.max(1, deadline - Date.now()));
        wake = () => (clearTimeout(t), failed ? reject(failed) : resolve());
      });
      wake = undefined;
      for (const doc of end.docs.splice(0, want)) out.push(JSON.parse(doc.toString('utf8')) as RpcAnswer);
    }
    return out;
  } finally {
    sock.destroy();
    rmSync(path, { force: true });
  }
}
