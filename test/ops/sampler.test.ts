// The status page's ring buffer and sampler (src/ops/sampler.ts) on a VirtualClock: the ring keeps
// exactly the last `capacity` items in order; the sampler ticks on the clock port, records exact
// per-interval counts and current levels, keeps 15 minutes, and answers incremental queries.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring, Sampler, type Reading } from '../../src/ops/sampler.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';

describe('Ring', () => {
  it('holds the last `capacity` items pushed, oldest first', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer(), { maxLength: 100 }), (cap, xs) => {
      const r = new Ring<number>(cap);
      for (const x of xs) r.push(x);
      expect(r.toArray()).toEqual(xs.slice(Math.max(0, xs.length - cap)));
      expect(r.length).toBe(Math.min(cap, xs.length));
      expect(r.last()).toBe(xs.length ? xs[xs.length - 1] : undefined);
    }));
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new Ring(0)).toThrow(/positive integer/);
    expect(() => new Ring(1.5)).toThrow(/positive integer/);
  });
});

function fakeNode() {
  const r: Reading = { registers: 0, sent: {}, received: {}, backlog: {}, bindings: 0 };
  return { r, read: () => structuredClone(r) };
}

describe('Sampler', () => {
  it('samples on the clock port: exact counts per interval and levels at its end', () => {
    const clock = new VirtualClock(1_000_000);
    const n = fakeNode();
    n.r.sent = { usrloc: 5 };
    const s = new Sampler(clock, n.read, { intervalMs: 1000 });
    s.start();
    expect(clock.pending()).toBe(1);
    n.r.registers = 3;
    n.r.sent = { usrloc: 7, notification_peer: 1 };
    n.r.received = { usrloc: 2 };
    n.r.backlog = { '127.0.0.2:5090': 4 };
    n.r.bindings = 3;
    clock.runUntil(1_001_000);
    n.r.registers = 10;
    clock.runUntil(1_002_500);
    expect(s.series().samples).toEqual([
      { at: 1_001_000, dt_ms: 1000, registers: 3, sent: { usrloc: 2, notification_peer: 1 }, received: { usrloc: 2 }, backlog: { '127.0.0.2:5090': 4 }, bindings: 3 },
      { at: 1_002_000, dt_ms: 1000, registers: 7, sent: { usrloc: 0, notification_peer: 0 }, received: { usrloc: 0 }, backlog: { '127.0.0.2:5090': 4 }, bindings: 3 },
    ]);
    // incremental: only what is newer than `since`
    expect(s.series(1_001_000).samples.map((x) => x.at)).toEqual([1_002_000]);
    s.stop();
    expect(clock.pending()).toBe(0);
    clock.runUntil(1_010_000);
    expect(s.series().samples.length).toBe(2);
  });

  it('keeps 15 minutes: the ring holds window/interval samples, and the sum of counts is the total', () => {
    const clock = new VirtualClock(0);
    const n = fakeNode();
    const s = new Sampler(clock, n.read, { intervalMs: 2000 });
    s.start();
    for (let i = 1; i <= 600; i++) {
      n.r.registers += i % 7; // an uneven load
      clock.runUntil(i * 2000);
    }
    const samples = s.series().samples;
    expect(samples.length).toBe(450); // 15 min / 2 s
    expect(samples[0].at).toBe(151 * 2000);
    expect(samples.at(-1)!.at).toBe(600 * 2000);
    let total = 0;
    for (let i = 151; i <= 600; i++) total += i % 7;
    expect(samples.reduce((a, x) => a + x.registers, 0)).toBe(total);
  });

  it('a counter that goes down counts its new value (a reset); membership changes are kept for the window', () => {
    const clock = new VirtualClock(0);
    const n = fakeNode();
    n.r.registers = 10;
    const s = new Sampler(clock, n.read, { intervalMs: 1000, windowMs: 60_000 });
    s.start();
    n.r.registers = 4;
    expect(clock.runUntil(1000)).toBe(1);
    expect(s.series().samples[0].registers).toBe(4);
    s.change({ at: 500, node: 'a:5090', from: 'pending', to: 'active', trigger: 'reply' });
    clock.runUntil(61_000);
    s.change({ at: 61_000, node: 'a:5090', from: 'active', to: 'timeout', trigger: 'ping' });
    expect(s.series().changes).toEqual([{ at: 61_000, node: 'a:5090', from: 'active', to: 'timeout', trigger: 'ping' }]);
    expect(s.series().samples.length).toBe(60);
    s.stop();
  });
});
