// Two registrars whose clocks disagree (± 3 s, as kdmq check's clock fault), one UA moving between
// them, every change replicated at once and in order: both must end with the same bindings. This is
// the property behind the checker's finding in test/sim/regressions.test.ts (a new Call-ID written on
// the node whose clock is behind was refused by the other node's tombstone); writeTime() keeps a
// local write above the version it supersedes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeTime } from '../../src/registrar/registrar.ts';
import type { BindingChange, LocationStore } from '../../src/actors/location/store.ts';
import { setup } from './helpers.ts';

const snapshot = (s: LocationStore) =>
  [...s.all()].map((b) => `${b.aor} ${b.c} ${b.ruid} ${b.callId} ${b.cseq} ${b.expires} ${b.lastModified}`).sort();

const stepArb = fc.record({
  node: fc.integer({ min: 0, max: 1 }),
  contact: fc.constantFrom('sip:ua@10.0.0.1', 'sip:ua@10.0.0.2'),
  /** a new Call-ID (the UA restarted) or the current one */
  newCall: fc.boolean(),
  expires: fc.constantFrom(0, 3600, 3600),
  waitMs: fc.integer({ min: 0, max: 2500 }),
});

/** run the steps on two nodes, node 1's clock `offsetMs` from node 0's; true when both agree */
function converges(offsetMs: number, steps: Array<{ node: number; contact: string; newCall: boolean; expires: number; waitMs: number }>): boolean {
  const nodes = [0, 1].map((i) => setup({}, { save_received: false, nodeId: `sip:127.0.0.${11 + i}:5090` }));
  nodes[offsetMs >= 0 ? 1 : 0].clock.advance(Math.abs(offsetMs));
  let call = 0;
  let cseq = 0;
  for (const s of steps) {
    if (s.newCall) {
      call++;
      cseq = 0;
    }
    cseq++; // the UA raises CSeq within its Call-ID (RFC 3261 §10.2)
    const [at, other] = [nodes[s.node], nodes[1 - s.node]];
    const before = at.changes.length;
    at.send({ user: 'mover', callId: `mover-${call}`, cseq, contacts: [`<${s.contact}>`], expires: s.expires });
    const sent: BindingChange[] = at.changes.slice(before).filter((c) => c.origin === 'local' && c.kind !== 'expire');
    for (const c of sent) other.store.applyReplicated(c.contact, c.kind === 'delete' ? 'delete' : 'update');
    for (const n of nodes) n.clock.advance(s.waitMs);
  }
  return JSON.stringify(snapshot(nodes[0].store)) === JSON.stringify(snapshot(nodes[1].store));
}

describe('local writes under clock skew', () => {
  it('writeTime: the clock, or one second above a superseded version of another Call-ID', () => {
    expect(writeTime(100, 'a', undefined)).toBe(100);
    expect(writeTime(100, 'a', { callId: 'a', lastModified: 105 })).toBe(105);
    expect(writeTime(100, 'a', { callId: 'b', lastModified: 105 })).toBe(106);
    expect(writeTime(110, 'a', { callId: 'b', lastModified: 105 })).toBe(110);
  });

  it('the checker\'s case: register + unregister on the fast node, a new Call-ID on the slow one', () => {
    expect(converges(-2294, [
      { node: 0, contact: 'sip:ua@10.0.0.1', newCall: true, expires: 3600, waitMs: 5 },
      { node: 0, contact: 'sip:ua@10.0.0.1', newCall: false, expires: 0, waitMs: 300 },
      { node: 1, contact: 'sip:ua@10.0.0.1', newCall: true, expires: 3600, waitMs: 0 },
    ])).toBe(true);
  });

  it('two nodes with skewed clocks, changes replicated in order: the same bindings on both', () => {
    fc.assert(
      fc.property(fc.integer({ min: -3000, max: 3000 }), fc.array(stepArb, { minLength: 1, maxLength: 20 }), (offset, steps) => converges(offset, steps)),
      { numRuns: Number(process.env.RUNS ?? 300) },
    );
  });
});
