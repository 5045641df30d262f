// The subscriber port's cache (src/registrar/subscribers.ts): rows and absences kept for the TTL
// on the Clock, never a failure, bounded in size (oldest first), TTL 0 = no cache; the users-file
// twin and HA1 algorithms by length.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { CachedSubscribers, ha1Alg, MemorySubscribers, parseUsers, type Lookup, type SubscriberSource } from '../../src/registrar/subscribers.ts';

class CountingSource implements SubscriberSource {
  calls: string[] = [];
  down = false;
  constructor(private readonly users: Record<string, string>) {}
  lookup(user: string, domain: string): Lookup {
    this.calls.push(`${user}@${domain}`);
    if (this.down) return { ok: false, error: 'down' };
    const pw = this.users[`${user}@${domain}`];
    return { ok: true, found: pw === undefined ? null : { password: pw } };
  }
}

describe('CachedSubscribers', () => {
  it('asks the source once per TTL for a row and for its absence; after the TTL again', () => {
    const clock = new VirtualClock(1_000_000);
    const src = new CountingSource({ 'alice@lab': 'pw' });
    const c = new CachedSubscribers(src, clock, 60_000);
    for (let i = 0; i < 5; i++) {
      expect(c.lookup('alice', 'lab')).toEqual({ ok: true, found: { password: 'pw' } });
      expect(c.lookup('nobody', 'lab')).toEqual({ ok: true, found: null });
    }
    expect(src.calls).toEqual(['alice@lab', 'nobody@lab']);
    clock.advance(59_999);
    c.lookup('alice', 'lab');
    expect(src.calls).toHaveLength(2);
    clock.advance(1);
    c.lookup('alice', 'lab');
    expect(src.calls).toEqual(['alice@lab', 'nobody@lab', 'alice@lab']);
    expect([c.hits, c.misses]).toEqual([9, 3]);
  });

  it('never keeps a failure: the next lookup asks again, and a recovered source answers', () => {
    const clock = new VirtualClock(0);
    const src = new CountingSource({ 'alice@lab': 'pw' });
    const c = new CachedSubscribers(src, clock, 60_000);
    src.down = true;
    expect(c.lookup('alice', 'lab')).toEqual({ ok: false, error: 'down' });
    expect(c.lookup('alice', 'lab').ok).toBe(false);
    src.down = false;
    expect(c.lookup('alice', 'lab').ok).toBe(true);
    expect([src.calls.length, c.errors, c.size]).toEqual([3, 2, 1]);
  });

  it('TTL 0 asks the source every time and keeps nothing', () => {
    const src = new CountingSource({});
    const c = new CachedSubscribers(src, new VirtualClock(0), 0);
    for (let i = 0; i < 3; i++) c.lookup('a', 'b');
    expect([src.calls.length, c.size]).toEqual([3, 0]);
  });

  it('holds at most maxEntries rows, dropping the oldest first (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 200 }), fc.integer({ min: 1, max: 10 }), (keys, max) => {
        const clock = new VirtualClock(0);
        const src = new CountingSource({});
        const c = new CachedSubscribers(src, clock, 1_000_000, max);
        const model: number[] = []; // keys in the cache, oldest first
        for (const k of keys) {
          clock.advance(1);
          const before = src.calls.length;
          c.lookup(`u${k}`, 'd');
          const asked = src.calls.length > before;
          expect(asked).toBe(!model.includes(k));
          if (asked) {
            if (model.length >= max) model.shift();
            model.push(k);
          }
          expect(c.size).toBe(model.length);
          expect(c.size).toBeLessThanOrEqual(max);
        }
      }),
    );
  });
});

describe('the users-file twin', () => {
  it('looks up user@domain (domain case-insensitive), fails on demand, and tells HA1 algorithms by length', () => {
    const m = new MemorySubscribers(parseUsers('alice@Lab.Local:pw\nbob@lab.local:md5:0123456789abcdef0123456789ABCDEF\nnot a line\n'));
    expect(m.lookup('alice', 'LAB.local')).toEqual({ ok: true, found: { password: 'pw', ha1: undefined } });
    expect(m.lookup('bob', 'lab.local')).toEqual({ ok: true, found: { password: undefined, ha1: { MD5: '0123456789abcdef0123456789abcdef' } } });
    expect(m.lookup('carol', 'lab.local')).toEqual({ ok: true, found: null });
    m.failWith = 'x';
    expect(m.lookup('alice', 'lab.local')).toEqual({ ok: false, error: 'x' });
    expect([ha1Alg('a'.repeat(32)), ha1Alg('A'.repeat(64)), ha1Alg('a'.repeat(40)), ha1Alg('z'.repeat(32)), ha1Alg('')]).toEqual(['MD5', 'SHA-256', null, null, null]);
  });
});
