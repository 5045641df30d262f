// The transaction layer answers a request whose framing is broken (short body, bad Content-Length,
// bad header line) with `400 <error>` when the parser salvaged its Via/From/To/Call-ID/CSeq: the
// response echoes those, the request is never handed up, a retransmission gets the same bytes,
// reason phrases are sanitised and at most 100 characters; unanswerable input is still dropped.

import { describe, expect, it } from 'vitest';
import type { SipResponse } from '../../src/sip/types.ts';
import { dec, enc, layerOnClock, parse, requestText } from './fixtures.ts';

const A = { host: '127.0.0.1', port: 5090 };
const B = { host: '127.0.0.2', port: 5090 };
const VIA = 'SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKframe';

/** requestText ends with "Content-Length: 0\r\n\r\n": swap that line for `cl` and append `body` */
const withLength = (cl: string, body = '', extra = {}) =>
  requestText(VIA, extra).replace('Content-Length: 0\r\n', `${cl}\r\n`) + body;

function feed(data: string) {
  const t = layerOnClock();
  t.layer.receive({ local: B, remote: A, data: enc(data) });
  return t;
}

describe('400 for broken framing around a readable request', () => {
  it.each([
    ['body shorter than Content-Length', withLength('Content-Length: 40', 'sip:127.0.0.1:5090'), 'body shorter than Content-Length (18 < 40)'],
    ['Content-Length not a number', withLength('Content-Length: ten'), undefined],
    ['conflicting Content-Length', withLength('l: 1\r\nContent-Length: 2', 'ab'), 'conflicting Content-Length headers'],
    ['bad header line', withLength('Content-Length: 0\r\nX-Bad header'), "bad header line 'X-Bad header'"],
  ])('%s → 400 with the parser error as reason, never handed up', (_n, data, reason) => {
    const { sent, handedUp, layer } = feed(data);
    expect(handedUp).toHaveLength(0);
    expect(sent).toHaveLength(1);
    expect(sent[0].to).toEqual(A);
    const resp = parse(sent[0].data) as SipResponse;
    expect(resp.status).toBe(400);
    if (reason) expect(resp.reason).toBe(reason);
    else expect(resp.reason).toMatch(/Content-Length/);
    expect(resp.get('call-id')).toBe('call-1');
    expect(resp.cseq()).toEqual({ ok: true, value: { seq: 1, method: 'KDMQ' } });
    expect(resp.getAll('via')[0]).toContain('branch=z9hG4bKframe');
    expect(layer.stats).toMatchObject({ parseErrors: 1, badRequests400: 1, unanswerable: 0 });
    expect(layer.size.servers).toBe(1);
  });

  it('answers a retransmission of the broken request with the same bytes, and only once a transaction', () => {
    const data = enc(withLength('Content-Length: 99', 'x'));
    const { sent, layer, clock } = layerOnClock();
    layer.receive({ local: B, remote: A, data });
    layer.receive({ local: B, remote: A, data });
    expect(sent).toHaveLength(2);
    expect(dec(sent[1].data)).toBe(dec(sent[0].data));
    expect(layer.stats).toMatchObject({ badRequests400: 1, retransmissionsAbsorbed: 1 });
    clock.runUntil(64 * 500 + 5000 + 1); // timer J (64·T1 + T4) ends it
    expect(layer.size.servers).toBe(0);
  });

  it('sanitises the reason phrase and clips it to 100 characters', () => {
    const longBad = `X-${'a'.repeat(200)} no colon here`;
    const { sent } = feed(withLength(`Content-Length: 0\r\n${longBad}`));
    const resp = parse(sent[0].data) as SipResponse;
    expect(resp.status).toBe(400);
    expect(resp.reason.length).toBeLessThanOrEqual(100);
    expect(resp.reason).toMatch(/^bad header line 'X-a+/);
    expect(dec(sent[0].data).split('\r\n')[0]).toBe(`SIP/2.0 400 ${resp.reason}`);
  });

  it('still drops what cannot be answered: no Call-ID, a broken ACK, a broken response', () => {
    const t = layerOnClock();
    const put = (s: string) => t.layer.receive({ local: B, remote: A, data: enc(s) });
    put(withLength('Content-Length: 50', '', { 'Call-ID': null }));
    put(withLength('Content-Length: 50').replace(/^KDMQ/, 'ACK').replace('1 KDMQ', '1 ACK'));
    put('SIP/2.0 200 OK\r\n' + withLength('Content-Length: 50').split('\r\n').slice(1).join('\r\n'));
    expect(t.sent).toHaveLength(0);
    expect(t.handedUp).toHaveLength(0);
    expect(t.layer.stats).toMatchObject({ parseErrors: 3, unanswerable: 2, badRequests400: 0 });
  });
});
