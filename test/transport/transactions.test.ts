// RFC 3261 §17 non-INVITE transactions on a VirtualClock: timer E/F/K on the client, the server's
// retransmission absorption and timer J, 400 for bad-but-answerable requests, the drop counters,
// and response routing by Via received/rport (§18.2.2, RFC 3581).

import { describe, expect, it } from 'vitest';
import { responseTo, writeResponse } from '../../src/sip/index.ts';
import type { SipRequest, SipResponse } from '../../src/sip/types.ts';
import { dec, enc, kdmq, layerOnClock, parse, requestText } from './fixtures.ts';

const A = { host: '127.0.0.1', port: 5090 };
const B = { host: '127.0.0.2', port: 5090 };

/** the response B would send to the request bytes A sent */
function answer(requestBytes: Uint8Array, status: number, reason = 'OK'): Uint8Array {
  return writeResponse(responseTo(parse(requestBytes) as SipRequest, status, reason, { toTag: 'b1' }));
}

describe('client transaction (§17.1.2)', () => {
  it('retransmits at 0.5, 1.5, 3.5, 7.5, 11.5, 15.5 … s and times out at exactly 32 s', () => {
    const { clock, sent, outcomes, layer, done } = layerOnClock();
    layer.request(kdmq('c1'), A, B, done);
    clock.runUntil(60_000);
    expect(sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
    expect(new Set(sent.map((s) => dec(s.data))).size).toBe(1); // the same bytes each time
    expect(sent.every((s) => s.to === B && s.from === A)).toBe(true);
    expect(outcomes).toEqual([{ at: 32_000, outcome: { kind: 'timeout' } }]);
    expect(layer.stats.timeouts).toBe(1);
    expect(layer.stats.retransmissionsSent).toBe(10);
    expect(layer.size.clients).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('adds a magic-cookie Via from the Random port, with rport when asked', () => {
    const { sent, layer, done } = layerOnClock({ rport: true });
    const h = layer.request(kdmq('c1'), A, B, done);
    expect(h.branch).toMatch(/^z9hG4bK[0-9a-f]{16}$/);
    const req = parse(sent[0].data) as SipRequest;
    expect(req.getAll('via')).toEqual([`SIP/2.0/UDP 127.0.0.1:5090;branch=${h.branch};rport`]);
    const again = layerOnClock({ rport: true });
    expect(again.layer.request(kdmq('c1'), A, B, again.done).branch).toBe(h.branch); // seeded
  });

  it('uses configured timers', () => {
    const { clock, sent, outcomes, layer, done } = layerOnClock({ timers: { t1: 100, t2: 400 } });
    layer.request(kdmq('c1'), A, B, done);
    clock.runUntil(10_000);
    expect(sent.map((s) => s.at)).toEqual([0, 100, 300, 700, 1100, 1500, 1900, 2300, 2700, 3100, 3500, 3900, 4300, 4700, 5100, 5500, 5900, 6300]);
    expect(outcomes[0].at).toBe(6400);
  });

  it('a final response stops retransmission, calls done once, and later copies are absorbed until K', () => {
    const { clock, sent, outcomes, layer, done } = layerOnClock();
    layer.request(kdmq('c1'), A, B, done);
    clock.runUntil(1600);
    expect(sent).toHaveLength(3);
    const ok = answer(sent[0].data, 200);
    layer.receive({ local: A, remote: B, data: ok });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0].outcome.kind).toBe('response');
    expect((outcomes[0].outcome as { response: SipResponse }).response.status).toBe(200);
    layer.receive({ local: A, remote: B, data: ok }); // retransmitted 200 inside timer K
    expect(layer.stats.retransmissionsAbsorbed).toBe(1);
    clock.runUntil(60_000);
    expect(sent).toHaveLength(3);
    expect(outcomes).toHaveLength(1);
    expect(layer.size.clients).toBe(0); // K (5 s) ended it
    layer.receive({ local: A, remote: B, data: ok });
    expect(layer.stats.strayResponses).toBe(1);
  });

  it('a provisional response does not call done and moves retransmission to T2', () => {
    const { clock, sent, outcomes, layer, done } = layerOnClock();
    layer.request(kdmq('c1'), A, B, done);
    clock.runUntil(600);
    layer.receive({ local: A, remote: B, data: answer(sent[0].data, 100, 'Trying') });
    expect(outcomes).toHaveLength(0);
    clock.runUntil(14_000);
    expect(sent.map((s) => s.at)).toEqual([0, 500, 1500, 5500, 9500, 13_500]);
    layer.receive({ local: A, remote: B, data: answer(sent[0].data, 404, 'Not Found') });
    expect(outcomes.map((o) => o.at)).toEqual([14_000]);
  });

  it('matches on branch AND method, and cancel() silences a transaction', () => {
    const { clock, sent, outcomes, layer, done } = layerOnClock();
    const h = layer.request(kdmq('c1'), A, B, done);
    const wrongMethod = dec(answer(sent[0].data, 200)).replace('CSeq: 1 KDMQ', 'CSeq: 1 OPTIONS');
    layer.receive({ local: A, remote: B, data: enc(wrongMethod) });
    expect(outcomes).toHaveLength(0);
    expect(layer.stats.strayResponses).toBe(1);
    h.cancel();
    clock.runUntil(60_000);
    expect(sent).toHaveLength(1);
    expect(outcomes).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });
});

describe('server transaction (§17.2.2)', () => {
  const via = 'SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKsrv1';
  const req = enc(requestText(via));

  it('hands a request up once and answers each retransmission with the same bytes', () => {
    const { clock, sent, handedUp, layer } = layerOnClock();
    layer.receive({ local: B, remote: A, data: req });
    layer.receive({ local: B, remote: A, data: req }); // retransmission while Trying: silence
    expect(handedUp).toHaveLength(1);
    expect(sent).toHaveLength(0);
    handedUp[0].tx.respond(200, 'OK', { toTag: 'b1' });
    expect(sent).toHaveLength(1);
    expect(sent[0].from).toEqual(B);
    expect(sent[0].to).toEqual(A);
    clock.advance(10_000);
    layer.receive({ local: B, remote: A, data: req });
    layer.receive({ local: B, remote: A, data: req });
    expect(handedUp).toHaveLength(1);
    expect(sent).toHaveLength(3);
    expect(dec(sent[1].data)).toBe(dec(sent[0].data));
    expect(dec(sent[2].data)).toBe(dec(sent[0].data));
    expect(layer.stats.retransmissionsAbsorbed).toBe(3);
    expect(handedUp[0].tx.respond(500, 'Again')).toBe(false);
    expect(sent).toHaveLength(3);
  });

  it('re-sends the last provisional while Proceeding, and forgets the transaction after J = 64·T1 + T4', () => {
    const { clock, sent, handedUp, layer } = layerOnClock();
    layer.receive({ local: B, remote: A, data: req });
    handedUp[0].tx.respond(100, 'Trying');
    layer.receive({ local: B, remote: A, data: req });
    expect(sent.map((s) => dec(s.data).split('\r\n')[0])).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 100 Trying']);
    clock.advance(1000);
    handedUp[0].tx.respond(200, 'OK');
    clock.advance(36_999);
    expect(layer.size.servers).toBe(1);
    clock.advance(1);
    expect(layer.size.servers).toBe(0);
    expect(handedUp[0].tx.state).toBe('terminated');
  });

  it('keys RFC 2543 requests (no magic cookie) on URI, tags, Call-ID, CSeq and Via', () => {
    const { handedUp, layer } = layerOnClock();
    const old = 'SIP/2.0/UDP 127.0.0.1:5090;branch=1234';
    layer.receive({ local: B, remote: A, data: enc(requestText(old)) });
    layer.receive({ local: B, remote: A, data: enc(requestText(old)) });
    layer.receive({ local: B, remote: A, data: enc(requestText(old, { CSeq: '2 KDMQ' })) });
    layer.receive({ local: B, remote: A, data: enc(requestText('SIP/2.0/UDP 127.0.0.1:5090')) });
    expect(handedUp).toHaveLength(3);
    expect(new Set(handedUp.map((h) => h.tx.id)).size).toBe(3);
  });

  it('treats the same branch from another sent-by, or with another method, as a new transaction', () => {
    const { handedUp, layer } = layerOnClock();
    layer.receive({ local: B, remote: A, data: req });
    layer.receive({ local: B, remote: A, data: enc(requestText('SIP/2.0/UDP 127.0.0.3:5090;branch=z9hG4bKsrv1')) });
    const options = requestText(via, { CSeq: '1 OPTIONS' }).replace(/^KDMQ/, 'OPTIONS');
    layer.receive({ local: B, remote: A, data: enc(options) });
    expect(handedUp).toHaveLength(3);
  });
});

describe('bad input', () => {
  it('answers a bad but answerable request with 400 <error>, never hands it up, and repeats the 400', () => {
    const { sent, handedUp, layer } = layerOnClock();
    const bad = enc(requestText('SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKbad', { 'Max-Forwards': 'many' }));
    layer.receive({ local: B, remote: A, data: bad });
    expect(handedUp).toHaveLength(0);
    expect(sent).toHaveLength(1);
    const resp = parse(sent[0].data) as SipResponse;
    expect(resp.status).toBe(400);
    expect(resp.reason).toMatch(/Max-Forwards/i);
    expect(resp.get('call-id')).toBe('call-1');
    expect(resp.cseq()).toEqual({ ok: true, value: { seq: 1, method: 'KDMQ' } });
    layer.receive({ local: B, remote: A, data: bad });
    expect(sent).toHaveLength(2);
    expect(dec(sent[1].data)).toBe(dec(sent[0].data));
    expect(layer.stats).toMatchObject({ badRequests400: 1, parseErrors: 1, unanswerable: 0 });
  });

  it('400s a CSeq whose method does not match the request line', () => {
    const { sent, layer } = layerOnClock();
    layer.receive({ local: B, remote: A, data: enc(requestText('SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKx', { CSeq: '1 OPTIONS' })) });
    expect((parse(sent[0].data) as SipResponse).status).toBe(400);
  });

  it('drops and counts what cannot be answered: garbage, a request without Via or Call-ID, a bad response', () => {
    const { sent, handedUp, layer } = layerOnClock();
    const feed = (s: string | Uint8Array) => layer.receive({ local: B, remote: A, data: typeof s === 'string' ? enc(s) : s });
    feed(new Uint8Array([0, 1, 2, 255, 13, 10, 13, 10]));
    feed('\r\n\r\n');
    feed(requestText('SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKn', { Via: null }));
    feed(requestText('SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKn', { 'Call-ID': null }));
    feed(requestText('garbage via'));
    expect(layer.stats).toMatchObject({ parseErrors: 5, unanswerable: 5, badRequests400: 0 });
    feed('SIP/2.0 2000 OK\r\n\r\n');
    feed('SIP/2.0 200 OK\r\nCSeq: 1 KDMQ\r\n\r\n'); // no Via: cannot be matched
    expect(layer.stats).toMatchObject({ parseErrors: 7, unanswerable: 5, strayResponses: 0 });
    expect(sent).toHaveLength(0);
    expect(handedUp).toHaveLength(0);
  });
});

describe('response routing (§18.2.2, RFC 3581)', () => {
  function routeOf(via: string, source: { host: string; port: number }, local = B) {
    const { sent, handedUp, layer } = layerOnClock();
    layer.receive({ local, remote: source, data: enc(requestText(via)) });
    handedUp[0].tx.respond(200, 'OK');
    const resp = parse(sent[0].data) as SipResponse;
    return { from: sent[0].from, to: sent[0].to, via: resp.getAll('via')[0] };
  }

  it('rport without a value: source IP and port, both stamped in the Via', () => {
    const r = routeOf('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport', { host: '127.0.0.1', port: 40_000 });
    expect(r.to).toEqual({ host: '127.0.0.1', port: 40_000 });
    expect(r.from).toEqual(B);
    expect(r.via).toBe('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;received=127.0.0.1;rport=40000');
  });

  it('no rport, sent-by matches the source: sent-by host and port, nothing stamped', () => {
    const r = routeOf('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1', { host: '127.0.0.1', port: 40_000 });
    expect(r.to).toEqual({ host: '127.0.0.1', port: 5070 });
    expect(r.via).toBe('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1');
  });

  it('no port in sent-by: 5060', () => {
    expect(routeOf('SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1', { host: '127.0.0.1', port: 40_000 }).to).toEqual({ host: '127.0.0.1', port: 5060 });
  });

  it('sent-by host differs from the source: received=<source IP>, sent-by port', () => {
    const r = routeOf('SIP/2.0/UDP node1.example:5070;branch=z9hG4bK1', { host: '127.0.0.9', port: 40_000 });
    expect(r.to).toEqual({ host: '127.0.0.9', port: 5070 });
    expect(r.via).toBe('SIP/2.0/UDP node1.example:5070;branch=z9hG4bK1;received=127.0.0.9');
  });

  it('a received parameter put there by the client is ignored: only the source counts', () => {
    const r = routeOf('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;received=127.0.0.7', { host: '127.0.0.1', port: 40_000 });
    expect(r.to).toEqual({ host: '127.0.0.1', port: 5070 });
    const forged = routeOf('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK2;received=192.0.2.9;rport=5000', { host: '127.0.0.1', port: 40_000 });
    expect(forged.to).toEqual({ host: '127.0.0.1', port: 40_000 });
    expect(forged.via).toBe('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK2;received=127.0.0.1;rport=40000');
  });

  it('IPv6 sent-by with rport', () => {
    const local = { host: '::1', port: 5090 };
    const r = routeOf('SIP/2.0/UDP [::1]:5070;branch=z9hG4bK1;rport', { host: '::1', port: 40_001 }, local);
    expect(r.to).toEqual({ host: '::1', port: 40_001 });
    expect(r.from).toEqual(local);
    expect(r.via).toBe('SIP/2.0/UDP [::1]:5070;branch=z9hG4bK1;received=::1;rport=40001');
  });

  it('keeps the lower Vias of the request in the response', () => {
    const r = routeOf('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport, SIP/2.0/UDP 127.0.0.5:5060;branch=z9hG4bK0', { host: '127.0.0.1', port: 1 });
    expect(r.via).toBe('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;received=127.0.0.1;rport=1, SIP/2.0/UDP 127.0.0.5:5060;branch=z9hG4bK0');
  });
});

describe('limits.max_pending_transactions (request-limits.ts)', () => {
  const limits = { maxDatagram: 65_535, maxHeaders: 100, maxBody: 65_535, maxPendingServer: 2 };
  const nth = (i: number) => enc(requestText(`SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-p${i}`, { 'Call-ID': `c${i}` }));

  it('refuses with a stateless 503 + Retry-After while that many requests wait for their answer', () => {
    const refused: string[] = [];
    const { sent, handedUp, layer } = layerOnClock({ limits, onRefused: (l) => refused.push(l) });
    for (let i = 0; i < 3; i++) layer.receive({ local: B, remote: A, data: nth(i) });
    expect(handedUp).toHaveLength(2);
    expect(dec(sent[0].data)).toMatch(/^SIP\/2\.0 503 .*\r\n[\s\S]*Retry-After: 5\r\n/);
    expect(refused).toEqual(['pending_transactions']);
    handedUp[0].tx.respond(200, 'OK'); // one answered: room for one more
    layer.receive({ local: B, remote: A, data: nth(3) });
    expect(handedUp).toHaveLength(3);
  });

  it('answered transactions kept for timer J do not count (a busy node must not refuse DMQ pings)', () => {
    const { sent, handedUp, layer } = layerOnClock({ limits });
    for (let i = 0; i < 50; i++) {
      layer.receive({ local: B, remote: A, data: nth(i) });
      handedUp[i].tx.respond(200, 'OK');
    }
    expect(handedUp).toHaveLength(50);
    expect(layer.size.servers).toBe(50);
    expect(sent.every((s) => dec(s.data).startsWith('SIP/2.0 200'))).toBe(true);
  });
});
