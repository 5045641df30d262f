// The HEP outlet of `kdmq serve` (siptrace.*): trace copies go out from their own ephemeral UDP
// socket to siptrace.duplicate_uri. push() only queues (bounded by siptrace.queue_size, counting
// what waits and what the kernel has not confirmed); a setImmediate drain sends, so the SIP path
// never waits on a trace copy. A full queue drops the copy (counted); send errors are counted.

import { createSocket, type Socket } from 'node:dgram';
import type { Endpoint } from './transport.ts';
import type { HepOutlet } from './hep-outlet.ts';

export class UdpHepOutlet implements HepOutlet {
  sent = 0;
  sendErrors = 0;
  private readonly queue: Uint8Array[] = [];
  private head = 0;
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private readonly socket: Socket;
  private flushed: (() => void) | null = null;

  constructor(
    private readonly to: Endpoint,
    private readonly limit: number,
  ) {
    this.socket = createSocket(to.host.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('error', () => {
      this.sendErrors++;
    });
  }

  /** copies waiting or in the kernel's hands */
  get queued(): number {
    return this.queue.length - this.head + this.inFlight;
  }

  push(packet: Uint8Array): boolean {
    if (this.closed || this.queued >= this.limit) return false;
    this.queue.push(packet);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
    return true;
  }

  private drain(): void {
    this.scheduled = false;
    // a batch per turn of the event loop: SIP datagrams that arrive meanwhile are not held up
    const end = Math.min(this.queue.length, this.head + 256);
    for (; this.head < end; this.head++) {
      const p = this.queue[this.head];
      this.inFlight++;
      this.socket.send(p, this.to.port, this.to.host, (err) => {
        this.inFlight--;
        if (err) this.sendErrors++;
        else this.sent++;
        if (this.queued === 0) this.flushed?.();
      });
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** send what is queued (at most `ms`), then close the socket */
  async close(ms = 500): Promise<void> {
    this.closed = true;
    if (this.queued > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        this.flushed = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
