// Simulated DNS for the model checker and tests: zones that can change at run time, NXDOMAIN,
// SERVFAIL and time-outs, answered after a delay on the virtual clock so a run stays
// deterministic. Implements the Resolver port.

import type { Clock } from '../ports/clock.ts';
import type { DnsAnswer, Resolver, SrvRecord } from '../ports/resolver.ts';

export interface SimZone {
  a?: string[];
  aaaa?: string[];
  srv?: SrvRecord[];
  ttl?: number;
  /** answer this name with a failure instead */
  fail?: 'servfail' | 'timeout' | 'refused';
}

export class SimDns implements Resolver {
  private readonly zones = new Map<string, SimZone>();
  queries = 0;
  /** answers due to a node incarnation that crashed or stopped meanwhile: dropped (see forNode) */
  droppedAnswers = 0;

  constructor(
    private readonly clock: Clock,
    private readonly latencyMs = 1,
    private readonly timeoutMs = 2000,
  ) {}

  set(name: string, zone: SimZone): void {
    this.zones.set(name.toLowerCase(), zone);
  }

  delete(name: string): void {
    this.zones.delete(name.toLowerCase());
  }

  /**
   * this DNS as one node incarnation sees it: while `alive()` is false when an answer is due (the
   * node crashed or stopped), the answer is dropped and its promise never settles, as a dead
   * process gets nothing; it would otherwise wake the dead node's startup, which then sends
   * through its stopped actors. Same timers and same ticks as the shared resolver otherwise.
   */
  forNode(alive: () => boolean): Resolver {
    return {
      a: (name) => this.answer(name, (z) => z.a, alive),
      aaaa: (name) => this.answer(name, (z) => z.aaaa, alive),
      srv: (name) => this.answer(name, (z) => z.srv, alive),
    };
  }

  private answer<T>(name: string, pick: (z: SimZone) => T[] | undefined, alive?: () => boolean): Promise<DnsAnswer<T>> {
    const settle = (resolve: (a: DnsAnswer<T>) => void, a: DnsAnswer<T>) => {
      if (alive === undefined || alive()) resolve(a);
      else this.droppedAnswers++;
    };
    this.queries++;
    const z = this.zones.get(name.toLowerCase());
    return new Promise((resolve) => {
      if (z?.fail === 'timeout') {
        this.clock.setTimeout(() => settle(resolve, { ok: false, code: 'timeout', error: `${name}: timed out` }), this.timeoutMs);
        return;
      }
      const out: DnsAnswer<T> = !z
        ? { ok: false, code: 'nxdomain', error: `${name}: NXDOMAIN` }
        : z.fail
          ? { ok: false, code: z.fail, error: `${name}: ${z.fail.toUpperCase()}` }
          : (pick(z)?.length ?? 0) === 0
            ? { ok: false, code: 'nodata', error: `${name}: no records` }
            : { ok: true, records: pick(z)!, ttl: z.ttl ?? 60 };
      this.clock.setTimeout(() => settle(resolve, out), this.latencyMs);
    });
  }

  a(name: string): Promise<DnsAnswer<string>> {
    return this.answer(name, (z) => z.a);
  }
  aaaa(name: string): Promise<DnsAnswer<string>> {
    return this.answer(name, (z) => z.aaaa);
  }
  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    return this.answer(name, (z) => z.srv);
  }
}
