// Regression plans: every failing plan the checker found stays here as a permanent test (design
// house rule 7). The 200-seed acceptance run (kdmq check --nodes 5 --seeds 200 --seed 1) found no
// failure in src; the plans below are the shrunk counterexamples of planted bugs, kept so a
// regression of those exact mechanisms is caught: each passes as shipped and fails with its bug.

import { afterEach, describe, expect, it } from 'vitest';
import { runPlan } from '../../src/sim/run-plan.ts';
import type { Plan } from '../../src/sim/plan.ts';
import { plantedBugs, type PlantedBug } from '../../src/sim/planted-bugs.ts';

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

afterEach(() => plantedBugs.clear());

describe('regression plans', () => {
  for (const r of regressions) {
    it(`${r.name}: passes as shipped, ${r.inv} with ${r.bug}`, async () => {
      const ok = await runPlan(r.plan, { antientropy: 0 }); // pinned runs: as found, before the checker ran anti-entropy
      expect(ok.violations).toEqual([]);
      expect(ok.verdict).toBe('pass');
      plantedBugs.add(r.bug);
      const bad = await runPlan(r.plan, { antientropy: 0 });
      expect(bad.verdict).toBe('safety');
      expect(bad.violations[0].inv).toBe(r.inv);
    }, 30_000);
  }
});
