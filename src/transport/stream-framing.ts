// SIP message framing on a byte stream (RFC 3261 §18.3): a message ends Content-Length bytes after
// the empty line that closes its header section; Content-Length is mandatory on streams. CRLFs
// between messages are skipped, and a double CRLF is the keep-alive ping of RFC 5626 §3.5.1
// (answered with a single CRLF by the caller). Pure: bytes in, frames out, any chunking gives the
// same frames. After an `oversize` or `error` frame the stream is unusable (the caller closes it).

export type Frame =
  | { kind: 'message'; data: Uint8Array }
  /** RFC 5626 §3.5.1 CRLFCRLF: answer "\r\n" */
  | { kind: 'ping' }
  /** the declared message exceeds maxMessage: `head` is its header section (answer 513, close) */
  | { kind: 'oversize'; head: Uint8Array; size: number }
  | { kind: 'error'; reason: string };

export const DEFAULT_MAX_STREAM_MESSAGE = 1_048_576;
/** a header section larger than this is refused even under a larger message limit */
export const MAX_STREAM_HEAD = 65_535;

const CR = 13;
const LF = 10;
const PING = [CR, LF, CR, LF];

function headEnd(b: Uint8Array): [number, number] | null {
  for (let p = 0; ; ) {
    const lf = b.indexOf(LF, p);
    if (lf < 0) return null;
    if (b[lf + 1] === LF) return [lf, lf + 2];
    if (b[lf + 1] === CR && lf + 2 < b.length && b[lf + 2] === LF) return [lf, lf + 3];
    if (b[lf + 1] === CR && lf + 2 >= b.length) return null; // wait: "\n\r" may become "\n\r\n"
    p = lf + 1;
  }
}

const CL_RE = /^(?:content-length|l)[ \t]*:[ \t]*(\S*)[ \t]*$/gim;

/** the Content-Length of a header section: a number, null when absent, or an error */
export function contentLengthOf(head: string): number | null | { error: string } {
  let found: number | null = null;
  for (const m of head.matchAll(CL_RE)) {
    if (!/^\d{1,10}$/.test(m[1])) return { error: `bad Content-Length "${m[1].slice(0, 20)}"` };
    const v = Number(m[1]);
    if (found !== null && found !== v) return { error: 'two different Content-Length values' };
    found = v;
  }
  return found;
}

export class StreamFramer {
  private buf: Uint8Array = new Uint8Array(0);
  private parts: Uint8Array[] = [];
  private partsLen = 0;
  /** total bytes of the message being read, once its header section is known */
  private need: number | null = null;
  private dead = false;

  constructor(private readonly maxMessage = DEFAULT_MAX_STREAM_MESSAGE) {}

  push(chunk: Uint8Array): Frame[] {
    if (this.dead || chunk.byteLength === 0) return [];
    this.parts.push(chunk);
    this.partsLen += chunk.byteLength;
    const out: Frame[] = [];
    for (;;) {
      if (this.need !== null) {
        if (this.buf.byteLength + this.partsLen < this.need) return out;
        this.join();
        out.push({ kind: 'message', data: this.buf.slice(0, this.need) });
        this.buf = this.buf.subarray(this.need);
        this.need = null;
        continue;
      }
      this.join();
      const f = this.head();
      if (f === 'wait') return out;
      if (f !== 'next') {
        out.push(f);
        if (f.kind !== 'ping') {
          this.dead = true;
          this.buf = new Uint8Array(0);
          return out;
        }
      }
    }
  }

  private join(): void {
    if (this.parts.length === 0) return;
    const all = new Uint8Array(this.buf.byteLength + this.partsLen);
    all.set(this.buf, 0);
    let at = this.buf.byteLength;
    for (const p of this.parts) {
      all.set(p, at);
      at += p.byteLength;
    }
    this.buf = all;
    this.parts = [];
    this.partsLen = 0;
  }

  /** between messages: skip CR/LF (pings), or read a header section and set `need` */
  private head(): Frame | 'wait' | 'next' {
    const b = this.buf;
    if (b.byteLength === 0) return 'wait';
    if (b[0] === CR || b[0] === LF) {
      const n = Math.min(4, b.byteLength);
      let prefix = true;
      for (let i = 0; i < n; i++) if (b[i] !== PING[i]) prefix = false;
      if (prefix && n < 4) return 'wait';
      this.buf = b.subarray(prefix ? 4 : 1);
      return prefix ? { kind: 'ping' } : 'next';
    }
    const ends = headEnd(b);
    if (ends === null) {
      return b.byteLength > Math.min(MAX_STREAM_HEAD, this.maxMessage) ? { kind: 'error', reason: 'header section too large' } : 'wait';
    }
    if (ends[1] > MAX_STREAM_HEAD + 4) return { kind: 'error', reason: 'header section too large' };
    const cl = contentLengthOf(new TextDecoder().decode(b.subarray(0, ends[0])));
    if (cl === null) return { kind: 'error', reason: 'no Content-Length on a stream (RFC 3261 §18.3)' };
    if (typeof cl === 'object') return { kind: 'error', reason: cl.error };
    const size = ends[1] + cl;
    if (size > this.maxMessage) return { kind: 'oversize', head: b.slice(0, ends[1]), size };
    this.need = size;
    return 'next';
  }
}

/** the sent-by of the top Via of a request's header section, when it names `proto` */
export function topViaSentBy(data: Uint8Array, proto: string): { host: string; port: number } | null {
  const n = Math.min(data.byteLength, 4096);
  const text = new TextDecoder().decode(data.subarray(0, n));
  const m = /^(?:via|v)[ \t]*:[ \t]*SIP[ \t]*\/[ \t]*2\.0[ \t]*\/[ \t]*([A-Za-z]+)[ \t]+(\[[0-9a-fA-F:.]+\]|[0-9.]+)(?::(\d{1,5}))?/im.exec(text);
  if (!m || m[1].toLowerCase() !== proto) return null;
  return { host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : proto === 'tls' ? 5061 : 5060 };
}
