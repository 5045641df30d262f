// SimNetwork beyond the Transport contract: seeded determinism, delay/jitter timing, loss,
// duplication, reordering, partitions, one-way blocks, heal, counters and the delivery tap.

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { SeededRandom } from '../../src/ports/random.ts';
import { SimNetwork } from '../../src/transport/sim-transport.ts';
import type { LinkParams, SimDelivery, SimTransport } from '../../src/transport/sim-transport.ts';
import type { Endpoint } from '../../src/transport/transport.ts';
import { dec, enc } from './fixtures.ts';

async function world(seed: string, link: Partial<LinkParams>, hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
  const clock = new VirtualClock(0);
  const net = new SimNetwork({ clock, random: new SeededRandom(seed), defaults: link });
  const eps: Endpoint[] = [];
  const inbox = new Map<string, string[]>();
  const ts: SimTransport[] = [];
  for (const host of hosts) {
    const t = net.transport();
    const ep = await t.bind({ host, port: 5090 });
    inbox.set(host, []);
    t.onDatagram((d) => inbox.get(d.local.host)!.push(dec(d.data)));
    eps.push(ep);
    ts.push(t);
  }
  const trace: SimDelivery[] = [];
  net.onDeliver((d) => trace.push(d));
  const send = (i: number, j: number, s: string) => ts[i].send(eps[i], eps[j], enc(s));
  return { clock, net, eps, inbox, trace, send, ts };
}

describe('SimNetwork', () => {
  it('delivers after delay + jitter, and the same seed gives the same trace', async () => {
    const runOnce = async (seed: string) => {
      const w = await world(seed, { delayMs: 10, jitterMs: 50, duplicate: 0.3, loss: 0.2 });
      for (let k = 0; k < 50; k++) w.send(k % 3, (k + 1) % 3, `m${k}`);
      w.clock.runUntil(1000);
      return { trace: w.trace.map((d) => `${d.time}:${d.from.host}>${d.to.host}:${dec(d.data)}`), stats: { ...w.net.stats } };
    };
    const a = await runOnce('s1');
    expect(await runOnce('s1')).toEqual(a);
    expect(await runOnce('s2')).not.toEqual(a);
    expect(a.trace.every((line) => Number(line.split(':')[0]) >= 10 && Number(line.split(':')[0]) < 60)).toBe(true);
    expect(a.stats.sent).toBe(50);
    expect(a.stats.delivered).toBe(50 - a.stats.dropped + a.stats.duplicated);
    expect(a.stats.dropped).toBeGreaterThan(0);
    expect(a.stats.duplicated).toBeGreaterThan(0);
  });

  it('reorders through jitter and keeps order without it', async () => {
    const order = async (jitterMs: number) => {
      const w = await world('r', { delayMs: 5, jitterMs });
      for (let k = 0; k < 20; k++) w.send(0, 1, String(k));
      w.clock.runUntil(1000);
      return w.inbox.get('10.0.0.2')!;
    };
    const inOrder = Array.from({ length: 20 }, (_, k) => String(k));
    expect(await order(0)).toEqual(inOrder);
    const jittered = await order(100);
    expect([...jittered].sort((x, y) => Number(x) - Number(y))).toEqual(inOrder);
    expect(jittered).not.toEqual(inOrder);
  });

  it('per-link parameters override the defaults in one direction only', async () => {
    const w = await world('l', { delayMs: 1 });
    w.net.setLink('10.0.0.1', '10.0.0.2', { delayMs: 300 });
    w.send(0, 1, 'slow');
    w.send(1, 0, 'fast');
    w.clock.runUntil(1000);
    expect(w.trace.map((d) => [dec(d.data), d.time])).toEqual([['fast', 1], ['slow', 300]]);
  });

  it('partition cuts both ways, block one way, heal restores; drops are counted', async () => {
    const w = await world('p', { delayMs: 1 });
    w.net.partition(['10.0.0.1'], ['10.0.0.2', '10.0.0.3']);
    w.send(0, 1, 'a>b');
    w.send(1, 0, 'b>a');
    w.send(1, 2, 'b>c');
    w.clock.advance(10);
    expect([...w.inbox.values()].flat()).toEqual(['b>c']);
    expect(w.net.stats.dropped).toBe(2);
    w.net.heal();
    w.net.block('10.0.0.2', '10.0.0.3');
    w.send(1, 2, 'b>c 2');
    w.send(2, 1, 'c>b');
    w.send(0, 1, 'a>b 2');
    w.clock.advance(10);
    expect(w.inbox.get('10.0.0.2')).toEqual(['c>b', 'a>b 2']);
    expect(w.inbox.get('10.0.0.3')).toEqual(['b>c']);
    w.net.heal();
    w.send(1, 2, 'b>c 3');
    w.clock.advance(10);
    expect(w.inbox.get('10.0.0.3')).toEqual(['b>c', 'b>c 3']);
  });

  it('loss 1 drops everything, duplicate 1 delivers everything twice', async () => {
    const lossy = await world('x', { loss: 1 });
    lossy.send(0, 1, 'gone');
    lossy.clock.advance(100);
    expect(lossy.net.stats).toMatchObject({ sent: 1, delivered: 0, dropped: 1 });
    const dup = await world('x', { duplicate: 1, jitterMs: 10 });
    dup.send(0, 1, 'twice');
    dup.clock.advance(100);
    expect(dup.inbox.get('10.0.0.2')).toEqual(['twice', 'twice']);
    expect(dup.net.stats).toMatchObject({ sent: 1, delivered: 2, duplicated: 1 });
  });

  it('port 0 picks free ports deterministically, per host', async () => {
    const pick = async () => {
      const net = new SimNetwork({ clock: new VirtualClock(0), random: new SeededRandom('p') });
      const t = net.transport();
      await t.bind({ host: '10.0.0.1', port: 32_768 });
      return [await t.bind({ host: '10.0.0.1', port: 0 }), await t.bind({ host: '10.0.0.1', port: 0 }), await t.bind({ host: '10.0.0.2', port: 0 })];
    };
    const first = await pick();
    expect(first.map((e) => e.port)).toEqual([32_769, 32_770, 32_768]);
    expect(await pick()).toEqual(first);
  });

  it('a datagram in flight to a socket closed meanwhile is dropped; the sent bytes are handed over, not copied', async () => {
    const w = await world('c', { delayMs: 10 });
    const buf = enc('original');
    const got: Uint8Array[] = [];
    w.net.onDeliver((d) => got.push(d.data));
    w.ts[0].send(w.eps[0], w.eps[1], buf);
    w.send(0, 2, 'to-closed');
    await w.ts[2].close();
    w.clock.advance(20);
    expect(w.inbox.get('10.0.0.2')).toEqual(['original']);
    expect(w.net.stats).toMatchObject({ delivered: 1, dropped: 1 });
    // like a socket's send buffer until the send completes: senders never write into sent bytes
    expect(got[0]).toBe(buf);
  });
});
