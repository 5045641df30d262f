// The Clock port: wall time in ms and one-shot timers. Its setTimeout/clearTimeout pair is
// exactly what xstate v5 accepts as `createActor(machine, { clock })`, so every machine of a node
// runs on the same clock: the system clock live (system-clock.ts), a VirtualClock in the simulator
// and in replay (virtual-clock.ts).

/** opaque: a number for SystemClock, the timer's own entry for VirtualClock */
export type TimerId = number | object;

export interface Clock {
  /** milliseconds since the Unix epoch (virtual in simulation) */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
}

// The live implementation, re-exported for the importers that still name it here (src/cli/serve.ts).
export { SystemClock } from './system-clock.ts';
