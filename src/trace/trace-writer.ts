// Writes a node trace to a file with size-based rotation (FILE, FILE.1, FILE.2, …; FILE is the
// newest). Each file starts with the header (its `part` counts up) so every file decodes alone.
// Batched appends (issue #15: the recorder's overhead): records are kept in memory and written
// with one synchronous write when 64 KiB are pending, `flushMs` (default 20 ms) after the first
// pending record, on rotation, on close and when the process exits (the 'exit' event: a normal
// exit, process.exit, an uncaught exception). So a trace is complete up to its last flush: a
// SIGKILL or a power cut loses at most the last `flushMs` of datagrams (at most 64 KiB).

import { closeSync, existsSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { encodeLine, type TraceHeader, type TraceRecord } from './format.ts';
import type { TraceSink } from './recording-transport.ts';

export interface TraceFileOptions {
  path: string;
  /** rotate when the current file would pass this many bytes (0 = never) */
  maxBytes: number;
  /** files kept besides the current one */
  keep?: number;
  /** the longest a record stays in memory before it is written (ms; 0 = every record at once) */
  flushMs?: number;
}

/** pending characters that make the writer write at once */
const FLUSH_CHARS = 64 * 1024;

export class TraceFileWriter implements TraceSink {
  private fd: number;
  private size = 0;
  private part = 0;
  private readonly keep: number;
  private readonly flushMs: number;
  private pending: string[] = [];
  /** UTF-16 units pending (each at most 3 UTF-8 bytes) */
  private pendingChars = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly onExit = (): void => this.flush();

  constructor(
    private readonly header: TraceHeader,
    private readonly o: TraceFileOptions,
  ) {
    this.keep = o.keep ?? 9;
    this.flushMs = o.flushMs ?? 20;
    this.fd = openSync(o.path, 'w');
    this.put(encodeLine({ ...header, part: 0 }));
    this.flush();
    process.on('exit', this.onExit);
  }

  write(r: TraceRecord): void {
    if (this.fd < 0) return;
    const line = encodeLine(r);
    // a UTF-16 unit is at most 3 UTF-8 bytes: the exact length is needed only near the limit
    const max = this.o.maxBytes;
    if (max > 0 && this.size + this.pendingChars > 0 && this.size + 3 * (this.pendingChars + line.length) > max) {
      this.flush();
      if (this.size > 0 && this.size + Buffer.byteLength(line) > max) this.rotate();
    }
    this.put(line);
    if (this.flushMs === 0 || this.pendingChars >= FLUSH_CHARS) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(this.onExit, this.flushMs);
      this.timer.unref?.(); // a pending flush does not keep the process alive: 'exit' writes it
    }
  }

  /** writes what is pending (one write) */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.fd < 0 || this.pending.length === 0) return;
    const text = this.pending.length === 1 ? this.pending[0] : this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    // the string straight to the file (encoded once, natively; no Buffer per record)
    this.size += writeSync(this.fd, text);
  }

  close(endTime?: number): void {
    if (this.fd < 0) return;
    if (endTime !== undefined) this.put(encodeLine({ r: 'end', t: endTime }));
    this.flush();
    process.off('exit', this.onExit);
    closeSync(this.fd);
    this.fd = -1;
  }

  private put(line: string): void {
    this.pending.push(line);
    this.pendingChars += line.length;
  }

  private rotate(): void {
    this.flush();
    closeSync(this.fd);
    const p = this.o.path;
    if (existsSync(`${p}.${this.keep}`)) unlinkSync(`${p}.${this.keep}`);
    for (let i = this.keep - 1; i >= 1; i--) if (existsSync(`${p}.${i}`)) renameSync(`${p}.${i}`, `${p}.${i + 1}`);
    renameSync(p, `${p}.1`);
    this.fd = openSync(p, 'w');
    this.size = 0;
    this.part++;
    this.put(encodeLine({ ...this.header, part: this.part }));
    this.flush();
  }
}
