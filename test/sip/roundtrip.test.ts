// Round-trip properties of the writer and parser (RFC 3261 §7) and of URI format/parse (§19.1):
// parse(write(m)) gives m back (start line, header names and values in order, body), with
// Content-Length always made correct; parse(format(u)) gives u back.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatUri, parseMessage, parseUri, writeMessage, writeRequest, writeResponse } from '../../src/sip/index.ts';
import type { OutgoingRequest, OutgoingResponse, SipUri } from '../../src/sip/index.ts';

const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/);
const lengthName = fc.constantFrom('Content-Length', 'content-length', 'l', 'L');
/**
 * any Unicode text without control chars but HT (the parser refuses them in a header section,
 * test/sip/control-chars.test.ts), without SP/HTAB at either end (the parser trims those)
 */
const value = fc.string({ unit: 'binary', maxLength: 40 })
  .map((s) => s.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '').replace(/^[ \t]+|[ \t]+$/g, ''));
const header = fc.oneof(
  { weight: 9, arbitrary: fc.tuple(token, value) },
  { weight: 1, arbitrary: fc.tuple(lengthName, fc.oneof(fc.nat({ max: 300 }).map(String), value)) },
);
const headers = fc.array(header, { maxLength: 12 });
const body = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 }));

const request: fc.Arbitrary<OutgoingRequest> = fc.record({
  method: token, uri: fc.stringMatching(/^[!-~]{1,40}$/), headers, body,
}, { requiredKeys: ['method', 'uri', 'headers'] });
const response: fc.Arbitrary<OutgoingResponse> = fc.record({
  status: fc.integer({ min: 100, max: 699 }), reason: value, headers, body,
}, { requiredKeys: ['status', 'reason', 'headers'] });

const isLength = (n: string) => /^(content-length|l)$/i.test(n);

/** The headers a reader must see: Content-Length values fixed, one appended when absent. */
function expectedHeaders(hs: Array<[string, string]>, len: number): Array<{ name: string; value: string }> {
  const out = hs.map(([name, v]) => ({ name, value: isLength(name) && !(/^\d+$/.test(v) && Number(v) === len) ? String(len) : v }));
  if (!hs.some(([n]) => isLength(n))) out.push({ name: 'Content-Length', value: String(len) });
  return out;
}
function bytesOf(b: Uint8Array | string | undefined): Uint8Array {
  return b === undefined ? new Uint8Array(0) : typeof b === 'string' ? new TextEncoder().encode(b) : b;
}

describe('writer/parser round trip', () => {
  it('requests: parse(writeRequest(r)) equals r', () => {
    fc.assert(fc.property(request, (r) => {
      const wire = writeRequest(r);
      const p = parseMessage(wire);
      if (!p.ok) throw new Error(p.error);
      const m = p.value;
      expect(m.kind === 'request' && [m.method, m.requestUriText, m.version]).toEqual([r.method, r.uri, 'SIP/2.0']);
      const b = bytesOf(r.body);
      expect(m.headers).toEqual(expectedHeaders(r.headers, b.length));
      expect(Array.from(m.body)).toEqual(Array.from(b));
      expect(writeMessage(m)).toEqual(wire);
    }), { numRuns: 500 });
  });

  it('responses: parse(writeResponse(r)) equals r', () => {
    fc.assert(fc.property(response, (r) => {
      const wire = writeResponse(r);
      const p = parseMessage(wire);
      if (!p.ok) throw new Error(p.error);
      const m = p.value;
      expect(m.kind === 'response' && [m.status, m.reason, m.version]).toEqual([r.status, r.reason, 'SIP/2.0']);
      const b = bytesOf(r.body);
      expect(m.headers).toEqual(expectedHeaders(r.headers, b.length));
      expect(Array.from(m.body)).toEqual(Array.from(b));
      expect(writeMessage(m)).toEqual(wire);
    }), { numRuns: 500 });
  });

  it('a value with CR or LF is refused by the writer', () => {
    expect(() => writeRequest({ method: 'KDMQ', uri: 'sip:a@b', headers: [['X', 'a\r\nVia: evil']] })).toThrow(/CR or LF/);
  });
});

const unicode = fc.string({ unit: 'binary', minLength: 1, maxLength: 16 });
const host = fc.oneof(
  fc.ipV4(),
  fc.ipV6().map((a) => `[${a}]`),
  fc.domain(),
  fc.stringMatching(/^_[a-z]{1,5}\._udp\.[a-z]{1,8}\.[a-z]{2,3}$/),
);
const port = fc.option(fc.integer({ min: 0, max: 65535 }), { nil: null });
const paramName = fc.stringMatching(/^[a-z0-9\-_.!~*+]{1,8}$/);
const paramValue = fc.option(fc.stringMatching(/^[A-Za-z0-9\-_.!~*'()[\]/:&+$]{1,10}$/), { nil: null });
const uri: fc.Arbitrary<SipUri> = fc.record({
  scheme: fc.constantFrom('sip' as const, 'sips' as const),
  userinfo: fc.option(fc.tuple(unicode, fc.option(fc.string({ unit: 'binary', maxLength: 8 }), { nil: null })), { nil: null }),
  host, port,
  params: fc.array(fc.tuple(paramName, paramValue), { maxLength: 4 }),
  headers: fc.array(fc.tuple(unicode, fc.string({ unit: 'binary', maxLength: 10 })), { maxLength: 3 }),
}).map(({ userinfo, port: p, ...rest }) => ({
  ...rest, user: userinfo?.[0] ?? null, password: userinfo?.[1] ?? null, port: p, portText: p === null ? '' : String(p),
}));

describe('URI round trip', () => {
  it('parseUri(formatUri(u)) equals u', () => {
    fc.assert(fc.property(uri, (u) => {
      const r = parseUri(formatUri(u));
      if (!r.ok) throw new Error(`${r.error} in ${formatUri(u)}`);
      expect(r.value).toEqual(u);
    }), { numRuns: 1000 });
  });

  it('formatUri(parseUri(t)) keeps the port as written', () => {
    const r = parseUri('sip:127.0.0.1:05090;status=active');
    expect(r.ok && [r.value.port, r.value.portText, formatUri(r.value)]).toEqual([5090, '05090', 'sip:127.0.0.1:05090;status=active']);
  });
});
