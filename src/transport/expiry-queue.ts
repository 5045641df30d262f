// ExpiryQueue: items that all expire a fixed time after they are added (a transaction's timer J
// or timer K), so expiry order is insertion order. One clock timer serves the whole queue instead
// of one per item; `sweep()` ends every expired item, and may be called before any lookup so that
// a reader sees exactly what per-item timers would have left. All time comes from the Clock port.

import type { Clock, TimerId } from '../ports/clock.ts';

export class ExpiryQueue<T> {
  private items: T[] = [];
  private head = 0;
  private timer: TimerId | undefined;

  constructor(
    private readonly clock: Clock,
    /** when an item expires (absolute clock time) */
    private readonly expiresAt: (item: T) => number,
    /** called once per item when it has expired */
    private readonly expire: (item: T) => void,
  ) {}

  /** number of items not yet swept */
  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
    if (this.timer === undefined) this.arm();
  }

  /** expire every item whose time has come */
  sweep(): void {
    const q = this.items;
    if (this.head >= q.length) return;
    const now = this.clock.now();
    let h = this.head;
    while (h < q.length && this.expiresAt(q[h]!) <= now) this.expire(q[h++]!);
    if (h === q.length) {
      this.items = [];
      h = 0;
    } else if (h > 4096 && h * 2 > q.length) {
      this.items = q.slice(h); // drop the swept prefix once it is most of the array
      h = 0;
    }
    this.head = h;
  }

  /** forget every item without expiring it, and clear the timer */
  clear(): void {
    this.items = [];
    this.head = 0;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const first = this.items[this.head];
    if (first === undefined) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.sweep();
      this.arm();
    }, Math.max(0, this.expiresAt(first) - this.clock.now()));
  }
}
