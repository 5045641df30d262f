// The writer's head (writer.ts assemble): an ASCII head is encoded straight into the message, any
// other head through the scratch buffer; a Via given apart (writeRequest's second argument, the
// transaction layer's own) comes first. Either way the bytes are exactly those of the plain
// construction (start line, headers, Content-Length, CRLFs, then the body as UTF-8), and a CR or LF
// in any piece is refused.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeRequest, writeResponse } from '../../src/sip/index.ts';

const enc = new TextEncoder();

function reference(start: string, headers: Array<[string, string]>, body: string): number[] {
  let text = `${start}\r\n`;
  for (const [n, v] of headers) text += `${n}: ${v}\r\n`;
  const b = enc.encode(body);
  text += `Content-Length: ${b.length}\r\n\r\n`;
  return [...enc.encode(text), ...b];
}

/** header text: mostly ASCII, sometimes not (é, €, a surrogate pair, a lone surrogate) */
const piece = fc.oneof(
  fc.stringMatching(/^[a-zA-Z0-9 .:;=<>@"-]{0,30}$/),
  fc.constantFrom('"Zoë" <sip:z@b>', '€', '\ud83d\ude00', '\ud800', 'sip:é@x'),
);
const name = fc.constantFrom('From', 'To', 'Call-ID', 'X-Note', 'Subject');
const headers = fc.array(fc.tuple(name, piece), { maxLength: 6 });
const body = fc.oneof(fc.constant(''), fc.constantFrom('{"action":1}', 'é', 'x'.repeat(5000)), fc.string({ maxLength: 20 }));

describe('writer head', () => {
  it('writes a request with or without a separate Via as the plain construction would', () => {
    fc.assert(fc.property(headers, body, fc.option(piece, { nil: undefined }), (hs, b, via) => {
      const out = writeRequest({ method: 'KDMQ', uri: 'sip:a@b', headers: hs, body: b }, via);
      const all: Array<[string, string]> = via === undefined ? hs : [['Via', via], ...hs];
      expect([...out]).toEqual(reference('KDMQ sip:a@b SIP/2.0', all, b));
    }), { numRuns: 300 });
  });

  it('writes a response as the plain construction would', () => {
    fc.assert(fc.property(headers, body, (hs, b) => {
      const out = writeResponse({ status: 200, reason: 'OK', headers: hs, body: b });
      expect([...out]).toEqual(reference('SIP/2.0 200 OK', hs, b));
    }), { numRuns: 200 });
  });

  it('refuses a CR or LF in the separate Via as in any header value', () => {
    expect(() => writeRequest({ method: 'KDMQ', uri: 'sip:a@b', headers: [] }, 'SIP/2.0/UDP a:1\r\nX: y')).toThrow(/CR or LF in SIP header value/);
    expect(() => writeRequest({ method: 'KDMQ', uri: 'sip:a@b', headers: [['X', 'a\nb']] }, 'SIP/2.0/UDP a:1')).toThrow(/CR or LF in SIP header value/);
  });
});
