// VirtualClock (src/ports/virtual-clock.ts) against a naive model: timers fire in (due time,
// insertion) order, a cleared timer never fires, clearing a fired, cleared or foreign timer is
// a no-op, and pending() counts the armed ones. The clock hands out its heap entries as TimerIds
// (no id → entry map), so these are the cases that shortcut must keep.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import type { TimerId } from '../../src/ports/clock.ts';

type Op = { kind: 'set'; ms: number } | { kind: 'clear'; pick: number } | { kind: 'step' } | { kind: 'advance'; ms: number } | { kind: 'foreign' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), ms: fc.integer({ min: -5, max: 50 }) }),
  fc.record({ kind: fc.constant('clear' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('step' as const) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant('foreign' as const) }),
);

describe('VirtualClock', () => {
  it('fires like a sorted list of (due, order) timers, whatever is set, cleared and stepped', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const clock = new VirtualClock(1000);
        const other = new VirtualClock(1000);
        const fired: number[] = [];
        const ids: TimerId[] = [];
        // the model: live timers with due time and insertion number
        let now = 1000;
        let n = 0;
        const live = new Map<number, number>(); // insertion number → due
        const modelFired: number[] = [];
        const modelStep = (): boolean => {
          let best: number | undefined;
          for (const [k, due] of live) if (best === undefined || due < live.get(best)! || (due === live.get(best)! && k < best)) best = k;
          if (best === undefined) return false;
          now = Math.max(now, live.get(best)!);
          live.delete(best);
          modelFired.push(best);
          return true;
        };
        for (const o of ops) {
          if (o.kind === 'set') {
            const k = n++;
            ids.push(clock.setTimeout(() => fired.push(k), o.ms));
            live.set(k, now + Math.max(0, o.ms));
          } else if (o.kind === 'clear' && ids.length > 0) {
            const k = o.pick % ids.length;
            clock.clearTimeout(ids[k]);
            live.delete(k);
          } else if (o.kind === 'step') {
            expect(clock.step()).toBe(modelStep());
          } else if (o.kind === 'advance') {
            const until = now + o.ms;
            for (;;) {
              let min: number | undefined;
              for (const due of live.values()) if (min === undefined || due < min) min = due;
              if (min === undefined || min > until) break;
              modelStep();
            }
            now = Math.max(now, until);
            clock.advance(o.ms);
          } else if (o.kind === 'foreign') {
            // a timer of another clock cleared here, and one of ours cleared there: no effect
            clock.clearTimeout(other.setTimeout(() => {}, 1));
            if (ids.length > 0) other.clearTimeout(ids[ids.length - 1]);
            clock.clearTimeout(12345);
            clock.clearTimeout(null as unknown as TimerId);
          }
          expect(fired).toEqual(modelFired);
          expect(clock.now()).toBe(now);
          expect(clock.pending()).toBe(live.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a timer cleared from inside another timer of the same instant does not fire', () => {
    const clock = new VirtualClock(0);
    const fired: string[] = [];
    let b: TimerId | undefined;
    clock.setTimeout(() => {
      fired.push('a');
      clock.clearTimeout(b!);
    }, 5);
    b = clock.setTimeout(() => fired.push('b'), 5);
    clock.setTimeout(() => fired.push('c'), 5);
    clock.advance(10);
    expect(fired).toEqual(['a', 'c']);
    expect(clock.pending()).toBe(0);
  });
});
