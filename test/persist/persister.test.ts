// The persister's write pattern (specs/anti-entropy.md A7): db_mode 2 writes a flush in slices of
// FLUSH_SLICE rows, or of the rows a port that measures its cost writes in SLICE_BUDGET_MS (timers
// between them, so the event loop runs), one row per ruid (last change wins), a kill loses only what is not yet written, a clean stop writes everything; db_mode 1
// writes a local change at once and the replicated changes of one task in one transaction.

import { describe, expect, it } from 'vitest';
import { FLUSH_SLICE, Persister, SLICE_BUDGET_MS } from '../../src/persist/persister.ts';
import { MemoryPersistence } from '../../src/persist/port.ts';
import { LocationStore } from '../../src/actors/location/store.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import type { UsrlocContact } from '../../src/actors/channels/usrloc-body.ts';
import type { BindingChange } from '../../src/actors/location/store.ts';

const clock = () => new VirtualClock(1_795_000_000_000);
const rec = (i: number, cseq = 1): UsrlocContact => ({
  aor: `u${i}`, ruid: `r${i}`, c: `sip:u${i}@10.0.0.1`, received: '', path: '', callid: `c${i}`, user_agent: '', instance: '',
  expires: 1_795_000_000 + 3600, cseq, flags: 0, cflags: 0, q: -1, last_modified: 1_795_000_000, methods: 0, reg_id: 0, server_id: 0,
});
const change = (i: number, origin: BindingChange['origin'] = 'local', cseq = 1): BindingChange => ({ kind: 'update', contact: rec(i, cseq), origin });

function setup(mode: 1 | 2) {
  const c = clock();
  const port = new MemoryPersistence();
  const p = new Persister({ port, mode, timerMs: 5000, clock: c, location: new LocationStore(c) });
  p.load();
  return { c, port, p };
}

describe('persister', () => {
  it('db_mode 2: one row per ruid, written in slices after the tick; a kill mid-flush loses only the rest', () => {
    const { c, port, p } = setup(2);
    for (let i = 0; i < 2000; i++) p.onBinding(change(i));
    p.onBinding(change(7, 'local', 5)); // the last change of a ruid wins
    c.advance(4999);
    expect(port.bindings.size).toBe(0);
    c.step(); // the tick: the first slice only
    expect(c.now()).toBe(1_795_000_005_000);
    expect(port.bindings.size).toBe(FLUSH_SLICE);
    c.step(); // the next slice, on a 0 ms timer (the event loop runs between)
    expect(c.now()).toBe(1_795_000_005_000);
    expect(port.bindings.size).toBe(2 * FLUSH_SLICE);
    p.abandon(); // killed here
    c.advance(10_000);
    expect(port.bindings.size).toBe(2 * FLUSH_SLICE);
    expect(port.bindings.get('r7')?.cseq).toBe(5);
  });

  it('db_mode 2: the whole flush lands within the tick plus the slices; stop writes the rest at once', () => {
    const { c, port, p } = setup(2);
    for (let i = 0; i < 1500; i++) p.onBinding(change(i));
    c.advance(5000); // the tick and every slice after it (0 ms timers), no virtual time added
    expect(port.bindings.size).toBe(1500);
    for (let i = 1500; i < 1600; i++) p.onBinding(change(i));
    p.stop();
    expect(port.bindings.size).toBe(1600);
  });

  it('db_mode 2: a port that measures its cost sizes the slices (rows per SLICE_BUDGET_MS)', () => {
    const c = clock();
    const port = new MemoryPersistence();
    const asked: number[] = [];
    const sized = Object.assign(port, { sliceRows: (ms: number) => (asked.push(ms), 100) });
    const p = new Persister({ port: sized, mode: 2, timerMs: 5000, clock: c, location: new LocationStore(c) });
    p.load();
    for (let i = 0; i < 250; i++) p.onBinding(change(i));
    c.advance(4999);
    c.step(); // the tick: the first slice
    expect(port.bindings.size).toBe(100);
    c.step();
    expect(port.bindings.size).toBe(200);
    c.step();
    expect(port.bindings.size).toBe(250);
    expect(asked.every((ms) => ms === SLICE_BUDGET_MS)).toBe(true);
    p.stop();
  });

  it('db_mode 1: a local change is written at once, replicated changes of one task in one transaction', async () => {
    const { port, p } = setup(1);
    const w0 = port.writes;
    p.onBinding(change(1));
    expect(port.writes).toBe(w0 + 1);
    expect(port.bindings.has('r1')).toBe(true);
    for (let i = 10; i < 110; i++) p.onBinding(change(i, 'replicated'));
    p.onBinding(change(5)); // a local change first writes what is queued (order kept)
    expect(port.bindings.size).toBe(102);
    for (let i = 200; i < 300; i++) p.onBinding(change(i, 'replicated'));
    const w1 = port.writes;
    await Promise.resolve();
    expect(port.writes).toBe(w1 + 1);
    expect(port.bindings.size).toBe(202);
  });
});
