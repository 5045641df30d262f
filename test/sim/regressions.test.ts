// Regression plans: every failing plan the checker found stays here as a permanent test (design
// house rule 7). First, the shrunk counterexamples of planted bugs, kept so a regression of those
// exact mechanisms is caught: each passes as shipped and fails with its bug. Then the real failures
// the checker found in src, each failing before its fix.

import { describe, expect, it } from 'vitest';
import { runPlan } from '../../src/sim/run-plan.ts';
import type { Plan } from '../../src/sim/plan.ts';
import type { PlantedBug } from '../../src/sim/planted-bugs.ts';

const base = { nodes: 3, faultMs: 10_000, quietMs: 8000, offsetsMs: [0, 0, 0] };
const regressions: Array<{ name: string; bug: PlantedBug; inv: string; plan: Plan }> = [
  {
    name: 'a clean leave: the leaver is disabled, later gossip must not revive it',
    bug: 'gossip-revives-disabled', inv: 'INV-01',
    plan: { ...base, seed: 's7206897', initial: 3, link: { loss: 0, duplicate: 0, jitterMs: 6 }, steps: [{ at: 4994, op: 'leave', node: 0 }] },
  },
  {
    name: 'a node joining by DNS: data from a node not yet active must be refused',
    bug: 'accept-unknown-senders', inv: 'INV-03',
    plan: { ...base, seed: 's669177', initial: 1, link: { loss: 0, duplicate: 0, jitterMs: 1 }, steps: [{ at: 1, op: 'join', node: 1 }] },
  },
  {
    name: 'a burst (REGISTER then unregister 15 ms later) over a jittery link: the delete must win',
    bug: 'forget-tombstones', inv: 'INV-05',
    plan: { ...base, seed: 'reg-burst', initial: 3, link: { loss: 0, duplicate: 0, jitterMs: 120 }, steps: [
      { at: 2000, op: 'burst', node: 0, node2: 0, ua: 0, gapMs: 15, then: 'unregister' },
      { at: 3000, op: 'burst', node: 1, node2: 1, ua: 1, gapMs: 10, then: 'unregister' },
      { at: 4000, op: 'burst', node: 2, node2: 2, ua: 2, gapMs: 5, then: 'unregister' },
    ] },
  },
  {
    name: 'a burst (REGISTER then refresh) over a jittery link: CSeq must not go backwards',
    bug: 'no-cseq-guard', inv: 'INV-04',
    plan: { ...base, seed: 'reg-burst', initial: 3, link: { loss: 0, duplicate: 0, jitterMs: 120 }, steps: [
      { at: 2000, op: 'burst', node: 0, node2: 0, ua: 0, gapMs: 15, then: 'refresh' },
      { at: 3000, op: 'burst', node: 1, node2: 1, ua: 1, gapMs: 10, then: 'refresh' },
      { at: 4000, op: 'burst', node: 2, node2: 2, ua: 2, gapMs: 5, then: 'refresh' },
    ] },
  },
];

describe('regression plans', () => {
  for (const r of regressions) {
    it(`${r.name}: passes as shipped, ${r.inv} with ${r.bug}`, async () => {
      const ok = await runPlan(r.plan, { antientropy: 0 }); // pinned runs: as found, before the checker ran anti-entropy
      expect(ok.violations).toEqual([]);
      expect(ok.verdict).toBe('pass');
      const bad = await runPlan(r.plan, { antientropy: 0, plant: [r.bug] });
      expect(bad.verdict).toBe('safety');
      expect(bad.violations[0].inv).toBe(r.inv);
    }, 30_000);
  }
});

// Found by the 200-seed acceptance run (kdmq check --nodes 5 --seeds 200 --seed 713917017, run 26,
// shrunk to 2 steps): node 0 registers and unregisters a contact (its tombstone carries node 0's
// last_modified); 300 ms later node 1, whose clock is 2.3 s behind, registers the same contact with a
// new Call-ID. Node 1 stored it; node 0 compared it with the tombstone by last_modified (other
// Call-ID), found it older and refused it, and anti-entropy could not repair that: the nodes
// disagreed until the binding expired. A local write now takes a last_modified above the version it
// supersedes (specs/registrar.md, "Conflict order").
describe('real failures found by the checker', () => {
  const skewPlan: Plan = {
    seed: 's0', nodes: 5, initial: 2, faultMs: 20_000, quietMs: 15_000, offsetsMs: [0, -2294, 0, 0, 0],
    link: { loss: 0, duplicate: 0, jitterMs: 0 },
    steps: [
      { at: 0, op: 'burst', node: 0, node2: 0, ua: 3, gapMs: 5, then: 'unregister' },
      { at: 305, op: 'register', node: 1, ua: 3, expires: 43, newCall: true },
    ],
  };
  for (const antientropy of [3, 0]) {
    it(`a re-REGISTER with a new Call-ID on a node whose clock is behind the tombstone's converges (anti-entropy ${antientropy ? 'on' : 'off'})`, async () => {
      const r = await runPlan(skewPlan, { antientropy });
      expect(r.violations).toEqual([]);
      expect(r.verdict).toBe('pass');
    }, 30_000);
  }

  // Found by kdmq check --nodes 5 --seeds 200 --seed 18 once the workload had `lb` steps (shrunk by
  // hand from 23 to 4 steps): the phone's binding was created on node 1 (ruid R1); node 0, cut off,
  // refreshed it (R1, CSeq 2) while node 1 unregistered it (node 2's tombstone for R1 holds CSeq 1);
  // node 2 then registered and unregistered the contact again under its own new ruid R2 (tombstone
  // CSeq 4, 18 s). After the heal node 0's owed refresh reached node 2, which compared it with R1's
  // tombstone only and revived it (INV-05). The store now compares with the newer of the ruid's and
  // the contact's tombstone (specs/replication.md R4).
  it('a late update of an old ruid does not revive a contact deleted since under a newer ruid', async () => {
    const r = await runPlan({
      seed: 's0', nodes: 5, initial: 3, faultMs: 20_000, quietMs: 15_000, offsetsMs: [0, 0, 0, 0, 0],
      link: { loss: 0, duplicate: 0, jitterMs: 0 },
      steps: [
        { at: 0, op: 'lb', node: 0, node2: 1, node3: 1, ua: 0, gapMs: 1 },
        { at: 10042, op: 'partition', side: [0], ms: 9377 },
        { at: 12857, op: 'burst', node: 0, node2: 1, ua: 0, gapMs: 5, then: 'unregister' },
        { at: 18975, op: 'burst', node: 2, node2: 2, ua: 0, gapMs: 139, then: 'unregister' },
      ],
    });
    expect(r.violations).toEqual([]);
    expect(r.verdict).toBe('pass');
  }, 30_000);
});
