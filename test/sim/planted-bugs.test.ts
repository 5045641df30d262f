// The checker must catch bugs (issue "kdmq check" item 7): each known bug is planted behind the
// test-only switch (src/sim/planted-bugs.ts); random runs must find it within a bounded number of
// runs and shrink it to a short plan, and exhaustive mode must find every one of them too.

import { afterEach, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheck } from '../../src/sim/check.ts';
import { FAULT_KINDS } from '../../src/sim/plan.ts';
import { plantedBugs, type PlantedBug } from '../../src/sim/planted-bugs.ts';
import { SCENARIOS, explore } from '../../src/sim/explore.ts';

const cases: Array<{ bug: PlantedBug; inv: string; scenario: string }> = [
  { bug: 'node-list-no-crlf', inv: 'INV-07', scenario: 'join' },
  { bug: 'accept-unknown-senders', inv: 'INV-03', scenario: 'join' },
  { bug: 'gossip-revives-disabled', inv: 'INV-01', scenario: 'crash' },
  { bug: 'forget-tombstones', inv: 'INV-05', scenario: 'replicate' },
  { bug: 'no-cseq-guard', inv: 'INV-04', scenario: 'replicate' },
];

afterEach(() => plantedBugs.clear());

describe('planted bugs are found by random runs and shrunk', () => {
  for (const c of cases) {
    it(`${c.bug}: ${c.inv} within 300 runs, shrunk to ≤ 16 steps`, async () => {
      plantedBugs.add(c.bug);
      const r = await runCheck({
        nodes: 3, runs: 300, seed: 7, faults: FAULT_KINDS, faultMs: 10_000, quietMs: 8000, maxSteps: 24,
        only: 'safety', shrinkSteps: 1000, outDir: join(tmpdir(), 'kdmq-check-planted'),
      });
      expect(r.failure, `${c.bug} not found`).not.toBeNull();
      expect(r.exitCode).toBe(4);
      expect(r.failure!.result.violations.map((v) => v.inv)).toContain(c.inv);
      expect(r.failure!.plan.steps.length).toBeLessThanOrEqual(16);
      expect(r.failure!.replay).toMatch(/^kdmq check --plan .*\.plan\.json$/);
    }, 180_000);
  }
});

describe('planted safety bugs are found by exhaustive mode', () => {
  for (const c of cases) {
    it(`${c.bug}: ${c.inv} in scenario ${c.scenario}`, async () => {
      plantedBugs.add(c.bug);
      const r = await explore(SCENARIOS[c.scenario]);
      expect(r.violation?.inv).toBe(c.inv);
      expect(r.path.length).toBeLessThanOrEqual(12);
    }, 180_000);
  }
});
