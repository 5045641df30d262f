// specs/registrar.md's binding table (rows B01…, read by test/support/binding-table.ts) against the
// binding machine, both ways: the rows are exactly the cells of the table compiled from the machine
// (transition-table.ts), and the machine's whole graph (xstate/graph), from one binding over a
// finite set of events that gives every guard both outcomes, does what the rows say on every edge:
// the row's target and the row's actions' effects when its guard holds, nothing otherwise. Every
// row is taken by some edge, and every state of the machine is reached.
import { describe, expect, it } from 'vitest';
import { adjacencyMapToArray, getAdjacencyMap } from 'xstate/graph';
import {
  BINDING_EVENTS, BINDING_STATES, bindingActions, bindingGuards, bindingMachine,
  type BindingActionName, type BindingContent, type BindingEvent, type BindingGuardName, type BindingRecord,
} from '../../../src/actors/location/binding-machine.ts';
import type { BindingTraits } from '../../../src/actors/location/binding.ts';
import { TABLE } from '../../../src/actors/location/transition-table.ts';
import { readBindingRows, type BindingRow } from '../../support/binding-table.ts';
import { restingStates, shortestPaths, stateName } from '../../support/machine-graph.ts';

const rows = readBindingRows();
const traits = { path: '', userAgent: 'ua', flags: 0, cflags: 0, q: -1, methods: -1, regId: 0, serverId: 0, replicated: false } as BindingTraits;
const content = (callId: string, cseq: number, lastModified: number, expires: number): BindingContent =>
  ({ callId, cseq, lastModified, ruid: 'r1', expires, c: `sip:${callId}${cseq}@h`, received: '', instance: '', traits });
const START: BindingRecord = { ...content('a', 1, 100, 200), aor: 'alice', until: 0 };

/** each guard true and false somewhere: newer and older local writes, due and not, newer, older and dead replicated versions, tombstones due and not */
const EVENTS: BindingEvent[] = [
  { type: 'binding.refresh', version: content('a', 2, 100, 200), nowSec: 100 },
  { type: 'binding.refresh', version: content('a', 1, 100, 200), nowSec: 100 },
  { type: 'binding.update', version: content('b', 1, 101, 200), nowSec: 101 },
  { type: 'binding.expire', nowSec: 150, tombstoneSeconds: 300 },
  { type: 'binding.expire', nowSec: 250, tombstoneSeconds: 300 },
  { type: 'binding.remove', origin: 'local', version: content('a', 3, 101, 0), nowSec: 101, tombstoneSeconds: 300 },
  { type: 'binding.remove', origin: 'local', version: content('a', 1, 100, 0), nowSec: 101, tombstoneSeconds: 300 },
  { type: 'binding.remove', origin: 'replicated', version: content('a', 1, 99, 0), nowSec: 101, tombstoneSeconds: 300 },
  { type: 'binding.remove', origin: 'replicated', version: content('c', 1, 102, 0), nowSec: 101, tombstoneSeconds: 300 },
  { type: 'binding.replicatedUpdate', version: content('d', 1, 103, 400), nowSec: 300 },
  { type: 'binding.replicatedUpdate', version: content('a', 1, 99, 400), nowSec: 300 },
  { type: 'binding.replicatedUpdate', version: content('e', 1, 104, 150), nowSec: 300 },
  { type: 'binding.forget', nowSec: 0 },
  { type: 'binding.forget', nowSec: 1000 },
];

const rowFor = (state: string, type: string): BindingRow | undefined => rows.find((r) => r.state === state && r.event === type);
const guardHolds = (g: string, ctx: BindingRecord, ev: BindingEvent): boolean =>
  (bindingGuards[g as BindingGuardName] as (c: BindingRecord, e: BindingEvent) => boolean)(ctx, ev);
function applied(ctx: BindingRecord, ev: BindingEvent, actions: readonly string[]): BindingRecord {
  const next = { ...ctx };
  for (const a of actions) (bindingActions[a as BindingActionName] as (b: BindingRecord, e: BindingEvent) => void)(next, ev);
  return next;
}

describe('specs/registrar.md binding table', () => {
  it('has rows with distinct ids, one per state × event, naming the machine\'s states, events, guards and actions', () => {
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(new Set(rows.map((r) => `${r.state} ${r.event}`)).size).toBe(rows.length);
    for (const r of rows) {
      expect(BINDING_STATES, r.id).toContain(r.state);
      expect(BINDING_STATES, r.id).toContain(r.target);
      expect(BINDING_EVENTS, r.id).toContain(r.event);
      if (r.guard !== null) expect(Object.keys(bindingGuards), r.id).toContain(r.guard);
      for (const a of r.actions) expect(Object.keys(bindingActions), r.id).toContain(a);
    }
  });

  it('the rows are exactly the cells of the table compiled from the machine', () => {
    const cells = BINDING_STATES.flatMap((s) => Object.entries(TABLE[s]).map(([event, c]) => `${s} ${event} ${c!.guard} [${c!.actions.join(',')}] ${c!.target}`));
    const spec = rows.map((r) => `${r.state} ${r.event} ${r.guard} [${r.actions.join(',')}] ${r.target}`);
    expect(spec.sort()).toEqual(cells.sort());
  });
});

describe('binding machine graph (xstate/graph) against specs/registrar.md', () => {
  const opts = { input: START, events: EVENTS };

  it('every edge does what its row says (target and effects), or nothing; every row and every guard outcome is taken', () => {
    const taken = new Set<string>();
    for (const { state, event, nextState } of adjacencyMapToArray(getAdjacencyMap(bindingMachine, { ...opts, events: (s) => (s.status === 'done' ? [] : EVENTS) }))) {
      const from = stateName(state);
      const ev = event as BindingEvent;
      const row = rowFor(from, ev.type);
      const holds = row !== undefined && (row.guard === null || guardHolds(row.guard, state.context, ev));
      if (row !== undefined) taken.add(`${row.id} ${holds}`);
      const label = `${from} ${JSON.stringify(ev)} ${JSON.stringify(state.context)}`;
      expect(stateName(nextState), label).toBe(holds ? row!.target : from);
      expect(nextState.context, label).toEqual(holds ? applied(state.context, ev, row!.actions) : state.context);
    }
    const want = rows.flatMap((r) => (r.guard === null ? [`${r.id} true`] : [`${r.id} true`, `${r.id} false`]));
    expect([...taken].sort()).toEqual(want.sort());
  });

  it('every state is reached', () => {
    const reached = new Set(shortestPaths(bindingMachine, opts).map((p) => stateName(p.state)));
    expect([...reached].sort()).toEqual(restingStates(bindingMachine).sort());
    expect(restingStates(bindingMachine).sort()).toEqual([...BINDING_STATES].sort());
  });
});
