// Every row of specs/membership.md against the node machine: one table test per row, then a
// fast-check property that random event sequences only ever take transitions that are rows
// (exactly one row applies to every state × event × context).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor } from 'xstate';
import { nodeMachine, type NodeEvent } from '../../../src/actors/membership/node-machine.ts';
import type { NodeStatus } from '../../../src/actors/membership/node-list-body.ts';
import { matchingRows, readMembershipRows, type Row } from '../../support/membership-table.ts';

const rows = readMembershipRows();

function actorIn(state: NodeStatus, opts: { suspect?: boolean; seed?: boolean; failRemove?: boolean }) {
  const a = createActor(nodeMachine, {
    input: { key: 'k', host: '127.0.0.9', port: '5090', transport: null, seed: opts.seed ?? false, failRemove: opts.failRemove ?? true, initial: state, at: 1000 },
  });
  a.start();
  // arrange aliveAt = 1000 and, for suspects, failedAt = 2000 through the machine's own events
  if (state !== 'active') {
    const snap = a.getSnapshot();
    snap.context.aliveAt = 1000;
    if (opts.suspect) snap.context.failedAt = 2000;
  } else if (opts.suspect) a.getSnapshot().context.failedAt = 2000;
  return a;
}

function eventFor(r: Row): NodeEvent {
  const stale = r.guards.includes('stale');
  const sentWhile: NodeStatus = r.guards.includes('sentWhileDisabled') ? 'disabled' : r.from === 'disabled' && r.guards.includes('not sentWhileDisabled') ? 'active' : (r.from as NodeStatus);
  const [kind, status] = r.trigger.split(':');
  switch (kind) {
    case 'listed':
      return { type: 'node.listed', status: status as NodeStatus, fromSelf: false, at: 5000 };
    case 'replied':
      return { type: 'node.replied', at: 5000 };
    case 'heard':
      return { type: 'node.heard', at: 5000 };
    case 'timedOut':
      return { type: 'node.timedOut', at: 5000, sentAt: stale ? 500 : 3000, sentWhile };
    default:
      return { type: 'node.remove' };
  }
}

describe('specs/membership.md transition table', () => {
  it('has the rows the spec promises', () => {
    expect(rows.length).toBeGreaterThanOrEqual(43);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  });

  for (const r of rows) {
    it(`${r.id}: ${r.from} --${r.trigger}${r.guards.length ? ` [${r.guards.join(', ')}]` : ''}--> ${r.to} (${r.origin})`, () => {
      const seedKept = r.guards.includes('seedKept');
      const a = actorIn(r.from as NodeStatus, { suspect: r.guards.includes('suspect'), seed: seedKept || r.guards.includes('not seedKept'), failRemove: !seedKept });
      const ev = eventFor(r);
      expect(matchingRows(rows, r.from, a.getSnapshot().context, ev).map((x) => x.id)).toEqual([r.id]);
      a.send(ev);
      const snap = a.getSnapshot();
      expect(snap.status === 'done' ? 'removed' : snap.value).toBe(r.to);
    });
  }
});

const statusArb = fc.constantFrom<NodeStatus>('active', 'pending', 'timeout', 'disabled');
const eventArb: fc.Arbitrary<(t: number) => NodeEvent> = fc.oneof(
  statusArb.map((s) => (t: number) => ({ type: 'node.listed', status: s, fromSelf: false, at: t }) as NodeEvent),
  fc.constant((t: number) => ({ type: 'node.replied', at: t }) as NodeEvent),
  fc.constant((t: number) => ({ type: 'node.heard', at: t }) as NodeEvent),
  fc.tuple(fc.integer({ min: 0, max: 40 }), statusArb).map(([back, s]) => (t: number) => ({ type: 'node.timedOut', at: t, sentAt: t - back * 100, sentWhile: s }) as NodeEvent),
  fc.constant(() => ({ type: 'node.remove' }) as NodeEvent),
);

describe('membership property', () => {
  it('every transition taken by random event sequences is exactly one row of the table', () => {
    fc.assert(
      fc.property(statusArb, fc.boolean(), fc.boolean(), fc.array(eventArb, { maxLength: 30 }), (initial, seed, failRemove, evs) => {
        const a = createActor(nodeMachine, { input: { key: 'k', host: 'h', port: '1', transport: null, seed, failRemove, initial, at: 0 } });
        a.start();
        let t = 1000;
        for (const mk of evs) {
          const snap = a.getSnapshot();
          if (snap.status === 'done') break;
          t += 250;
          const ev = mk(t);
          const matches = matchingRows(rows, snap.value as string, snap.context, ev);
          expect(matches.length).toBe(1);
          a.send(ev);
          const after = a.getSnapshot();
          expect(after.status === 'done' ? 'removed' : after.value).toBe(matches[0].to);
        }
      }),
      { numRuns: 300 },
    );
  });
});
