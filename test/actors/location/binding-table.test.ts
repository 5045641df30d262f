// The compiled lookup table equals the binding machine for every state × event (house rule 6):
// the table is the one specs/registrar.md writes (read by test/support/binding-table.ts), and
// xstate's pure transition() agrees with send() on random records and events: the same next state and the same fields (the
// actions' effects), so what the store applies in place is what the machine does.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import {
  BINDING_EVENTS, BINDING_STATES, bindingMachine, versionOrder,
  type BindingEvent, type BindingEventType, type BindingRecord, type BindingState, type BindingVersion,
} from '../../../src/actors/location/binding-machine.ts';
import { TraitsPool, type BindingTraits } from '../../../src/actors/location/binding.ts';
import { readBindingRows } from '../../support/binding-table.ts';
import { send, ST_INITIAL, STATE_CODE, STATE_NAME, step, TABLE, type BindingActor } from '../../../src/actors/location/transition-table.ts';

type Row = [guard: string | null, actions: string[], target: BindingState];
/** the table of specs/registrar.md ("Binding machine", rows B01…), by state and event */
const SPEC = Object.fromEntries(BINDING_STATES.map((s) => [s, {}])) as Record<BindingState, Partial<Record<BindingEventType, Row>>>;
for (const r of readBindingRows()) (SPEC[r.state as BindingState] ??= {})[r.event as BindingEventType] = [r.guard, r.actions, r.target as BindingState];

const pool = new TraitsPool();
const traits = fc.record({
  path: fc.constantFrom('', '<sip:edge;lr>'), userAgent: fc.constantFrom('a', 'b'), flags: fc.constantFrom(0, 4), cflags: fc.constant(0),
  q: fc.constantFrom(-1, 500), methods: fc.constantFrom(-1, 33), regId: fc.constantFrom(0, 1), serverId: fc.constant(0), replicated: fc.boolean(),
}).map((t: BindingTraits) => pool.of(t));
const version = fc.record({
  callId: fc.constantFrom('a', 'b'),
  cseq: fc.integer({ min: 1, max: 4 }),
  lastModified: fc.integer({ min: 100, max: 103 }),
  ruid: fc.constantFrom('r1', 'r2'),
  expires: fc.constantFrom(0, 101, 102, 200),
});
const content = fc.record({
  v: version, c: fc.constantFrom('sip:x@h', 'sip:y@h'), received: fc.constantFrom('', 'sip:1.2.3.4:5060'),
  instance: fc.constantFrom('', '<urn:uuid:1>'), traits,
}).map(({ v, ...rest }) => ({ ...v, ...rest }));
const record: fc.Arbitrary<BindingRecord> = fc.record({ x: content, until: fc.constantFrom(0, 150, 300) }).map(({ x, until }) => ({ ...x, aor: 'alice', until }));
const event = fc.record({
  type: fc.constantFrom(...BINDING_EVENTS),
  version: content,
  nowSec: fc.integer({ min: 99, max: 305 }),
  origin: fc.constantFrom('local' as const, 'replicated' as const),
  tombstoneSeconds: fc.constantFrom(1, 300),
}).map((e): BindingEvent => {
  if (e.type === 'binding.expire') return { type: e.type, nowSec: e.nowSec, tombstoneSeconds: e.tombstoneSeconds };
  if (e.type === 'binding.forget') return { type: e.type, nowSec: e.nowSec };
  if (e.type === 'binding.remove') return { type: e.type, origin: e.origin, version: e.version, nowSec: e.nowSec, tombstoneSeconds: e.tombstoneSeconds };
  return { type: e.type, version: e.version, nowSec: e.nowSec };
});

describe('binding transition table', () => {
  it('equals the table of specs/registrar.md', () => {
    for (const s of BINDING_STATES) {
      const got = Object.fromEntries(Object.entries(TABLE[s]).map(([k, c]) => [k, [c!.guard, [...c!.actions], c!.target]]));
      expect(got).toEqual(SPEC[s]);
    }
    expect(STATE_NAME[ST_INITIAL]).toBe('active');
  });

  it('send() on a record equals xstate transition() for every state × event: next state and fields', () => {
    fc.assert(
      fc.property(fc.constantFrom(...BINDING_STATES), record, event, (s, ctx, ev) => {
        const snap = bindingMachine.resolveState({ value: s, context: ctx });
        const [next] = transition(bindingMachine, snap, ev);
        const actor: BindingActor = { ...ctx, state: STATE_CODE[s] };
        const taken = send(actor, ev, versionOrder);
        const want = step(s, ctx, ev);
        expect(taken).toBe(want !== null);
        expect(next.value).toBe(want ?? s);
        expect(STATE_NAME[actor.state]).toBe(next.value);
        const { state: _state, ...fields } = actor;
        expect(fields).toEqual(next.context);
        if (!taken) expect(fields).toEqual(ctx);
      }),
      { numRuns: 3000 },
    );
  });

  it('take sets every field but the AoR from the version; entomb sets until only', () => {
    fc.assert(
      fc.property(record, content, fc.integer({ min: 99, max: 305 }), (ctx, v, now) => {
        const b: BindingActor = { ...ctx, until: 0, state: STATE_CODE.active, lastModified: 0, cseq: 0 };
        expect(send(b, { type: 'binding.update', version: v, nowSec: now }, versionOrder)).toBe(true);
        expect(b).toEqual({ ...v, aor: 'alice', until: 0, state: STATE_CODE.active });
        const before = { ...b };
        send(b, { type: 'binding.remove', origin: 'local', version: b, nowSec: now, tombstoneSeconds: 300 }, versionOrder, true);
        expect(b).toEqual({ ...before, until: now + 300, state: STATE_CODE.removed });
      }),
      { numRuns: 500 },
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
