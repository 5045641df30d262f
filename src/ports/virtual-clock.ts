// A deterministic virtual clock: a binary heap of timers ordered by due time, ties broken by
// insertion order. Time moves only when the owner calls advance()/runUntil(); used by the
// simulator, replay and timer tests. xstate's own SimulatedClock does not scale past ~1k timers.
// Each entry knows its heap slot, so clearTimeout removes it at once (O(log n)): a cancelled
// timer holds neither a slot nor its closure (transactions cancel most of theirs). The entry is
// itself the TimerId, so no id-to-entry map is kept.

import type { Clock, TimerId } from './clock.ts';

interface Entry {
  due: number;
  seq: number;
  fn: () => void;
  /** index in the heap, -1 once fired or cleared */
  i: number;
}

function less(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly heap: Entry[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const e: Entry = { due: this.t + Math.max(0, ms), seq: this.seq++, fn, i: this.heap.length };
    this.heap.push(e);
    this.up(e.i);
    return e;
  }

  clearTimeout(id: TimerId): void {
    if (typeof id !== 'object' || id === null) return; // not one of ours
    const e = id as Entry;
    if (e.i < 0 || this.heap[e.i] !== e) return; // fired, cleared, or another clock's
    this.removeAt(e.i);
    e.i = -1;
  }

  pending(): number {
    return this.heap.length;
  }

  /** due time of the next live timer, or undefined */
  nextDue(): number | undefined {
    return this.heap[0]?.due;
  }

  /** fire the earliest timer (moving time to it); false when none is left */
  step(): boolean {
    const top = this.heap[0];
    if (!top) return false;
    this.removeAt(0);
    top.i = -1;
    if (top.due > this.t) this.t = top.due;
    top.fn();
    return true;
  }

  /** fire every timer due up to `until` (inclusive), then set time to `until` */
  runUntil(until: number): number {
    let fired = 0;
    for (;;) {
      const due = this.nextDue();
      if (due === undefined || due > until) break;
      this.step();
      fired++;
    }
    if (until > this.t) this.t = until;
    return fired;
  }

  advance(ms: number): number {
    return this.runUntil(this.t + ms);
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const last = h.pop()!;
    if (i === h.length) return;
    h[i] = last;
    last.i = i;
    if (i > 0 && less(last, h[(i - 1) >> 1]!)) this.up(i);
    else this.down(i);
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p]!;
      if (!less(e, pe)) break;
      h[i] = pe;
      pe.i = i;
      i = p;
    }
    h[i] = e;
    e.i = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && less(h[r]!, h[l]!) ? r : l;
      const ce = h[c]!;
      if (!less(ce, e)) break;
      h[i] = ce;
      ce.i = i;
      i = c;
    }
    h[i] = e;
    e.i = i;
  }
}
