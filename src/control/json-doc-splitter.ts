// Cuts a byte stream (jsonrpcs' FIFO) into JSON documents the way jsonrpc_read_stream does
// (jsonrpcs_fifo.c 5.6.3): braces are counted outside "…" and '…' strings, and a document ends
// where its first "{" is closed. Unlike 5.6.3 (which only looks at the byte before a quote) a
// backslash escapes exactly one byte, so a string ending in "\\" ends there. What comes
// before that "{" (the newline after the previous request) belongs to the document and is
// trimmed by the reader. A document over `max` bytes is dropped whole. Pure; never throws.

export class JsonDocSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private depth = 0;
  private found = false;
  private quote = 0; // 0, or the quote byte we are inside
  private escaped = false;
  private dropping = false;

  constructor(private readonly max = 65_536) {}

  /** feed bytes; returns the documents they complete (a dropped one as { dropped: bytes }) */
  push(chunk: Uint8Array): Array<string | { dropped: number }> {
    const out: Array<string | { dropped: number }> = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.quote !== 0) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === this.quote) this.quote = 0;
      } else if (c === 0x22 || c === 0x27) this.quote = c;
      else if (c === 0x7b) {
        this.found = true;
        this.depth++;
      } else if (c === 0x7d && this.depth > 0) this.depth--;
      if (this.found && this.depth === 0) {
        this.take(chunk.subarray(start, i + 1));
        out.push(this.dropping || this.size > this.max ? { dropped: this.size } : Buffer.concat(this.parts).toString('utf8'));
        this.reset();
        start = i + 1;
      }
    }
    this.take(chunk.subarray(start));
    if (this.size > this.max && !this.dropping) {
      this.dropping = true; // keep counting braces, forget the bytes
      this.parts = [];
    }
    return out;
  }

  private take(b: Uint8Array): void {
    if (b.length === 0) return;
    this.size += b.length;
    if (!this.dropping) this.parts.push(Buffer.from(b));
  }

  private reset(): void {
    this.parts = [];
    this.size = 0;
    this.depth = 0;
    this.found = false;
    this.quote = 0;
    this.escaped = false;
    this.dropping = false;
  }
}
