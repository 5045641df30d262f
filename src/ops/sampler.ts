// The status page's charts: a sampler that reads the node's counters every `intervalMs` on the
// Clock port of the serve process (never inside the node core) and keeps the last `windowMs`
// (15 minutes) of samples in a ring buffer. A sample holds what changed during its interval
// (exact counts: REGISTERs answered, KDMQ requests sent and received per channel) and the levels
// at its end (replication backlog per node, bindings); the page turns counts into rates itself.
// Membership changes are kept beside the samples, for the timeline, for the same window.

import type { KdmqNode } from '../actors/node/create-node.ts';
import type { App } from '../actors/node/install-app.ts';
import type { Clock, TimerId } from '../ports/clock.ts';

/** a fixed-capacity ring buffer: the oldest item is overwritten once full */
export class Ring<T> {
  private readonly items: Array<T | undefined>;
  private head = 0;
  private count = 0;
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, not ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }
  get length(): number {
    return this.count;
  }
  push(x: T): void {
    this.items[(this.head + this.count) % this.capacity] = x;
    if (this.count < this.capacity) this.count++;
    else this.head = (this.head + 1) % this.capacity;
  }
  /** oldest first */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.head + i) % this.capacity] as T);
    return out;
  }
  /** the newest item, if any */
  last(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.head + this.count - 1) % this.capacity];
  }
}

/** what the sampler reads from the node: cumulative counters and current levels */
export interface Reading {
  /** REGISTERs answered by the registrar (accepted + rejected), cumulative */
  registers: number;
  /** KDMQ requests sent / received, per channel, cumulative */
  sent: Record<string, number>;
  received: Record<string, number>;
  /** replicated changes owed per node, now */
  backlog: Record<string, number>;
  /** contacts in the location table, now */
  bindings: number;
}

export interface Sample {
  /** end of the interval (ms since the epoch, the clock's) */
  at: number;
  /** length of the interval */
  dt_ms: number;
  /** REGISTERs answered during the interval */
  registers: number;
  sent: Record<string, number>;
  received: Record<string, number>;
  backlog: Record<string, number>;
  bindings: number;
}

export interface TimelineChange {
  at: number;
  node: string;
  from: string;
  to: string;
  trigger: string;
}

export interface SeriesJson {
  now: number;
  interval_ms: number;
  window_ms: number;
  /** samples with `at` after the request's `since`, oldest first */
  samples: Sample[];
  /** membership changes within the window, oldest first */
  changes: TimelineChange[];
}

/** counters never go down in one process; if one does (a reset), its new value is the count */
const delta = (cur: number, prev: number | undefined): number => (prev === undefined ? cur : cur >= prev ? cur - prev : cur);

function deltas(cur: Record<string, number>, prev: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(cur)) out[k] = delta(v, prev[k]);
  return out;
}

export class Sampler {
  readonly intervalMs: number;
  readonly windowMs: number;
  private readonly samples: Ring<Sample>;
  private readonly changes = new Ring<TimelineChange>(1000);
  private prev: Reading | null = null;
  private prevAt = 0;
  private timer: TimerId | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly read: () => Reading,
    opts: { intervalMs?: number; windowMs?: number } = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    this.samples = new Ring(Math.max(1, Math.ceil(this.windowMs / this.intervalMs)));
  }

  /** take the baseline reading and sample every intervalMs from now on */
  start(): void {
    if (this.timer !== null) return;
    this.prev = this.read();
    this.prevAt = this.clock.now();
    const loop = () => {
      this.tick();
      this.timer = this.clock.setTimeout(loop, this.intervalMs);
    };
    this.timer = this.clock.setTimeout(loop, this.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** one sample now (the timer calls it; tests may too) */
  tick(): Sample {
    const now = this.clock.now();
    const cur = this.read();
    const prev = this.prev ?? cur;
    const s: Sample = {
      at: now,
      dt_ms: this.prev ? now - this.prevAt : 0,
      registers: this.prev ? delta(cur.registers, prev.registers) : 0,
      sent: this.prev ? deltas(cur.sent, prev.sent) : {},
      received: this.prev ? deltas(cur.received, prev.received) : {},
      backlog: { ...cur.backlog },
      bindings: cur.bindings,
    };
    this.samples.push(s);
    this.prev = cur;
    this.prevAt = now;
    return s;
  }

  /** a node's status changed (the serve process forwards the node's onStatusChange) */
  change(c: TimelineChange): void {
    this.changes.push(c);
  }

  /** what GET /series.json answers: samples newer than `since`, changes within the window */
  series(since = -Infinity): SeriesJson {
    const now = this.clock.now();
    const from = now - this.windowMs;
    return {
      now,
      interval_ms: this.intervalMs,
      window_ms: this.windowMs,
      samples: this.samples.toArray().filter((s) => s.at > since && s.at > from),
      changes: this.changes.toArray().filter((c) => c.at > from),
    };
  }
}

/** the Reading of a running node and its applications */
export function nodeReading(node: KdmqNode, app: App): Reading {
  const store = app.registrar.store;
  const backlog: Record<string, number> = {};
  for (const v of node.replication.outbox.view()) backlog[v.key] = v.backlog;
  return {
    registers: store.acceptedRegs + store.rejectedRegs,
    sent: { ...node.kdmq.stats.sent },
    received: { ...node.router.stats.received },
    backlog,
    bindings: store.contactCount(),
  };
}
