// The Clock port: wall time in ms and one-shot timers. Its setTimeout/clearTimeout pair is
// exactly what xstate v5 accepts as `createActor(machine, { clock })`, so every machine of a node
// runs on the same clock: the system clock live, a VirtualClock in the simulator and in replay.

/** opaque: a number for SystemClock, the timer's own entry for VirtualClock */
export type TimerId = number | object;

export interface Clock {
  /** milliseconds since the Unix epoch (virtual in simulation) */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
}

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
