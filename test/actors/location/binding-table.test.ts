// The compiled lookup table equals the binding machine for every state × event (house rule 6):
// the literal table below is the one in specs/registrar.md, and xstate's pure transition() agrees
// with step() on random contexts and events.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import {
  BINDING_EVENTS, BINDING_STATES, bindingMachine, versionOrder,
  type BindingEvent, type BindingEventType, type BindingState, type BindingVersion,
} from '../../../src/actors/location/binding-machine.ts';
import { step, TABLE } from '../../../src/actors/location/transition-table.ts';

const SPEC: Record<BindingState, Partial<Record<BindingEventType, [string | null, BindingState]>>> = {
  active: {
    'binding.refresh': ['localNewer', 'active'],
    'binding.update': ['localNewer', 'active'],
    'binding.expire': ['isDue', 'expired'],
    'binding.remove': ['removeAllowed', 'removed'],
    'binding.replicatedUpdate': ['remoteNewer', 'active'],
  },
  expired: { 'binding.remove': [null, 'removed'], 'binding.replicatedUpdate': ['remoteNewer', 'active'] },
  removed: { 'binding.replicatedUpdate': ['remoteNewer', 'active'] },
};

const version = fc.record({
  callId: fc.constantFrom('a', 'b'),
  cseq: fc.integer({ min: 1, max: 4 }),
  lastModified: fc.integer({ min: 100, max: 103 }),
  ruid: fc.constantFrom('r1', 'r2'),
  expires: fc.constantFrom(0, 101, 102, 200),
});
const event = fc.record({
  type: fc.constantFrom(...BINDING_EVENTS),
  version,
  nowSec: fc.integer({ min: 99, max: 205 }),
  origin: fc.constantFrom('local' as const, 'replicated' as const),
}).map((e) => (e.type === 'binding.expire' ? { type: e.type, nowSec: e.nowSec } : e) as BindingEvent);

describe('binding transition table', () => {
  it('equals the table of specs/registrar.md', () => {
    for (const s of BINDING_STATES) {
      const got = Object.fromEntries(Object.entries(TABLE[s]).map(([k, c]) => [k, [c!.guard, c!.target]]));
      expect(got).toEqual(SPEC[s]);
    }
  });

  it('step() equals xstate transition() for every state × event', () => {
    fc.assert(
      fc.property(fc.constantFrom(...BINDING_STATES), version, event, (s, ctx, ev) => {
        const snap = bindingMachine.resolveState({ value: s, context: ctx });
        const [next] = transition(bindingMachine, snap, ev);
        const want = step(s, ctx, ev);
        if (want === null) {
          expect(next.value).toBe(s);
          expect(next.context).toEqual(ctx);
        } else {
          expect(next.value).toBe(want);
          if ('version' in ev && want === 'active') expect(next.context).toEqual(ev.version);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('versionOrder is a strict total order over triples with random Call-IDs (antisymmetric, transitive, total)', () => {
    // more properties, arbitrary Kamailio-written values and delivery orders: conflict-order.property.test.ts
    const v = fc.record({
      callId: fc.constantFrom('a', 'b', 'c'), cseq: fc.integer({ min: 1, max: 3 }), lastModified: fc.integer({ min: 100, max: 102 }),
      ruid: fc.constantFrom('r1', 'r2'), expires: fc.constant(0),
    });
    fc.assert(
      fc.property(v, v, v, (a: BindingVersion, b: BindingVersion, c: BindingVersion) => {
        expect(Math.sign(versionOrder(a, b)) + Math.sign(versionOrder(b, a))).toBe(0);
        expect(versionOrder(a, b) === 0).toBe(a.callId === b.callId && a.cseq === b.cseq && a.lastModified === b.lastModified && a.ruid === b.ruid);
        if (versionOrder(a, b) > 0 && versionOrder(b, c) > 0) expect(versionOrder(a, c)).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });
});
