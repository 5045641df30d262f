// htable store semantics (protocol reference §6.3/§6.5 and 5.6.3 behaviour observed over RPC):
// values, autoexpire/updateexpire/setex expiry on a VirtualClock, purge timer, initval, regex and
// prefix deletes, Kamailio slot numbers and order, and the replication feed (local only).

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { HtableStore, type HtableChange } from '../../src/htable/store.ts';
import { coreCaseHash } from '../../src/htable/hash.ts';
import type { HtableTableConfig } from '../../src/config/types.ts';
import { T0, table } from './helpers.ts';

function mk(tables: Record<string, HtableTableConfig> = { lab: table(), ex: table({ size: 4, autoexpire: 60, updateexpire: false }), up: table({ size: 2, autoexpire: 30 }) }, interval?: number) {
  const clock = new VirtualClock(T0);
  const store = new HtableStore(tables, clock, interval ? { timerIntervalMs: interval } : {});
  const changes: HtableChange[] = [];
  store.onChange((c) => changes.push(c));
  return { clock, store, changes };
}
const s = (strval: string) => ({ type: 2 as const, strval });
const i = (intval: number) => ({ type: 0 as const, intval });

describe('htable store', () => {
  it('sets strings and integers, replaces types, deletes', () => {
    const { store } = mk();
    expect(store.set('lab', 'color', s('blue')).ok).toBe(true);
    store.set('lab', 'counter', i(42));
    expect(store.get('lab', 'color')?.value).toEqual(s('blue'));
    store.set('lab', 'counter', s('now a string'));
    expect(store.get('lab', 'counter')?.value).toEqual(s('now a string'));
    expect(store.delete('lab', 'color')).toEqual({ ok: true, value: true });
    expect(store.delete('lab', 'color')).toEqual({ ok: true, value: false });
    expect(store.get('lab', 'color')).toBeUndefined();
    expect(store.set('nosuch', 'k', s('v'))).toMatchObject({ ok: false, error: 'no-table' });
  });

  it('slot numbers and in-slot order equal a live 5.6.3 (hash-ascending, A–Z folded)', () => {
    const want: Record<string, number> = { counter: 25, color: 160, fromnode2: 3, city: 129, 'éa€x': 150, 'ÿÿÿÿÿ': 196, Counter: 25, a: 109, AbCdEfGhI: 128, xyz1234567: 75 };
    for (const [k, e] of Object.entries(want)) expect(coreCaseHash(k) & 255, k).toBe(e);
    const { store } = mk();
    for (const k of 'abcdefghij') store.set('up', k, s(k));
    // captured: htable.dump up (size=2) after setting a..j
    expect(store.dump('up')!.map((x) => [x.entry, x.items.map((it) => it.name).join('')])).toEqual([
      [0, 'id'], [1, 'hea'], [2, 'fb'], [3, 'jgc'],
    ]);
  });

  it('autoexpire applies on set; updateexpire resets it on update; updateexpire=0 keeps it', () => {
    const { clock, store } = mk();
    store.set('up', 'k', s('1'));
    expect(store.get('up', 'k')!.expireAt).toBe(T0 + 30_000);
    clock.advance(10_000);
    store.set('up', 'k', s('2'));
    expect(store.get('up', 'k')!.expireAt).toBe(T0 + 40_000);
    store.set('ex', 'k', s('1'));
    clock.advance(10_000);
    store.set('ex', 'k', i(2));
    expect(store.get('ex', 'k')!.expireAt).toBe(T0 + 10_000 + 60_000);
    expect(store.get('ex', 'k')!.value).toEqual(i(2));
    store.set('lab', 'k', s('v'));
    expect(store.get('lab', 'k')!.expireAt).toBe(0);
  });

  it('setex sets the expiry explicitly (0 = never), is ignored without autoexpire or key', () => {
    const { clock, store } = mk();
    store.set('ex', 'a', s('b'));
    store.setex('ex', 'a', 100);
    expect(store.get('ex', 'a')!.expireAt).toBe(T0 + 100_000);
    store.setex('ex', 'a', 0);
    expect(store.get('ex', 'a')!.expireAt).toBe(0);
    store.set('ex', 'a', s('b2')); // updateexpire=0: stays never (as 5.6.3)
    clock.advance(3_600_000);
    expect(store.get('ex', 'a')!.value).toEqual(s('b2'));
    store.set('lab', 'y', s('12'));
    store.setex('lab', 'y', 5);
    expect(store.get('lab', 'y')!.expireAt).toBe(0);
    store.setex('ex', 'missing', 5);
    expect(store.get('ex', 'missing')).toBeUndefined();
  });

  it('expired items are invisible at once and purged by the timer only', () => {
    const { clock, store } = mk(undefined, 20_000);
    store.setx('ex', 'short', s('v'), 1);
    clock.advance(999);
    expect(store.get('ex', 'short')).toBeDefined();
    clock.advance(1);
    expect(store.get('ex', 'short')).toBeUndefined();
    expect(store.dump('ex')).toEqual([]);
    expect(store.stats().find((x) => x.name === 'ex')!.all).toBe(0);
    expect(store.replicatedCells()).toEqual([]);
    expect(store.purge()).toBe(1); // still held until purged
    store.setx('ex', 'b', s('v'), 5);
    clock.advance(19_000); // timer at T0+20 s (the first purge() above was manual)
    expect(store.get('ex', 'b')).toBeUndefined();
    const before = clock.pending();
    clock.advance(1_000);
    expect(store.purge()).toBe(0); // the timer already removed it
    expect(clock.pending()).toBe(before); // and re-armed itself
    store.stop();
    expect(clock.pending()).toBe(before - 1);
  });

  it('an expired key set again starts over with the table rule', () => {
    const { clock, store } = mk();
    store.set('ex', 'k', s('1'));
    clock.advance(61_000);
    store.set('ex', 'k', s('2'));
    expect(store.get('ex', 'k')!.expireAt).toBe(clock.now() + 60_000);
  });

  it('setx: explicit expiry, ≤ 0 falls back to autoexpire', () => {
    const { store } = mk();
    store.setx('ex', 'b', s('v'), 30);
    expect(store.get('ex', 'b')!.expireAt).toBe(T0 + 30_000);
    store.setx('ex', 'z', s('v'), 0);
    expect(store.get('ex', 'z')!.expireAt).toBe(T0 + 60_000);
    store.setx('lab', 'n', i(5), 30);
    expect(store.get('lab', 'n')!.expireAt).toBe(0);
  });

  it('initval for missing keys (integer when numeric)', () => {
    const { store } = mk({ t: table({ initval: '7' }), u: table({ initval: 'none' }), lab: table() });
    expect(store.lookup('t', 'x')).toEqual(i(7));
    expect(store.lookup('u', 'x')).toEqual(s('none'));
    expect(store.lookup('lab', 'x')).toBeUndefined();
    expect(store.get('t', 'x')).toBeUndefined();
    store.set('t', 'x', i(1));
    expect(store.lookup('t', 'x')).toEqual(i(1));
  });

  it('regex delete by name (0) or by string value (1), case-insensitive; prefix delete', () => {
    const { store } = mk();
    for (const [k, v] of [['k1', s('apple')], ['K2', s('Banana')], ['x', s('kiwi')], ['n', i(11)]] as const) store.set('lab', k, v);
    expect(store.deleteRegex('lab', '^k.*', 0)).toEqual({ ok: true, value: 2 });
    expect(store.dump('lab')!.flatMap((x) => x.items.map((it) => it.name)).sort()).toEqual(['n', 'x']);
    store.set('lab', 'k1', s('apple'));
    expect(store.deleteRegex('lab', '^(kiwi|1)', 1)).toEqual({ ok: true, value: 1 }); // ints are not matched
    expect(store.get('lab', 'n')).toBeDefined();
    expect(store.deleteRegex('lab', '(', 0)).toMatchObject({ ok: false, error: 'bad-regex' });
    store.set('lab', 'd7', s('x'));
    expect(store.deleteRegex('lab', '^d[[:digit:]]$', 0)).toEqual({ ok: true, value: 1 });
    expect(store.deleteRegex('lab', '.', 2)).toEqual({ ok: true, value: 0 }); // other modes match nothing
    store.set('lab', 'pre_a', s('1'));
    store.set('lab', 'pre_b', s('pre'));
    expect(store.deletePrefix('lab', 'pre', 0)).toEqual({ ok: true, value: 2 });
    store.set('lab', 'v', s('prefix'));
    expect(store.deletePrefix('lab', 'pre', 1)).toEqual({ ok: true, value: 1 });
    expect(store.get('lab', 'v')).toBeUndefined();
  });

  it('stats and listTables (newest table first, slots = 2^size)', () => {
    const { store } = mk();
    store.set('lab', 'a', s('1'));
    store.set('lab', 'b', s('1'));
    expect(store.listTables().map((t) => t.name)).toEqual(['up', 'ex', 'lab']);
    expect(store.stats()).toEqual([
      { name: 'up', slots: 4, all: 0, min: 0, max: 0 },
      { name: 'ex', slots: 16, all: 0, min: 0, max: 0 },
      { name: 'lab', slots: 256, all: 2, min: 0, max: 1 },
    ]);
    for (const k of 'abcdefghij') store.set('up', k, s(k));
    expect(store.stats()[0]).toEqual({ name: 'up', slots: 4, all: 10, min: 2, max: 3 });
  });

  it('emits local changes of dmqreplicate tables only, before applying; never for dmq origin or flush', () => {
    const { store, changes } = mk({ lab: table(), local: table({ dmqreplicate: false }) });
    const seen: Array<boolean> = [];
    store.onChange((c) => seen.push('cname' in c && store.get('lab', c.cname) !== undefined));
    store.set('lab', 'a', s('1'));
    store.set('local', 'a', s('1'));
    store.set('lab', 'b', s('1'), 'dmq');
    store.delete('lab', 'b', 'dmq');
    store.setx('lab', 'c', i(3), 10);
    store.delete('lab', 'a');
    store.deleteRegex('lab', '^c', 0);
    store.deletePrefix('lab', 'z', 1);
    store.flush('lab');
    expect(changes).toEqual([
      { action: 2, htname: 'lab', cname: 'a', value: s('1'), mode: 1 },
      { action: 2, htname: 'lab', cname: 'c', value: i(3), mode: 1 },
      { action: 3, htname: 'lab', cname: 'c', value: i(10), mode: 0 },
      { action: 4, htname: 'lab', cname: 'a', mode: 0 },
      { action: 5, htname: 'lab', value: s('^c'), mode: 0 },
      { action: 6, htname: 'lab', value: s('z'), mode: 1 },
    ]);
    expect(seen.slice(0, 4)).toEqual([false, false, false, true]); // set a: not yet there; delete a: still there
  });

  it('sync cells: absolute seconds out; in: expire − now, else autoexpire', () => {
    const { clock, store } = mk();
    store.setx('up', 'k', s('v'), 10);
    store.set('lab', 'n', i(1));
    expect(store.replicatedCells()).toEqual([
      { htname: 'up', cname: 'k', value: s('v'), expire: Math.ceil((T0 + 10_000) / 1000) },
      { htname: 'lab', cname: 'n', value: i(1), expire: 0 },
    ]);
    const b = mk();
    b.clock.advance(clock.now() - b.clock.now());
    expect(b.store.applyCell({ htname: 'up', cname: 'k', value: s('v'), expire: (T0 + 10_000) / 1000 })).toBe(true);
    expect(b.store.get('up', 'k')!.expireAt).toBe(T0 + 10_000);
    b.store.applyCell({ htname: 'up', cname: 'old', value: s('v'), expire: 5 });
    expect(b.store.get('up', 'old')!.expireAt).toBe(T0 + 30_000);
    expect(b.store.applyCell({ htname: 'nosuch', cname: 'k', value: s('v'), expire: 0 })).toBe(false);
    expect(b.store.applyCell({ htname: 'lab', cname: '', value: s('v'), expire: 0 })).toBe(false);
    expect(b.changes).toEqual([]);
  });
});
