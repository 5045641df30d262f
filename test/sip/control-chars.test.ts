// Control characters in the header section (RFC 3261 §25.1; issue #14 item 6): a C0 control but HT,
// DEL, or a CR not before LF, in the request line, a header name or value, or a folded line, fails
// the parse with an error naming the char and the line, plus the request without those chars as
// `partial` (so the transaction layer answers 400). HT, UTF-8 text and any body bytes stay legal.
// findControl (four bytes at a time) equals the plain byte loop on any bytes, offsets and ends.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage, responseTo, writeResponse, type MessageParseResult } from '../../src/sip/index.ts';
import { findControl } from '../../src/sip/control.ts';

const LINES = [
  'REGISTER sip:lab.local SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.20:5070;branch=z9hG4bK-cc1',
  'Max-Forwards: 70',
  'From: <sip:alice@lab.local>;tag=t1',
  'To: <sip:alice@lab.local>',
  'Call-ID: cc-1@127.0.0.20',
  'CSeq: 1 REGISTER',
  'Contact: <sip:alice@127.0.0.20:5070>',
  'X-Folded: first',
  ' second',
  'Expires: 300',
];
const text = (lines: string[], body = ''): string => `${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const VALID = text(LINES);
/** C0 controls but HT, LF, CR; and DEL */
const CONTROLS = [...Array.from({ length: 32 }, (_, i) => i).filter((c) => c !== 9 && c !== 10 && c !== 13), 0x7f];

function failed(r: MessageParseResult) {
  if (r.ok) throw new Error('expected a parse error');
  return r;
}
const at = (line: number, col: number, ch: string): string => {
  const ls = [...LINES];
  ls[line] = ls[line].slice(0, col) + ch + ls[line].slice(col);
  return text(ls);
};

describe('control characters in the header section', () => {
  it('the valid message parses', () => {
    expect(parseMessage(VALID).ok).toBe(true);
  });

  it.each([
    ['NUL in a header value', at(5, 12, '\0'), 'NUL (0x00) in header Call-ID'],
    ['BEL in a header name', at(2, 3, '\x07'), 'control character 0x07 in the name of header Max-Forwards'],
    ['DEL at the end of a value', at(10, 12, '\x7f'), 'control character 0x7f in header Expires'],
    ['ESC in the request line', at(0, 9, '\x1b'), 'control character 0x1b in the request line'],
    ['NUL at the start of a line', at(6, 0, '\0'), 'NUL (0x00) in the name of header CSeq'],
    ['VT in a folded line', at(9, 3, '\x0b'), 'control character 0x0b in a folded line of header X-Folded'],
    ['a bare CR in a value', at(3, 8, '\r'), 'bare CR in header From'],
    ['US in the Via', at(1, 20, '\x1f'), 'control character 0x1f in header Via'],
  ])('%s: the error names it, the partial request is the message without it', (_n, msg, error) => {
    const r = failed(parseMessage(msg));
    expect(r.error).toBe(error);
    const p = r.partial!;
    expect(p).toBeDefined();
    const valid = parseMessage(VALID);
    expect(valid.ok && p.headers).toEqual(valid.ok && valid.value.headers);
    const top = p.topVia();
    expect([p.method, p.requestUriText, p.get('call-id'), top.ok && top.value.branch]).toEqual(
      ['REGISTER', 'sip:lab.local', 'cc-1@127.0.0.20', 'z9hG4bK-cc1']);
    const resp = parseMessage(writeResponse(responseTo(p, 400, r.error)));
    expect(resp.ok && resp.value.kind === 'response' && resp.value.status).toBe(400);
  });

  it('every control char anywhere in any header line fails the parse, with a partial request', () => {
    fc.assert(fc.property(fc.nat(LINES.length - 1), fc.nat(200), fc.constantFrom(...CONTROLS), (line, col, c) => {
      const r = failed(parseMessage(at(line, col % (LINES[line].length + 1), String.fromCharCode(c))));
      expect(r.error).toMatch(/^(NUL \(0x00\)|control character 0x[01][0-9a-f]|control character 0x7f) in /);
      expect(r.partial?.get('call-id')).toBe('cc-1@127.0.0.20');
    }), { numRuns: 400 });
  });

  it('a response with a control char fails without a partial request', () => {
    const r = failed(parseMessage('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-r\r\nX: a\x01b\r\nContent-Length: 0\r\n\r\n'));
    expect(r.error).toBe('control character 0x01 in header X');
    expect(r.partial).toBeUndefined();
  });

  it('HT, UTF-8 text, LF-only lines and a body of any bytes are accepted', () => {
    const body = String.fromCharCode(...Array.from({ length: 128 }, (_, i) => i));
    const msg = text([...LINES, 'Subject:\tcafé\t∑ 😀', 'X-Tab: a\tb'], body);
    const r = parseMessage(msg);
    expect(r.ok && r.value.get('subject')).toBe('café\t∑ 😀');
    expect(r.ok && Array.from(r.value.body)).toEqual(Array.from(Buffer.from(body)));
    expect(parseMessage(VALID.replace(/\r\n/g, '\n')).ok).toBe(true);
  });

  it('a CR right before the empty line (CRLF line ends) is not a bare CR', () => {
    expect(parseMessage(`${LINES.join('\r\n')}\r\n\r\n`).ok).toBe(true);
    expect(parseMessage(`${LINES.join('\n')}\r\n\n`).ok).toBe(true);
  });
});

describe('findControl', () => {
  const reference = (b: Uint8Array, from: number, to: number): number => {
    for (let i = from; i < to; i++) {
      const c = b[i];
      if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127 || (c === 13 && i + 1 < to && b[i + 1] !== 10)) return i;
    }
    return -1;
  };
  const byte = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 32, max: 126 }) },
    { weight: 2, arbitrary: fc.constantFrom(9, 10, 13, 0x80, 0xc3, 0xff, 0xa0, 0x9f) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
  );
  it('equals the byte loop on any bytes, any offset in its buffer, any range', () => {
    fc.assert(fc.property(fc.array(byte, { maxLength: 80 }), fc.nat(7), fc.nat(80), fc.nat(80), (bytes, off, a, z) => {
      const buf = new Uint8Array(bytes.length + off);
      buf.set(bytes, off);
      const v = buf.subarray(off);
      const from = Math.min(a, v.length);
      const to = from + Math.min(z, v.length - from);
      expect(findControl(v, from, to)).toBe(reference(v, from, to));
    }), { numRuns: 3000 });
  });
});

describe('never throws', () => {
  it('on any bytes with control chars and CRs sprinkled in, partial requests included', () => {
    const base = new TextEncoder().encode(VALID);
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(base.length), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (edits) => {
      const b = Array.from(base);
      for (const [i, c] of edits) b.splice(i, 0, c);
      const r = parseMessage(new Uint8Array(b));
      const m = r.ok ? r.value : r.partial;
      if (m) for (const x of [m.vias(), m.from(), m.to(), m.callId(), m.cseq(), m.contacts(), m.maxForwards(), m.expires()]) expect(typeof x.ok).toBe('boolean');
    }), { numRuns: 1500 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      expect(typeof parseMessage(b).ok).toBe('boolean');
    }), { numRuns: 1500 });
  });
});
