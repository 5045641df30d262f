// A deterministic virtual clock: a binary heap of timers ordered by due time, ties broken by
// insertion order. Time moves only when the owner calls advance()/runUntil(); used by the
// simulator, replay and timer tests. xstate's own SimulatedClock does not scale past ~1k timers.

import type { Clock, TimerId } from './clock.ts';

interface Entry {
  due: number;
  seq: number;
  id: TimerId;
  fn: () => void;
}

export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private nextId = 1;
  private heap: Entry[] = [];
  private readonly live = new Set<TimerId>();

  constructor(startMs = 1_700_000_000_000) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const id = this.nextId++;
    this.push({ due: this.t + Math.max(0, ms), seq: this.seq++, id, fn });
    this.live.add(id);
    return id;
  }

  clearTimeout(id: TimerId): void {
    this.live.delete(id);
  }

  pending(): number {
    return this.live.size;
  }

  /** due time of the next live timer, or undefined */
  nextDue(): number | undefined {
    this.dropDead();
    return this.heap[0]?.due;
  }

  /** fire the earliest timer (moving time to it); false when none is left */
  step(): boolean {
    this.dropDead();
    const top = this.heap[0];
    if (!top) return false;
    this.pop();
    this.live.delete(top.id);
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

  private dropDead(): void {
    while (this.heap.length > 0 && !this.live.has(this.heap[0].id)) this.pop();
  }

  private less(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
