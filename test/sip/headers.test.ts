// Unit tests of the header grammar (RFC 3261 §20: Via, CSeq, name-addr, Contact, compact names)
// and of responseTo (§8.2.6.2), written against the exports other layers use.

import { describe, expect, it } from 'vitest';
import {
  canonicalHeaderName, getParam, parseContacts, parseCSeq, parseMessage, parseNameAddr, parseVia, responseTo,
  writeResponse,
} from '../../src/sip/index.ts';
import type { ParseResult, SipRequest } from '../../src/sip/index.ts';

function val<T>(r: ParseResult<T>): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

describe('header names', () => {
  it.each([
    ['i', 'Call-ID'], ['m', 'Contact'], ['f', 'From'], ['t', 'To'], ['v', 'Via'], ['l', 'Content-Length'],
    ['c', 'Content-Type'], ['k', 'Supported'], ['s', 'Subject'], ['e', 'Content-Encoding'], ['o', 'Event'],
    ['r', 'Refer-To'], ['u', 'Allow-Events'], ['call-id', 'Call-ID'], ['CSEQ', 'CSeq'],
    ['max-forwards', 'Max-Forwards'], ['x-my-header', 'X-My-Header'], ['WWW-AUTHENTICATE', 'WWW-Authenticate'],
  ])('%s -> %s', (n, c) => expect(canonicalHeaderName(n)).toBe(c));
});

describe('Via', () => {
  it('parses a comma list with whitespace around slashes and params', () => {
    const vs = val(parseVia('SIP / 2.0 / udp host.example.com : 5060 ; branch = z9hG4bK1 ; rport = 7 , SIP/2.0/TLS [::1];received=10.0.0.1'));
    expect(vs.map((v) => [v.protocol, v.transport, v.host, v.port, v.branch, v.rport, v.received])).toEqual([
      ['SIP/2.0', 'UDP', 'host.example.com', 5060, 'z9hG4bK1', 7, null],
      ['SIP/2.0', 'TLS', '[::1]', null, null, undefined, '10.0.0.1'],
    ]);
  });
  it.each([
    'SIP/2.0/UDP', 'SIP/2.0 host', 'SIP/2.0/UDP host:99999', 'SIP/2.0/UDP host;ttl=256', 'SIP/2.0/UDP host;rport=x',
    'SIP/2.0/UDPhost', 'SIP/2.0/UDP host junk', 'SIP/2.0/UDP host;=x',
  ])('rejects %j', (t) => expect(parseVia(t).ok).toBe(false));
});

describe('CSeq', () => {
  it.each([['1 REGISTER', 1, 'REGISTER'], ['  2147483647\tKDMQ ', 2 ** 31 - 1, 'KDMQ'], ['0 INVITE', 0, 'INVITE']])(
    '%j', (t, seq, method) => expect(val(parseCSeq(t))).toEqual({ seq, method }));
  it.each(['2147483648 KDMQ', '-1 KDMQ', 'KDMQ', '1', '1KDMQ', '1 KD MQ', '1.5 KDMQ', ''])(
    'rejects %j', (t) => expect(parseCSeq(t).ok).toBe(false));
});

describe('name-addr', () => {
  it('takes params after an addr-spec as header params', () => {
    const na = val(parseNameAddr('sip:alice@example.com;tag=abc'));
    expect([na.uri.params, na.params, na.uriText]).toEqual([[], [['tag', 'abc']], 'sip:alice@example.com']);
  });
  it('keeps URI params inside <> apart from header params', () => {
    const na = val(parseNameAddr('Alice Liddell <sip:alice@example.com;transport=udp>;TAG=x;lr'));
    expect([na.displayName, na.uri.params, na.params]).toEqual(['Alice Liddell', [['transport', 'udp']], [['tag', 'x'], ['lr', null]]]);
    expect(getParam(na.params, 'Tag')).toBe('x');
    expect(getParam(na.params, 'lr')).toBeNull();
    expect(getParam(na.params, 'none')).toBeUndefined();
  });
  it.each(['<sip:a@b', '"unterminated <sip:a@b>', 'tel:+123', '<sip:a@b> junk', '<>', 'sip:@host'])(
    'rejects %j', (t) => expect(parseNameAddr(t).ok).toBe(false));
});

describe('Contact', () => {
  it('reads q, expires, +sip.instance and reg-id', () => {
    const [c] = val(parseContacts('<sip:a@192.0.2.1:5070;ob>;q=0.500;expires=0;+sip.instance="<urn:uuid:1>";reg-id=2'));
    expect(c.star === false && [c.q, c.expires, c.instance, c.regId, c.uri.portText]).toEqual([0.5, 0, '<urn:uuid:1>', 2, '5070']);
  });
  it('star alone', () => expect(val(parseContacts(' * '))).toEqual([{ star: true }]));
  it.each(['<sip:a@b>;q=1.1', '<sip:a@b>;q', '<sip:a@b>;expires=4294967296', '<sip:a@b>;reg-id=-1', '<sip:a@b>, *'])(
    'rejects %j', (t) => expect(parseContacts(t).ok).toBe(false));
});

describe('responseTo', () => {
  const raw = [
    'KDMQ sip:usrloc@127.0.0.1:5072 SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb',
    'v: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKc', 'To: <sip:usrloc@127.0.0.1:5072>', 'f: <sip:usrloc@127.0.0.1:5071>;tag=f1',
    'CSeq: 10 KDMQ', 'i: cid@127.0.0.1', 'Content-Length: 2', '', '{}',
  ].join('\r\n');
  const req = val(parseMessage(raw)) as SipRequest;

  it('copies Via values in order, From, To with the new tag, Call-ID, CSeq, extra headers, Content-Length', () => {
    const r = responseTo(req, 200, 'OK', { toTag: 'tt', headers: [['Server', 'kdmq']] });
    expect(r.headers).toEqual([
      ['Via', 'SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb'],
      ['Via', 'SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKc'], ['From', '<sip:usrloc@127.0.0.1:5071>;tag=f1'],
      ['To', '<sip:usrloc@127.0.0.1:5072>;tag=tt'], ['Call-ID', 'cid@127.0.0.1'], ['CSeq', '10 KDMQ'],
      ['Server', 'kdmq'], ['Content-Length', '0'],
    ]);
    const m = val(parseMessage(writeResponse(r)));
    expect(m.kind === 'response' && [m.status, m.reason, val(m.vias()).length, val(m.to()).params]).toEqual([200, 'OK', 3, [['tag', 'tt']]]);
  });

  it('keeps an existing To tag and counts the body', () => {
    const tagged = val(parseMessage(raw.replace('To: <sip:usrloc@127.0.0.1:5072>', 'To: <sip:usrloc@127.0.0.1:5072>;tag=old'))) as SipRequest;
    const r = responseTo(tagged, 200, 'OK', { toTag: 'new', body: 'sip:127.0.0.1:5071;status=active\r\n' });
    expect(r.headers.find(([n]) => n === 'To')?.[1]).toBe('<sip:usrloc@127.0.0.1:5072>;tag=old');
    expect(r.headers.at(-1)).toEqual(['Content-Length', '34']);
    expect(val(parseMessage(writeResponse(r))).bodyText()).toBe('sip:127.0.0.1:5071;status=active\r\n');
  });
});
