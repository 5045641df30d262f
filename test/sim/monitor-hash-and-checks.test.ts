// The checker's fast paths must not change what it computes: a datagram's trace hash without its
// JSON line, the node-list check line by line, and DNS answers dropped for a dead node.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Monitor } from '../../src/sim/monitor.ts';
import { checkNodeListOnWire } from '../../src/sim/invariants.ts';
import { isSafeNodeListBody } from '../../src/actors/membership/node-list-body.ts';
import { SimDns } from '../../src/sim/sim-dns.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import type { SimDelivery } from '../../src/transport/sim-transport.ts';

const latin1 = new TextDecoder('latin1');

function hashes(data: Uint8Array, t: number): { fast: number; lines: number; line: string } {
  const d: SimDelivery = { from: { host: '127.0.1.1', port: 5090 }, to: { host: '127.0.1.2', port: 5060 }, data, time: t };
  const fast = new Monitor({ record: false, hash: true, now: () => t });
  const rec = new Monitor({ record: true, now: () => t });
  fast.onDatagram(d);
  rec.onDatagram(d);
  return { fast: fast.hash, lines: rec.hash, line: rec.lines[0] };
}

describe('the monitor: trace hash, node-list check, late DNS answers', () => {
  it('a datagram hashes as its JSON trace line would, for every byte value', () => {
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    const h = hashes(every, 1_795_000_000_123.5);
    expect(h.line).toBe(JSON.stringify({ t: 1_795_000_000_123.5, k: 'dgram', from: '127.0.1.1:5090', to: '127.0.1.2:5060', data: latin1.decode(every) }));
    expect(h.fast).toBe(h.lines);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer(), (data, t) => {
        const r = hashes(data, t);
        expect(r.fast).toBe(r.lines);
      }),
    );
  });

  it('the node-list check gives isSafeNodeListBody\'s answer for bodies made of good and bad lines', () => {
    const lines = ['sip:127.0.0.1:5090;status=active', 'sip:127.0.0.2:5090;kdmq=1;status=pending', 'sip:host:5090;status=active', 'sip:127.0.0.3:5090', '', 'sip:127.0.0.4:5090;status=active\r'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...lines), { maxLength: 6 }), fc.constantFrom('\r\n', '\n', ''), (ls, end) => {
        const body = ls.join('\r\n') + (ls.length > 0 ? end : '');
        const verdict = checkNodeListOnWire(`KDMQ sip:notification_peer@127.0.0.9:5090 SIP/2.0\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        expect(verdict === null).toBe(isSafeNodeListBody(body));
      }),
    );
  });

  it('a DNS answer due after the asking node died is dropped and counted', async () => {
    const clock = new VirtualClock(0);
    const dns = new SimDns(clock);
    dns.set('cluster.sim', { a: ['127.0.1.1'] });
    let alive = true;
    const seen: string[] = [];
    void dns.forNode(() => alive).a('cluster.sim').then(() => seen.push('dead node'));
    void dns.forNode(() => true).a('cluster.sim').then(() => seen.push('live node'));
    alive = false;
    clock.advance(10);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(seen).toEqual(['live node']);
    expect(dns.droppedAnswers).toBe(1);
  });
});
