// Writes a node trace to a file with size-based rotation (FILE, FILE.1, FILE.2, …; FILE is the
// newest). Each file starts with the header (its `part` counts up) so every file decodes alone.
// Synchronous appends: a live node's trace is complete up to the last datagram even on a crash.

import { closeSync, existsSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { encodeLine, type TraceHeader, type TraceRecord } from './format.ts';
import type { TraceSink } from './recording-transport.ts';

export interface TraceFileOptions {
  path: string;
  /** rotate when the current file would pass this many bytes (0 = never) */
  maxBytes: number;
  /** files kept besides the current one */
  keep?: number;
}

export class TraceFileWriter implements TraceSink {
  private fd: number;
  private size = 0;
  private part = 0;
  private readonly keep: number;

  constructor(
    private readonly header: TraceHeader,
    private readonly o: TraceFileOptions,
  ) {
    this.keep = o.keep ?? 9;
    this.fd = openSync(o.path, 'w');
    this.put(encodeLine({ ...header, part: 0 }));
  }

  write(r: TraceRecord): void {
    const line = encodeLine(r);
    // a UTF-16 unit is at most 3 UTF-8 bytes: the exact length is needed only near the limit
    if (this.o.maxBytes > 0 && this.size > 0 && this.size + 3 * line.length > this.o.maxBytes && this.size + Buffer.byteLength(line) > this.o.maxBytes) this.rotate();
    this.put(line);
  }

  close(endTime?: number): void {
    if (this.fd < 0) return;
    if (endTime !== undefined) this.put(encodeLine({ r: 'end', t: endTime }));
    closeSync(this.fd);
    this.fd = -1;
  }

  private put(line: string): void {
    if (this.fd < 0) return;
    // the string straight to the file (encoded once, natively; no Buffer per record)
    this.size += writeSync(this.fd, line);
  }

  private rotate(): void {
    closeSync(this.fd);
    const p = this.o.path;
    if (existsSync(`${p}.${this.keep}`)) unlinkSync(`${p}.${this.keep}`);
    for (let i = this.keep - 1; i >= 1; i--) if (existsSync(`${p}.${i}`)) renameSync(`${p}.${i}`, `${p}.${i + 1}`);
    renameSync(p, `${p}.1`);
    this.fd = openSync(p, 'w');
    this.size = 0;
    this.part++;
    this.put(encodeLine({ ...this.header, part: this.part }));
  }
}
