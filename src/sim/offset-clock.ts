// A node's view of the shared VirtualClock with a fixed offset (issue "kdmq check" item 3: clock
// offsets between nodes). now() is shifted; timers are relative, so they fire when the shared
// clock says. Absolute times a node writes (usrloc expires, last_modified) carry its offset.

import type { Clock, TimerId } from '../ports/clock.ts';

export class OffsetClock implements Clock {
  constructor(
    private readonly base: Clock,
    readonly offsetMs: number,
  ) {}

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    return this.base.setTimeout(fn, ms);
  }

  clearTimeout(id: TimerId): void {
    this.base.clearTimeout(id);
  }
}
