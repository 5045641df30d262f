// Nonces (src/registrar/nonce.ts): bound to the secret, unique per challenge, aged on the Clock;
// the nc table accepts each count once and rising, stays within its bound, and refuses a nonce it
// had to forget rather than accept a replay of it.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Nonces } from '../../src/registrar/nonce.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';

const hash = (_alg: string, t: string) => createHash('sha256').update(t).digest('hex');

function nonces(maxTracked?: number, secret = 's3cret') {
  const clock = new VirtualClock(1_700_000_000_000);
  return { clock, n: new Nonces({ hash, clock, secret, lifetimeSec: 300, maxTracked }) };
}

function use(n: Nonces, nonce: string, nc: number): boolean {
  const v = n.verify(nonce);
  if (!v.ok) throw new Error('not ours');
  return n.use(nonce, v, nc);
}

describe('nonces', () => {
  it('are unique, verify only with their secret, and age with the clock', () => {
    const { n, clock } = nonces();
    const a = n.issue();
    expect(n.issue()).not.toBe(a);
    expect(n.verify(a)).toMatchObject({ ok: true, ageSec: 0 });
    clock.advance(42_000);
    expect(n.verify(a)).toMatchObject({ ok: true, ageSec: 42 });
    expect(nonces(undefined, 'other').n.verify(a)).toEqual({ ok: false });
    expect(n.verify(a.replace(/.$/, (c) => (c === '0' ? '1' : '0')))).toEqual({ ok: false });
    expect(n.verify('zz.0.00')).toEqual({ ok: false });
  });

  it('accept each nc once and only rising', () => {
    const { n } = nonces();
    const a = n.issue();
    expect([use(n, a, 1), use(n, a, 1), use(n, a, 3), use(n, a, 2), use(n, a, 4)]).toEqual([true, false, true, false, true]);
  });

  it('take() says why: replayed for a used nc, unknown for a nonce of an earlier start', () => {
    const { n, clock } = nonces();
    const a = n.issue();
    const v = n.verify(a);
    if (!v.ok) throw new Error('not ours');
    expect([n.take(a, v, 1), n.take(a, v, 1), n.take(a, v, 2)]).toEqual(['ok', 'replayed', 'ok']);
    clock.advance(5_000);
    const restarted = new Nonces({ hash, clock, secret: 's3cret', lifetimeSec: 300 });
    const w = restarted.verify(a);
    expect(w.ok && restarted.take(a, w, 3)).toBe('unknown');
  });

  it('track at most maxTracked nonces; a forgotten one is refused, newer ones are not', () => {
    const { n } = nonces(3);
    const list = Array.from({ length: 6 }, () => n.issue());
    for (const x of list) expect(use(n, x, 1)).toBe(true);
    expect(n.tracked).toBeLessThanOrEqual(3);
    expect(use(n, list[0], 1)).toBe(false); // forgotten: a replay must not pass
    expect(use(n, list[0], 2)).toBe(false);
    expect(use(n, list[5], 2)).toBe(true);
    expect(use(n, n.issue(), 1)).toBe(true);
  });

  it('forget expired nonces first', () => {
    const { n, clock } = nonces(1000);
    for (let i = 0; i < 10; i++) use(n, n.issue(), 1);
    clock.advance(301_000);
    const fresh = n.issue();
    expect(use(n, fresh, 1)).toBe(true);
    expect(n.tracked).toBe(1);
  });
});
