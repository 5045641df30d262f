// The Transport port contract (house rule 4): one suite, run against UdpTransport (real sockets on
// loopback) and SimTransport (SimNetwork on a VirtualClock). Each harness knows how to let time
// pass: real waiting for UDP, advancing the virtual clock for the simulator. StreamTransport (TCP on
// loopback) runs the applicable part: a stream's remote endpoint is its connection's ephemeral
// port, it has no datagram size limit (stream-transport.test.ts covers its own limits), and it
// needs no bound socket to connect from.

import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { SeededRandom } from '../../src/ports/random.ts';
import { UdpTransport } from '../../src/transport/udp-transport.ts';
import { SimNetwork } from '../../src/transport/sim-transport.ts';
import { StreamTransport } from '../../src/transport/stream-transport.ts';
import type { Datagram, Endpoint, Transport } from '../../src/transport/transport.ts';

interface Harness {
  make(): Transport;
  /** endpoints carry this proto (TCP: connections, not datagrams) */
  proto?: 'tcp';
  /** let time pass until pred() holds or budgetMs is spent; returns pred() */
  settle(pred: () => boolean, budgetMs?: number): Promise<boolean>;
  /** null when ::1 works, else the reason to skip */
  ipv6Unavailable(): Promise<string | null>;
}

function udpHarness(): Harness {
  return {
    make: () => new UdpTransport(),
    async settle(pred, budgetMs = 2000) {
      const until = Date.now() + budgetMs;
      while (!pred() && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      return pred();
    },
    ipv6Unavailable: () =>
      new Promise((resolve) => {
        const s = dgram.createSocket({ type: 'udp6', ipv6Only: true });
        s.once('error', (e: NodeJS.ErrnoException) => {
          s.close();
          resolve(`::1 is not available for UDP here (${e.code ?? e.message})`);
        });
        s.bind({ address: '::1', port: 0 }, () => s.close(() => resolve(null)));
      }),
  };
}

function tcpHarness(): Harness {
  const h = udpHarness();
  return { ...h, make: () => new StreamTransport(), proto: 'tcp', ipv6Unavailable: async () => (await h.ipv6Unavailable()) };
}

function simHarness(): Harness {
  const clock = new VirtualClock();
  const net = new SimNetwork({ clock, random: new SeededRandom('contract'), defaults: { delayMs: 2, jitterMs: 3 } });
  return {
    make: () => net.transport(),
    async settle(pred, budgetMs = 2000) {
      for (let i = 0; i < budgetMs && !pred(); i++) clock.advance(1);
      return pred();
    },
    ipv6Unavailable: async () => null,
  };
}

const LOOP = '127.0.0.1';
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe.each([
  ['UdpTransport', udpHarness],
  ['SimTransport', simHarness],
  ['StreamTransport (tcp)', tcpHarness],
] as const)('Transport contract: %s', (_name, makeHarness) => {
  const open: Transport[] = [];
  let h: Harness;
  const fresh = (): Transport => {
    const t = h.make();
    open.push(t);
    return t;
  };
  const inbox = (t: Transport): Datagram[] => {
    const got: Datagram[] = [];
    t.onDatagram((d) => got.push(d));
    return got;
  };

  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });
  h = makeHarness();
  const at = (host: string, port = 0): Endpoint => (h.proto ? { host, port, proto: h.proto } : { host, port });
  /** datagrams come from the bound socket; a stream's from its connection (same host, another port) */
  /** a payload as the transport carries it: raw for datagrams, a Content-Length framed message on streams */
  const msg = (t: string): Uint8Array => (h.proto ? bytes(`MSG sip:x SIP/2.0\r\nContent-Length: ${bytes(t).length}\r\n\r\n${t}`) : bytes(t));
  const body = (b: Uint8Array): string => (h.proto ? text(b).slice(text(b).indexOf('\r\n\r\n') + 4) : text(b));
  const expectRemote = (got: Endpoint, from: Endpoint): void => {
    if (h.proto) expect(got.host).toBe(from.host);
    else expect(got).toEqual(from);
  };

  it('binds port 0 to a concrete port and lists it', async () => {
    const t = fresh();
    const ep = await t.bind(at(LOOP));
    expect(ep.host).toBe(LOOP);
    expect(ep.port).toBeGreaterThan(0);
    expect(t.endpoints()).toEqual([ep]);
  });

  it('sends and receives with local and remote endpoints and counts both ends', async () => {
    const a = fresh();
    const b = fresh();
    const ea = await a.bind(at(LOOP));
    const eb = await b.bind(at(LOOP));
    const got = inbox(b);
    a.send(ea, eb, msg('hello'));
    a.send(ea, eb, msg('world'));
    expect(await h.settle(() => got.length === 2)).toBe(true);
    expect(got.map((d) => body(d.data)).sort()).toEqual(['hello', 'world']);
    expect(got[0].local).toEqual(eb);
    expectRemote(got[0].remote, ea);
    expect(await h.settle(() => a.stats.sent === 2)).toBe(true);
    expect(b.stats.received).toBe(2);
    expect(a.stats.sendErrors).toBe(0);
  });

  it('serves several sockets through one handler, each datagram tagged with its socket', async () => {
    const a = fresh();
    const b = fresh();
    const a1 = await a.bind(at(LOOP));
    const a2 = await a.bind(at(LOOP));
    const b1 = await b.bind(at(LOOP));
    expect(a1.port).not.toBe(a2.port);
    expect(a.endpoints()).toHaveLength(2);
    const atA = inbox(a);
    const atB = inbox(b);
    b.send(b1, a1, msg('to-1'));
    b.send(b1, a2, msg('to-2'));
    a.send(a2, b1, msg('from-2'));
    expect(await h.settle(() => atA.length === 2 && atB.length === 1)).toBe(true);
    const byLocal = new Map(atA.map((d) => [d.local.port, body(d.data)]));
    expect(byLocal.get(a1.port)).toBe('to-1');
    expect(byLocal.get(a2.port)).toBe('to-2');
    expectRemote(atB[0].remote, a2);
  });

  it('carries the largest IPv4 datagram (65 507 bytes) intact and counts a larger one as a send error', async (ctx) => {
    if (h.proto) ctx.skip('streams: no datagram limit (stream-transport.test.ts: max message)');
    const a = fresh();
    const b = fresh();
    const ea = await a.bind(at(LOOP));
    const eb = await b.bind(at(LOOP));
    const got = inbox(b);
    const big = new Uint8Array(65_507);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    a.send(ea, eb, big);
    expect(await h.settle(() => got.length === 1)).toBe(true);
    expect(got[0].data.byteLength).toBe(65_507);
    expect(Buffer.from(got[0].data).equals(Buffer.from(big))).toBe(true);
    a.send(ea, eb, new Uint8Array(65_508));
    expect(await h.settle(() => a.stats.sendErrors === 1)).toBe(true);
    await h.settle(() => false, 200); // nothing more may arrive
    expect(got).toHaveLength(1);
  });

  it('counts a send from an unbound endpoint as an error without throwing', async (ctx) => {
    if (h.proto) ctx.skip('streams connect from any local address');
    const a = fresh();
    const ea = await a.bind(at(LOOP));
    expect(() => a.send({ host: LOOP, port: 1 }, ea, bytes('x'))).not.toThrow();
    expect(await h.settle(() => a.stats.sendErrors === 1)).toBe(true);
  });

  it('speaks IPv6 on ::1', async (ctx) => {
    const reason = await h.ipv6Unavailable();
    if (reason) ctx.skip(reason);
    const a = fresh();
    const b = fresh();
    const ea = await a.bind(at('::1'));
    const eb = await b.bind(at('::1'));
    expect(ea.host).toBe('::1');
    const got = inbox(b);
    a.send(ea, eb, msg('v6'));
    expect(await h.settle(() => got.length === 1)).toBe(true);
    expectRemote(got[0].remote, ea);
    expect(got[0].local).toEqual(eb);
    expect(body(got[0].data)).toBe('v6');
  });

  it('rejects a second bind of the same port, naming the address and EADDRINUSE', async () => {
    const a = fresh();
    const b = fresh();
    const ea = await a.bind(at(LOOP));
    const label = `${h.proto ? `${h.proto}:` : ''}${LOOP}:${ea.port}`;
    await expect(a.bind(ea)).rejects.toThrow(new RegExp(`${label}.*EADDRINUSE`));
    await expect(b.bind(ea)).rejects.toThrow(new RegExp(`${label}.*EADDRINUSE`));
    expect(a.endpoints()).toEqual([ea]);
    expect(b.endpoints()).toEqual([]);
  });

  it('close() releases every socket: nothing more arrives and the ports can be bound again', async () => {
    const a = fresh();
    const b = fresh();
    const ea = await a.bind(at(LOOP));
    const eb1 = await b.bind(at(LOOP));
    const eb2 = await b.bind(at(LOOP));
    const got = inbox(b);
    await b.close();
    expect(b.endpoints()).toEqual([]);
    a.send(ea, eb1, msg('late'));
    await h.settle(() => false, 200);
    expect(got).toHaveLength(0);
    const c = fresh();
    const again: Endpoint[] = [await c.bind(eb1), await c.bind(eb2)];
    expect(again).toEqual([eb1, eb2]);
  });
});

describe('UdpTransport only', () => {
  it('rejects binding an address this host does not have, naming it and EADDRNOTAVAIL', async () => {
    const t = new UdpTransport();
    await expect(t.bind({ host: '192.0.2.1', port: 5090 })).rejects.toThrow(/192\.0\.2\.1:5090.*EADDRNOTAVAIL/);
    expect(t.endpoints()).toEqual([]);
    await t.close();
  });
});
