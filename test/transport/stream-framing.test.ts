// RFC 3261 §18.3 stream framing (src/transport/stream-framing.ts): fast-check over arbitrary chunk
// boundaries (the frames never depend on how the bytes were split), CRLF keep-alives (RFC 5626
// §3.5.1), the message size limit and the errors that close a connection.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamFramer, topViaSentBy, type Frame } from '../../src/transport/stream-framing.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function message(i: number, body: string, compact: boolean): string {
  const cl = compact ? `l: ${enc(body).length}` : `Content-Length: ${enc(body).length}`;
  return `KDMQ sip:usrloc@127.0.0.1:5090 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.2:5090;branch=z9hG4bK${i}\r\nCall-ID: c${i}\r\n${cl}\r\n\r\n${body}`;
}

function feed(framer: StreamFramer, bytes: Uint8Array, cuts: number[]): Frame[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Frame[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(...framer.push(bytes.subarray(at, p)));
    at = p;
  }
  return out;
}

const show = (fs: Frame[]) => fs.map((f) => (f.kind === 'message' ? `msg:${dec(f.data)}` : f.kind));

describe('StreamFramer', () => {
  it('gives the same frames for any chunking (messages, bodies with CRLFs, keep-alives between)', () => {
    const item = fc.oneof(
      fc.record({ body: fc.string({ maxLength: 300 }), compact: fc.boolean() }),
      fc.constantFrom('\r\n\r\n', '\r\n'),
    );
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 40 }), (items, cuts) => {
        const text = items.map((x, i) => (typeof x === 'string' ? x : message(i, x.body, x.compact))).join('');
        const bytes = enc(text);
        const whole = show(new StreamFramer().push(bytes));
        const split = show(feed(new StreamFramer(), bytes, cuts));
        expect(split).toEqual(whole);
        const want = items.flatMap((x, i) => (typeof x === 'string' ? [] : [`msg:${message(i, x.body, x.compact)}`]));
        expect(whole.filter((f) => f.startsWith('msg:'))).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  it('a double CRLF is a ping; a single CRLF between messages is skipped', () => {
    const f = new StreamFramer();
    expect(show(f.push(enc(`\r\n\r\n${message(1, 'x', false)}\r\n${message(2, '', false)}`)))).toEqual(['ping', `msg:${message(1, 'x', false)}`, `msg:${message(2, '', false)}`]);
  });

  it('a declared size over the limit gives `oversize` with the header section, then nothing more', () => {
    const f = new StreamFramer(200);
    const big = message(1, 'y'.repeat(500), false);
    const out = f.push(enc(big));
    expect(out).toHaveLength(1);
    expect(out[0].kind).toBe('oversize');
    if (out[0].kind === 'oversize') expect(dec(out[0].head)).toContain('Content-Length: 500');
    expect(f.push(enc(message(2, '', false)))).toEqual([]);
  });

  it('no Content-Length, a bad one or two different ones are errors', () => {
    expect(new StreamFramer().push(enc('OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n'))[0]).toMatchObject({ kind: 'error', reason: /no Content-Length/ });
    expect(new StreamFramer().push(enc('OPTIONS sip:a SIP/2.0\r\nContent-Length: -1\r\n\r\n'))[0]).toMatchObject({ kind: 'error' });
    expect(new StreamFramer().push(enc('OPTIONS sip:a SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab'))[0]).toMatchObject({ kind: 'error' });
  });

  it('a header section that never ends is refused past 64 KB', () => {
    const f = new StreamFramer();
    expect(f.push(enc(`OPTIONS sip:a SIP/2.0\r\nX: ${'z'.repeat(70_000)}`))[0]).toMatchObject({ kind: 'error', reason: /too large/ });
  });

  it('reads the top Via sent-by of the stream proto (the alias of an inbound connection)', () => {
    expect(topViaSentBy(enc(message(1, '', false)), 'tcp')).toEqual({ host: '127.0.0.2', port: 5090 });
    expect(topViaSentBy(enc(message(1, '', false)), 'tls')).toBeNull();
    expect(topViaSentBy(enc('KDMQ sip:a SIP/2.0\r\nv: SIP/2.0/TLS [::1];branch=z9hG4bKx\r\n\r\n'), 'tls')).toEqual({ host: '::1', port: 5061 });
  });
});
