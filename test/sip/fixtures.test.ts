// Torture fixtures in the style of RFC 4475 (valid and invalid messages), one .sip file each in
// ./fixtures (stored with LF; converted to CRLF unless the entry says lf), and what each must give.

import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMessage, validateRequest, writeMessage } from '../../src/sip/index.ts';
import type { ParseResult, SipMessage, SipRequest } from '../../src/sip/index.ts';

const dir = new URL('./fixtures/', import.meta.url);

function load(file: string, lf: boolean): Uint8Array {
  const raw = readFileSync(new URL(`${file}.sip`, dir), 'utf8');
  return new TextEncoder().encode(lf ? raw : raw.replace(/\n/g, '\r\n'));
}
function val<T>(r: ParseResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got: ${r.error}`);
  return r.value;
}
function err(r: ParseResult<unknown>): string {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}
function req(m: SipMessage): SipRequest {
  if (m.kind !== 'request') throw new Error('expected a request');
  return m;
}

interface Case { file: string; lf?: boolean; error?: RegExp; check?: (m: SipMessage) => void }

const cases: Case[] = [
  { file: 'valid-register', check: (m) => {
    expect(val(validateRequest(req(m)))).toBe(true);
    const c = val(m.contacts())[0];
    expect(c.star === false && c.uri.port).toBe(5070);
    expect(val(m.expires())).toBe(300);
    expect(val(m.maxForwards())).toBe(70);
  } },
  { file: 'valid-kdmq-usrloc', check: (m) => {
    expect(val(req(m).requestUri()).user).toBe('usrloc');
    expect(JSON.parse(m.bodyText()).aor).toBe('user1');
    expect(m.contentType()).toBe('application/json');
    expect(val(m.cseq())).toEqual({ seq: 10, method: 'KDMQ' });
  } },
  { file: 'valid-kdmq-notification', check: (m) => {
    expect(m.bodyText()).toBe('sip:127.0.0.11:5090;status=active\r\nsip:127.0.0.12:5090;status=pending\r\n');
    expect(val(m.from()).uri.portText).toBe('5090');
  } },
  { file: 'valid-response-200', check: (m) => {
    expect(m.kind === 'response' && [m.status, m.reason]).toEqual([200, 'OK']);
    expect(val(m.to()).params).toEqual([['tag', '5497176f96ac98204aead303f19a0d17.4fdf0025']]);
  } },
  { file: 'compact-forms', check: (m) => {
    expect(val(m.callId())).toBe('compact-1@192.0.2.1');
    expect(val(m.from()).displayName).toBe('Alice');
    expect(val(m.to()).uri.user).toBe('bob');
    expect(val(m.topVia()).branch).toBe('z9hG4bK-c1');
    const c = val(m.contacts())[0];
    expect(c.star === false && c.expires).toBe(60);
    expect([m.get('Supported'), m.get('subject'), m.get('Content-Encoding'), m.get('Event'), m.get('Allow-Events')])
      .toEqual(['path, outbound', 'compact', 'gzip', 'presence', 'presence, dialog']);
    expect(m.contentType()).toBe('text/plain');
    expect(m.bodyText()).toBe('hello');
  } },
  { file: 'folded-lines', check: (m) => {
    expect(m.get('Subject')).toBe("I know you're there, pull up the chair please");
    expect(m.get('x-folded')).toBe('value on next line');
  } },
  { file: 'wsinv', check: (m) => {
    const r = req(m);
    expect(val(validateRequest(r))).toBe(true);
    expect(val(m.to()).params).toEqual([['tag', '1918181833n']]);
    expect(val(m.from()).displayName).toBe('J Rosenberg \\"');
    expect(val(m.from()).params).toEqual([['tag', '98asjd8']]);
    expect(val(m.maxForwards())).toBe(68);
    expect(val(m.cseq())).toEqual({ seq: 9, method: 'INVITE' });
    const v = val(m.topVia());
    expect([v.protocol, v.transport, v.host, v.branch]).toEqual(['SIP/2.0', 'UDP', '192.0.2.2', '390skdjuw']);
    expect(m.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.get('s')).toBe('');
    expect(val(r.requestUri()).params).toEqual([['unknownparam', null]]);
  } },
  { file: 'escaped-ruri', check: (m) => {
    const u = val(req(m).requestUri());
    expect([u.user, u.host]).toEqual(['sips:user@example.com', 'example.net']);
    const c = val(m.contacts())[0];
    expect(c.star === false && [c.uri.user, c.uri.params])
      .toEqual(['caller', [['%6c%72', null], ['n%61me', 'v%61lue%25%34%31']]]);
  } },
  { file: 'escaped-uri-headers', check: (m) => {
    const c = val(m.contacts())[0];
    expect(c.star === false && c.uri.headers).toEqual([['Route', '<sip:example.com>'], ['Subject', 'hi there']]);
  } },
  { file: 'semicolon-in-user', check: (m) => {
    const u = val(req(m).requestUri());
    expect([u.user, u.host, u.params]).toEqual(['user;par=u@example.net', 'example.com', []]);
  } },
  { file: 'ipv6-via', check: (m) => {
    const v = val(m.topVia());
    expect([v.host, v.port, v.received, v.rport]).toEqual(['[2001:db8::9:1]', 5060, '[2001:db8::9:255]', 5061]);
    const u = val(req(m).requestUri());
    expect([u.host, u.port, u.portText]).toEqual(['[2001:db8::10]', 5070, '5070']);
    expect(val(m.from()).uri.host).toBe('[2001:db8::1]');
  } },
  { file: 'ipv6-via-unbracketed-received', check: (m) => {
    const v = val(m.topVia());
    expect([v.transport, v.port, v.received, v.rport]).toEqual(['TCP', null, '2001:db8::9:255', null]);
  } },
  { file: 'ipv6-via-unterminated', check: (m) => expect(err(m.vias())).toMatch(/Via/) },
  { file: 'multi-via', check: (m) => {
    const vs = val(m.vias());
    expect(vs.map((v) => v.branch)).toEqual(['z9hG4bK-13', 'z9hG4bK-b', 'z9hG4bK-c']);
    expect([vs[1].ttl, vs[1].maddr, vs[1].host]).toEqual([16, '224.2.0.1', 'proxy.example.com']);
    expect(m.getAll('Via')).toHaveLength(2);
  } },
  { file: 'multiple-contacts', check: (m) => {
    const cs = val(m.contacts());
    expect(cs).toHaveLength(3);
    const [a, b, c] = cs;
    expect(a.star === false && [a.displayName, a.q, a.expires]).toEqual(['Bob, Jr.', 0.7, 3600]);
    expect(b.star === false && [b.instance, b.regId, b.uri.params]).toEqual(
      ['<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>', 1, [['transport', 'tcp']]]);
    expect(c.star === false && [c.q, c.uri.host]).toEqual([1, '192.0.2.6']);
  } },
  { file: 'contact-star', check: (m) => {
    expect(val(m.contacts())).toEqual([{ star: true }]);
    expect(val(m.expires())).toBe(0);
  } },
  { file: 'contact-star-mixed', check: (m) => expect(err(m.contacts())).toMatch(/\*/) },
  { file: 'lf-only', lf: true, check: (m) => expect(m.bodyText()).toBe('v=0\n') },
  { file: 'leading-crlf', check: (m) => expect(req(m).method).toBe('OPTIONS') },
  { file: 'extra-body-bytes', check: (m) => expect(m.bodyText()).toBe('0123') },
  { file: 'no-content-length', check: (m) => {
    expect(m.bodyText()).toBe('rest of datagram');
    expect(m.has('content-length')).toBe(false);
  } },
  { file: 'bad-content-length-short', error: /shorter than Content-Length/ },
  { file: 'bad-content-length-negative', error: /Content-Length/ },
  { file: 'bad-content-length-text', error: /Content-Length/ },
  { file: 'bad-content-length-conflict', error: /conflicting Content-Length/ },
  { file: 'cseq-negative', check: (m) => expect(err(m.cseq())).toMatch(/CSeq/) },
  { file: 'cseq-huge', check: (m) => expect(err(m.cseq())).toMatch(/CSeq/) },
  { file: 'cseq-2-31', check: (m) => expect(err(m.cseq())).toMatch(/out of range/) },
  { file: 'cseq-max', check: (m) => expect(val(m.cseq()).seq).toBe(2 ** 31 - 1) },
  { file: 'cseq-method-mismatch', check: (m) => expect(err(validateRequest(req(m)))).toMatch(/does not match/) },
  { file: 'missing-version', error: /request line/ },
  { file: 'bad-version', check: (m) => expect(err(validateRequest(req(m)))).toMatch(/version/) },
  { file: 'unknown-scheme', check: (m) => expect(err(req(m).requestUri())).toMatch(/unsupported URI scheme/) },
  { file: 'lws-in-start-line', error: /Request-URI/ },
  { file: 'status-out-of-range', error: /status code/ },
  { file: 'status-two-digits', error: /status/ },
  { file: 'response-empty-reason', check: (m) => expect(m.kind === 'response' && [m.status, m.reason]).toEqual([100, '']) },
  { file: 'max-forwards-bad', check: (m) => expect(err(validateRequest(req(m)))).toMatch(/Max-Forwards/) },
  { file: 'missing-call-id', check: (m) => expect(err(validateRequest(req(m)))).toMatch(/missing Call-ID/) },
  { file: 'header-without-colon', error: /bad header line/ },
  { file: 'unterminated-quote', check: (m) => expect(err(m.from())).toMatch(/From/) },
  { file: 'no-empty-line', error: /no empty line/ },
  { file: 'expires-huge', check: (m) => expect(err(m.expires())).toMatch(/out of range/) },
  { file: 'expires-max', check: (m) => expect(val(m.expires())).toBe(2 ** 32 - 1) },
  { file: 'port-out-of-range', check: (m) => expect(err(m.from())).toMatch(/port/) },
  { file: 'escaped-display-name', check: (m) => expect(val(m.from()).displayName).toBe('"Joe" \\ Smith') },
  { file: 'case-insensitive-names', check: (m) => expect(val(validateRequest(req(m)))).toBe(true) },
  { file: 'folded-before-header', error: /continuation line/ },
  { file: 'sips-and-password', check: (m) => {
    const u = val(req(m).requestUri());
    expect([u.scheme, u.user, u.password, u.host, u.port, u.portText, u.params])
      .toEqual(['sips', 'alice', 'secret', 'Example.COM', 5061, '05061', [['transport', 'TLS'], ['lr', null]]]);
  } },
  { file: 'empty-header-value', check: (m) => expect([m.get('x-empty'), m.get('subject')]).toEqual(['', 'spaced']) },
  { file: 'host-underscore-srv', check: (m) => expect(val(req(m).requestUri()).host).toBe('_sip._udp.dmq.example.com') },
  { file: 'bad-q-value', check: (m) => expect(err(m.contacts())).toMatch(/q value/) },
];

describe('RFC 4475-style fixtures', () => {
  it('every .sip file has an expectation and vice versa', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.sip')).map((f) => f.slice(0, -4)).sort();
    expect(cases.map((c) => c.file).sort()).toEqual(files);
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of cases) {
    it(c.file, () => {
      const r = parseMessage(load(c.file, c.lf === true));
      if (c.error !== undefined) {
        expect(err(r)).toMatch(c.error);
        return;
      }
      const m = val(r);
      c.check?.(m);
      const again = val(parseMessage(writeMessage(m)));
      expect(again.headers).toEqual(m.headers);
      expect(again.body).toEqual(m.body);
    });
  }
});
