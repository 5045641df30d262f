// The shared expiry wheel on the virtual clock: items fire exactly when their second is reached,
// one clock timer at a time, and bindings expire on time (announced as 'expire').
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/ports/virtual-clock.ts';
import { TimerWheel } from '../../../src/actors/location/timer-wheel.ts';
import { setup, T0 } from '../../registrar/helpers.ts';

describe('TimerWheel', () => {
  it('fires each bucket at its second, in order, with one armed timer', () => {
    const clock = new VirtualClock(1_000_000);
    const fired: Array<[string, number, number]> = [];
    const w = new TimerWheel<string>(clock, (it, sec) => fired.push([it, sec, clock.now()]));
    w.schedule('c', 1005);
    w.schedule('a', 1002);
    w.schedule('b', 1002);
    w.schedule('d', 1100);
    expect(clock.pending()).toBe(1);
    clock.advance(1_999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([['a', 1002, 1_002_000], ['b', 1002, 1_002_000]]);
    clock.advance(3_000);
    expect(fired.map((f) => f[0])).toEqual(['a', 'b', 'c']);
    expect(clock.pending()).toBe(1);
    clock.advance(1_000_000);
    expect(fired.map((f) => f[0])).toEqual(['a', 'b', 'c', 'd']);
    expect(clock.pending()).toBe(0);
  });

  it('an item scheduled earlier than the armed bucket re-arms the timer', () => {
    const clock = new VirtualClock(0);
    const fired: number[] = [];
    const w = new TimerWheel<number>(clock, (it) => fired.push(it));
    w.schedule(50, 50);
    w.schedule(10, 10);
    clock.advance(10_000);
    expect(fired).toEqual([10]);
    expect(clock.pending()).toBe(1);
  });
});

describe('binding expiry on the virtual clock', () => {
  it('expires a binding at its absolute expires, not before; refresh moves it', () => {
    const { send, clock, store, changes } = setup();
    send({ expires: 120 });
    send({ user: 'u2', contacts: ['<sip:u2@1.1.1.1>'], expires: 60 });
    clock.advance(59_999);
    expect(store.contactCount()).toBe(2);
    clock.advance(1);
    expect(store.get('u2')).toEqual([]);
    expect(changes.at(-1)).toMatchObject({ kind: 'expire', origin: 'local', contact: { aor: 'u2' } });
    send({ cseq: 2, expires: 120 }); // refresh at T0+60 s → expires T0+180 s
    clock.advance(60_000);
    expect(store.get('user1').length).toBe(1);
    clock.advance(60_000);
    expect(store.contactCount()).toBe(0);
    expect(store.expiredCount).toBe(2);
    expect(clock.now()).toBe(T0 + 180_000);
  });
});
