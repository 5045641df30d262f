// Issue #14 item 4: the checker must catch the drop-on-full queue that lost acknowledged
// registrations under load. Planted through the nodes' faults port (src/ports/faults.ts 'drop-on-full': replicated changes
// bypass the outbox and go through a queue that drops the oldest), it is found by random runs with
// the default faults (the overload fault floods a node past its flow-control windows) as INV-11,
// and shrunk to a short plan that fails again on replay.

import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheck } from '../../src/sim/check.ts';
import { FAULT_KINDS } from '../../src/sim/plan.ts';
import { runPlan } from '../../src/sim/run-plan.ts';

describe("planted bug 'drop-on-full'", () => {
  it('is found as INV-11 by random runs with the default faults and shrunk to ≤ 16 steps', async () => {
    const r = await runCheck({
      nodes: 3, runs: 300, seed: 7, faults: FAULT_KINDS, faultMs: 10_000, quietMs: 8000, maxSteps: 24,
      only: 'safety', shrinkSteps: 1000, outDir: join(tmpdir(), 'kdmq-check-planted'), plant: ['drop-on-full'],
    });
    expect(r.failure, 'drop-on-full not found').not.toBeNull();
    expect(r.exitCode).toBe(4);
    expect(r.failure!.result.violations.map((v) => v.inv)).toContain('INV-11');
    expect(r.failure!.plan.steps.length).toBeLessThanOrEqual(16);
    expect(r.failure!.plan.steps.some((s) => s.op === 'flood')).toBe(true);
    // the shrunk plan fails again; without the bug the same plan passes (the outbox owes, never drops)
    expect((await runPlan(r.failure!.plan, { plant: ['drop-on-full'] })).violations.map((v) => v.inv)).toContain('INV-11');
    const fixed = await runPlan(r.failure!.plan, { strict: true });
    expect(fixed.violations).toEqual([]);
  }, 180_000);
});
