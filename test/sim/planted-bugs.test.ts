// The checker must catch bugs (issue "kdmq check" item 7): each known bug is planted behind the
// nodes' faults port (src/ports/faults.ts, planted with `plant`); random runs must find it within a bounded number of
// runs and shrink it to a short plan, and exhaustive mode must find every one of them too.

import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheck } from '../../src/sim/check.ts';
import { FAULT_KINDS, type Plan } from '../../src/sim/plan.ts';
import { runPlan } from '../../src/sim/run-plan.ts';
import type { PlantedBug } from '../../src/sim/planted-bugs.ts';
import { SCENARIOS, explore } from '../../src/sim/explore.ts';

/** `also`: other invariants a random run may report it by (a shrunk plan keeps any safety failure) */
const cases: Array<{ bug: PlantedBug; inv: string; scenario: string; also?: string[] }> = [
  { bug: 'node-list-no-crlf', inv: 'INV-07', scenario: 'join' },
  { bug: 'accept-unknown-senders', inv: 'INV-03', scenario: 'join' },
  { bug: 'gossip-revives-disabled', inv: 'INV-01', scenario: 'crash' },
  { bug: 'forget-tombstones', inv: 'INV-05', scenario: 'replicate' },
  // a stale update applied under another Call-ID is no CSeq step back, but closes a cycle (INV-12)
  { bug: 'no-cseq-guard', inv: 'INV-04', scenario: 'replicate', also: ['INV-12'] },
];

describe('planted bugs are found by random runs and shrunk', () => {
  for (const c of cases) {
    it(`${c.bug}: ${c.inv} within 300 runs, shrunk to ≤ 16 steps`, async () => {
      const r = await runCheck({
        nodes: 3, runs: 300, seed: 7, faults: FAULT_KINDS, faultMs: 10_000, quietMs: 8000, maxSteps: 24,
        only: 'safety', shrinkSteps: 1000, outDir: join(tmpdir(), 'kdmq-check-planted'), plant: [c.bug],
      });
      expect(r.failure, `${c.bug} not found`).not.toBeNull();
      expect(r.exitCode).toBe(4);
      const found = r.failure!.result.violations.map((v) => v.inv);
      expect([c.inv, ...(c.also ?? [])].some((i) => found.includes(i)), found.join(', ')).toBe(true);
      expect(r.failure!.plan.steps.length).toBeLessThanOrEqual(16);
      expect(r.failure!.replay).toMatch(/^kdmq check --plan .*\.plan\.json$/);
    }, 180_000);
  }
});

describe('planted safety bugs are found by exhaustive mode', () => {
  for (const c of cases) {
    it(`${c.bug}: ${c.inv} in scenario ${c.scenario}`, async () => {
      const r = await explore(SCENARIOS[c.scenario], { plant: [c.bug] });
      expect(r.violation?.inv).toBe(c.inv);
      expect(r.path.length).toBeLessThanOrEqual(12);
    }, 180_000);
  }
});

// Issue #14 item 4: the conflict order before the total order of specs/replication.md R3 (same
// Call-ID → CSeq, else last_modified, then ruid) is cyclic. Planted as 'cyclic-order', the default
// search finds it (kdmq check --nodes 5 --seeds 200 --seed 3: run 18; seeds 1 and 2: runs 11 and 21)
// as INV-12, a cycle in the versions nodes replaced, through an `lb` step. The shrunk plan needs no
// clock offset: three nodes take a phone's first REGISTER, its refresh and its restart within one
// second, each a new binding (its own ruid), and the ruid tie-break disagrees with CSeq.
describe("planted bug 'cyclic-order'", () => {
  const shrunk: Plan = {
    seed: 's0', nodes: 5, initial: 4, faultMs: 20_000, quietMs: 15_000, offsetsMs: [0, 0, 0, 0, 0],
    link: { loss: 0, duplicate: 0, jitterMs: 72 },
    steps: [{ at: 5004, op: 'lb', node: 3, node2: 1, node3: 2, ua: 0, gapMs: 7 }],
  };

  it('is found as INV-12 by the default search (5 nodes, 200 runs, default faults) and shrunk', async () => {
    const r = await runCheck({
      nodes: 5, runs: 200, seed: 3, faults: FAULT_KINDS, faultMs: 20_000, quietMs: 15_000, outDir: join(tmpdir(), 'kdmq-check-planted'),
      plant: ['cyclic-order'],
    });
    expect(r.failure, 'cyclic-order not found').not.toBeNull();
    expect(r.exitCode).toBe(4);
    expect(r.failure!.result.violations.map((v) => v.inv)).toContain('INV-12');
    expect(r.failure!.plan.steps.length).toBeLessThanOrEqual(16);
    expect(r.failure!.replay).toMatch(/^kdmq check --plan .*\.plan\.json$/);
  }, 240_000);

  it('the shrunk plan: INV-12 with the bug, every invariant (INV-09 included) without it', async () => {
    const bad = await runPlan(shrunk, { plant: ['cyclic-order'] });
    expect(bad.verdict).toBe('safety');
    expect(bad.violations[0].inv).toBe('INV-12');
    const ok = await runPlan(shrunk, { strict: true });
    expect(ok.violations).toEqual([]);
  }, 60_000);
});
