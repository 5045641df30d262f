// parseMessage's `partial` on framing errors: a request whose start line and Via/From/To/Call-ID/
// CSeq are readable comes back with the error and the request as read (so a 400 can be formed);
// responses, garbage and requests missing one of those headers come back without it. The partial
// request's accessors never throw, and a 400 written from it parses.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage, responseTo, writeResponse, type MessageParseResult, type ParseResult, type SipMessage } from '../../src/sip/index.ts';

const crlf = (lines: string[]): string => lines.join('\r\n');
const fixture = (f: string): string => readFileSync(new URL(`./fixtures/${f}.sip`, import.meta.url), 'utf8').replace(/\n/g, '\r\n');

const HEAD = [
  'OPTIONS sip:bob@127.0.0.1 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.9:5070;branch=z9hG4bK-p1',
  'Max-Forwards: 70',
  'From: <sip:alice@127.0.0.9>;tag=f1',
  'To: <sip:bob@127.0.0.1>',
  'Call-ID: partial-1',
  'CSeq: 7 OPTIONS',
];

function failed(r: MessageParseResult) {
  if (r.ok) throw new Error('expected a parse error');
  return r;
}

describe('partial requests on framing errors', () => {
  it.each([
    ['body shorter than Content-Length', crlf([...HEAD, 'Content-Length: 50', '', 'short']), /shorter than Content-Length \(5 < 50\)/],
    ['bad header line', crlf([...HEAD.slice(0, 2), 'Max-Forwards 70', ...HEAD.slice(3), 'Content-Length: 0', '', '']), /bad header line 'Max-Forwards 70'/],
    ['Content-Length not a number', crlf([...HEAD, 'Content-Length: five', '', '']), /Content-Length/],
    ['negative Content-Length', crlf([...HEAD, 'Content-Length: -1', '', '']), /Content-Length/],
    ['conflicting Content-Length', crlf([...HEAD, 'l: 3', 'Content-Length: 4', '', 'abcd']), /conflicting Content-Length/],
    ['continuation before any header', crlf([HEAD[0], '  folded', ...HEAD.slice(1), 'Content-Length: 0', '', '']), /continuation line/],
    ['huge Content-Length', crlf([...HEAD, `Content-Length: ${'9'.repeat(40)}`, '', '']), /Content-Length/],
  ])('%s: error plus the readable request', (_name, text, error) => {
    const r = failed(parseMessage(text));
    expect(r.error).toMatch(error);
    const p = r.partial;
    expect(p).toBeDefined();
    expect([p!.method, p!.get('call-id'), p!.get('cseq'), p!.get('from'), p!.get('to')]).toEqual(
      ['OPTIONS', 'partial-1', '7 OPTIONS', '<sip:alice@127.0.0.9>;tag=f1', '<sip:bob@127.0.0.1>']);
    expect(p!.topVia().ok && p!.topVia()).toMatchObject({ value: { branch: 'z9hG4bK-p1' } });
    const resp = parseMessage(writeResponse(responseTo(p!, 400, r.error)));
    expect(resp.ok && resp.value.kind === 'response' && [resp.value.status, resp.value.get('call-id')]).toEqual([400, 'partial-1']);
  });

  it('keeps the error texts the fixtures expect', () => {
    expect(failed(parseMessage(fixture('bad-content-length-short'))).error).toMatch(/shorter than Content-Length/);
    expect(failed(parseMessage(fixture('header-without-colon'))).partial?.get('call-id')).toBe('call-36@192.0.2.1');
  });

  it.each([
    ['a response', crlf(['SIP/2.0 200 OK', ...HEAD.slice(1), 'Content-Length: 9', '', ''])],
    ['no Via', crlf([HEAD[0], ...HEAD.slice(2), 'Content-Length: 9', '', ''])],
    ['no Call-ID', crlf([...HEAD.slice(0, 5), HEAD[6], 'Content-Length: 9', '', ''])],
    ['an unreadable CSeq', crlf([...HEAD.slice(0, 6), 'CSeq: x OPTIONS', 'Content-Length: 9', '', ''])],
    ['a From made bad by the broken line', crlf([...HEAD.slice(0, 3), 'From <sip:alice@127.0.0.9>', ...HEAD.slice(4), '', ''])],
    ['a bad request line', crlf(['OPTIONS sip:bob@127.0.0.1', ...HEAD.slice(1), 'Content-Length: 9', '', ''])],
    ['no empty line after the headers (maybe cut)', crlf(HEAD)],
  ])('no partial for %s', (_name, text) => {
    const r = failed(parseMessage(text));
    expect(r.error.length).toBeGreaterThan(0);
    expect(r.partial).toBeUndefined();
  });

  it('a well-framed message still parses, with no partial anywhere', () => {
    const r = parseMessage(crlf([...HEAD, 'Content-Length: 2', '', 'ok']));
    expect(r.ok && r.value.bodyText()).toBe('ok');
  });

  it('partial requests never throw from any accessor, and a 400 from them always parses', () => {
    const base = crlf([...HEAD, 'Content-Length: 0', '', '']);
    const junk = fc.string({ unit: 'binary', maxLength: 30 }).map((s) => s.replace(/\r|\n/g, ' '));
    const line = fc.oneof(
      junk,
      junk.map((s) => `Content-Length: ${s}`),
      junk.map((s) => `Via: ${s}`),
      fc.constantFrom('Content-Length: 99999', 'l: 1', '  folded', 'Max-Forwards', 'Contact: <sip:x@y>;expires=1'),
    );
    let partials = 0;
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 4 }), fc.nat(7), (extra, at) => {
        const lines = base.split('\r\n');
        lines.splice(1 + at, 0, ...extra);
        const r: ParseResult<SipMessage> = parseMessage(lines.join('\r\n')); // still assignable
        const p = !r.ok ? (r as MessageParseResult & { ok: false }).partial : undefined;
        if (!p) return;
        partials++;
        for (const h of p.headers) p.get(h.name);
        for (const x of [p.vias(), p.from(), p.to(), p.callId(), p.cseq(), p.contacts(), p.maxForwards(), p.expires(), p.requestUri()]) {
          expect(typeof x.ok).toBe('boolean');
        }
        p.bodyText();
        const resp = parseMessage(writeResponse(responseTo(p, 400, 'Bad Request')));
        expect(resp.ok).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(partials).toBeGreaterThan(20);
  });
});
