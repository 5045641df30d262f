// The Clock port's live implementation (src/ports/clock.ts): Date.now and the host's timers, for
// `kdmq serve` and the tests that run live nodes. The simulator and replay use virtual-clock.ts.

import type { Clock, TimerId } from './clock.ts';

/** The live clock: Date.now and the host's timers. */
export class SystemClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<TimerId, ReturnType<typeof setTimeout>>();

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const id = this.nextId++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, ms));
    this.timers.set(id, t);
    return id;
  }

  clearTimeout(id: TimerId): void {
    const t = this.timers.get(id);
    if (t !== undefined) {
      clearTimeout(t);
      this.timers.delete(id);
    }
  }

  /** number of armed timers (for tests and leak checks) */
  pending(): number {
    return this.timers.size;
  }
}
