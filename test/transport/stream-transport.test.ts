// StreamTransport on loopback (RFC 3261 §18, §18.3 framing): raw sockets split and join messages,
// responses return on the request's connection and an inbound connection carries requests back
// (Via alias), 513 and close on an oversize message, reconnect after back-off, idle time-out, the
// connection bound, TLS with certificates from a test CA (openssl CLI), and the transaction layer
// over a reliable transport (Via SIP/2.0/TCP, no timer E, timer F still fires: §17.1.2.2).

import { rmSync } from 'node:fs';
import net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { StreamTransport, type StreamTransportOptions } from '../../src/transport/stream-transport.ts';
import type { Datagram, Endpoint } from '../../src/transport/transport.ts';
import { makeCerts, opensslMissing, pem } from '../support/tls-certs.ts';
import { waitFor } from '../support/wait.ts';
import { dec, enc, kdmq, layerOnClock, requestText } from './fixtures.ts';

const LOOP = '127.0.0.1';
const open: StreamTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});
function make(o: StreamTransportOptions = {}): { t: StreamTransport; got: Datagram[] } {
  const t = new StreamTransport(o);
  open.push(t);
  const got: Datagram[] = [];
  t.onDatagram((d) => got.push(d));
  return { t, got };
}
const sip = (via: string) => enc(requestText(via));
const until = (pred: () => boolean, what: string) => waitFor(() => pred(), { timeoutMs: 3000, intervalMs: 5, what });

describe('StreamTransport (tcp)', () => {
  it('frames messages from a raw socket: several in one write, one split over many', async () => {
    const { t, got } = make();
    const ep = await t.bind({ host: LOOP, port: 0, proto: 'tcp' });
    const s = net.connect(ep.port, LOOP);
    await new Promise((r) => s.once('connect', r));
    const m = requestText('SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK1');
    s.write(`${m}\r\n\r\n${m}`);
    for (const ch of m) s.write(ch);
    await until(() => got.length === 3, 'three messages');
    expect(got.map((d) => dec(d.data))).toEqual([m, m, m]);
    expect(got[0].local).toEqual(ep);
    expect(got[0].remote).toEqual({ host: LOOP, port: s.localPort, proto: 'tcp' });
    s.destroy();
  });

  it('answers on the request connection and sends requests back on it (Via alias), opening none', async () => {
    const a = make();
    const b = make();
    const ea = await a.t.bind({ host: LOOP, port: 0, proto: 'tcp' });
    const eb = await b.t.bind({ host: LOOP, port: 0, proto: 'tcp' });
    a.t.send(ea, eb, sip(`SIP/2.0/TCP ${LOOP}:${ea.port};branch=z9hG4bK2`));
    await until(() => b.got.length === 1, 'request at b');
    b.t.send(eb, b.got[0].remote, enc('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'));
    b.t.send(eb, ea, sip(`SIP/2.0/TCP ${LOOP}:${eb.port};branch=z9hG4bK3`));
    await until(() => a.got.length === 2, 'response and request at a');
    expect(b.t.stats.connectionsOpened).toBe(0);
    expect(a.t.stats.connectionsOpened).toBe(1);
    expect(a.t.connectionCount()).toBe(1);
  });

  it('answers 513 to a message over max_message and closes the connection', async () => {
    const { t, got } = make({ maxMessage: 2000 });
    const ep = await t.bind({ host: LOOP, port: 0, proto: 'tcp' });
    const s = net.connect(ep.port, LOOP);
    let answer = '';
    s.on('data', (d) => (answer += d.toString()));
    const closed = new Promise((r) => s.once('close', r));
    s.write(requestText('SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK4').replace('Content-Length: 0', 'Content-Length: 5000'));
    await closed;
    expect(answer).toMatch(/^SIP\/2\.0 513 Message Too Large/);
    expect(got).toHaveLength(0);
    expect(t.stats.oversize).toBe(1);
  });

  it('reconnects after a failed connect, waiting the back-off first', async () => {
    const a = make({ backoffMinMs: 200 });
    const ea = await a.t.bind({ host: LOOP, port: 0, proto: 'tcp' });
    const probe = make();
    const free = await probe.t.bind({ host: LOOP, port: 0, proto: 'tcp' });
    await probe.t.close();
    a.t.send(ea, free, sip('SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK5'));
    await until(() => a.t.stats.connectFailures === 1, 'first connect refused');
    const b = make();
    await b.t.bind(free);
    const t0 = Date.now();
    a.t.send(ea, free, sip('SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK6'));
    await until(() => b.got.length === 1, 'delivered after reconnect');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(a.t.stats.sendErrors).toBe(1);
  });

  it('closes idle connections and refuses inbound ones over max_connections', async () => {
    const { t } = make({ idleTimeoutMs: 150, maxConnections: 2 });
    const ep = await t.bind({ host: LOOP, port: 0, proto: 'tcp' });
    const socks = [0, 1, 2].map(() => net.connect(ep.port, LOOP));
    await until(() => t.stats.connectionsAccepted === 2 && t.stats.connectionsRefused === 1, 'two accepted, one refused');
    await until(() => t.connectionCount() === 0, 'idle connections closed');
    for (const s of socks) s.destroy();
  });
});

const noSsl = opensslMissing();
describe.skipIf(noSsl !== null)('StreamTransport (tls)', () => {
  const certs = noSsl ? null : makeCerts(['server', 'client', 'rogue']);
  const other = noSsl ? null : makeCerts(['stranger']);
  afterAll(() => {
    for (const c of [certs, other]) if (c) rmSync(c.dir, { recursive: true, force: true });
  });
  const tlsOf = (leaf: string, o: Partial<{ verifyPeer: boolean; requireCertificate: boolean; ca: string }> = {}) => ({
    certificate: pem(certs!.leaves[leaf]?.certificate ?? other!.leaves[leaf].certificate),
    privateKey: pem(certs!.leaves[leaf]?.privateKey ?? other!.leaves[leaf].privateKey),
    caList: pem(o.ca ?? certs!.caList),
    verifyPeer: o.verifyPeer ?? true,
    requireCertificate: o.requireCertificate ?? false,
  });
  const pair = async (server: ReturnType<typeof tlsOf>, client: ReturnType<typeof tlsOf>) => {
    const s = make({ tls: server });
    const c = make({ tls: client });
    const es = await s.t.bind({ host: LOOP, port: 0, proto: 'tls' });
    const ec: Endpoint = { host: LOOP, port: 1, proto: 'tls' };
    c.t.send(ec, es, sip('SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK7'));
    return { s, c };
  };

  it('carries SIP between two nodes whose certificates the shared CA signed', async () => {
    const { s } = await pair(tlsOf('server', { requireCertificate: true }), tlsOf('client'));
    await until(() => s.got.length === 1, 'message over TLS');
    expect(s.got[0].remote.proto).toBe('tls');
  });

  it('refuses a server whose certificate another CA signed (client verify_peer)', async () => {
    const { s, c } = await pair(tlsOf('stranger', { ca: other!.caList }), tlsOf('client'));
    await until(() => c.t.stats.connectFailures === 1, 'client refused the server');
    expect(s.got).toHaveLength(0);
  });

  it('require_certificate refuses a client without one; verify_peer one from another CA', async () => {
    const s = make({ tls: tlsOf('server', { requireCertificate: true }) });
    const es = await s.t.bind({ host: LOOP, port: 0, proto: 'tls' });
    const bare = make({ tls: { ...tlsOf('client'), certificate: '', privateKey: '' } });
    bare.t.send({ host: LOOP, port: 1, proto: 'tls' }, es, sip('SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK8'));
    const stranger = make({ tls: tlsOf('stranger') });
    stranger.t.send({ host: LOOP, port: 1, proto: 'tls' }, es, sip('SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK9'));
    await until(() => s.t.stats.connectionsRefused >= 2, 'both refused');
    expect(s.got).toHaveLength(0);
  });
});

describe('TransactionLayer over a reliable transport (RFC 3261 §17.1.2.2)', () => {
  it('writes Via SIP/2.0/TCP, never retransmits (no timer E), still times out (timer F)', () => {
    const { clock, sent, outcomes, layer, done } = layerOnClock();
    layer.request(kdmq('tcp-1'), { host: LOOP, port: 5090, proto: 'tcp' }, { host: '127.0.0.2', port: 5090, proto: 'tcp' }, done);
    expect(dec(sent[0].data)).toMatch(/^Via: SIP\/2\.0\/TCP 127\.0\.0\.1:5090;branch=/m);
    clock.advance(31_000);
    expect(sent).toHaveLength(1);
    clock.advance(1_000);
    expect(outcomes.map((o) => o.outcome.kind)).toEqual(['timeout']);
  });

  it('sends the response back to the connection the request came on, whatever the Via says', () => {
    const { sent, handedUp, layer } = layerOnClock();
    const source: Endpoint = { host: '127.0.0.3', port: 40_123, proto: 'tcp' };
    layer.receive({ local: { host: LOOP, port: 5090, proto: 'tcp' }, remote: source, data: sip('SIP/2.0/TCP 127.0.0.3:5090;branch=z9hG4bK10') });
    handedUp[0].tx.respond(200, 'OK');
    expect(sent[0].to).toEqual(source);
  });
});
