// One shared expiry wheel for every binding and tombstone of a node (specs/registrar.md "Timer
// wheel"): 1 s buckets keyed by absolute Unix second, a min-heap of bucket seconds, and a single
// Clock timer armed for the earliest non-empty bucket. Entries are never removed: a rescheduled
// item simply sits in two buckets and the owner's onDue() checks whether the entry still holds.
import type { Clock, TimerId } from '../../ports/clock.ts';

export class TimerWheel<T> {
  private readonly buckets = new Map<number, T[]>();
  private readonly heap: number[] = [];
  private armedSec = Infinity;
  private timer: TimerId | null = null;

  /** onDue(item, sec) is called for each item of a bucket once clock time reaches sec × 1000 */
  constructor(
    private readonly clock: Clock,
    private readonly onDue: (item: T, sec: number) => void,
  ) {}

  /** schedule item at absolute Unix second sec (due when now() >= sec × 1000) */
  schedule(item: T, sec: number): void {
    let b = this.buckets.get(sec);
    if (b === undefined) {
      b = [];
      this.buckets.set(sec, b);
      this.pushSec(sec);
    }
    b.push(item);
    if (sec < this.armedSec) this.arm();
  }

  /** number of entries held (stale ones included) */
  size(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.length;
    return n;
  }

  /** the earliest bucket second, or undefined */
  nextSec(): number | undefined {
    return this.heap[0];
  }

  /** fire every bucket due at the clock's current time; returns how many items were handed out */
  runDue(): number {
    const nowSec = Math.floor(this.clock.now() / 1000);
    let n = 0;
    while (this.heap.length > 0 && this.heap[0] <= nowSec) {
      const sec = this.popSec();
      const items = this.buckets.get(sec) ?? [];
      this.buckets.delete(sec);
      for (const it of items) this.onDue(it, sec);
      n += items.length;
    }
    this.arm();
    return n;
  }

  /** stop the clock timer (the wheel keeps its entries) */
  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.armedSec = Infinity;
  }

  private arm(): void {
    const next = this.heap[0];
    if (next === this.armedSec && this.timer !== null) return;
    this.stop();
    if (next === undefined) return;
    this.armedSec = next;
    const delay = Math.max(0, next * 1000 - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.armedSec = Infinity;
      this.runDue();
    }, delay);
  }

  private pushSec(sec: number): void {
    const h = this.heap;
    h.push(sec);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p] <= h[i]) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  private popSec(): number {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l] < h[m]) m = l;
        if (r < h.length && h[r] < h[m]) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}
