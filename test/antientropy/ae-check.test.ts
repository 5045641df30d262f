// The model checker's partition scenario with anti-entropy on (issue "Convergence beyond
// Kamailio", acceptance): kdmq-only clusters, 200 generated plans with partitions, swizzles,
// crashes and restarts, strict liveness (a data divergence counts as a failure). runPlan's nodes
// run anti-entropy (3 s by default, AE_INTERVAL to change it).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planArb, type FaultKind } from '../../src/sim/plan.ts';
import { runPlan } from '../../src/sim/run-plan.ts';

const INTERVAL_S = Number(process.env.AE_INTERVAL ?? 3);

describe('checker partition scenario with anti-entropy (strict liveness)', () => {
  it('200 plans with partitions, swizzles, crashes and restarts converge', async () => {
    const faults = (process.env.AE_FAULTS ?? 'partition,swizzle,crash').split(',') as FaultKind[];
    const shape = { nodes: Number(process.env.AE_NODES ?? 3), faults, faultMs: 20_000, quietMs: 15_000, maxSteps: 30 };
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(planArb(shape), async (plan) => {
        const r = await runPlan(plan, { strict: true, antientropy: INTERVAL_S });
        if (r.verdict !== 'pass') failures.push(`${plan.seed}: ${r.verdict} ${r.violations.map((v) => `${v.inv} ${v.detail}`).join('; ')} ${r.error ?? ''}`);
        return r.verdict === 'pass';
      }),
      { numRuns: Number(process.env.AE_RUNS ?? 200), seed: 20261126, endOnFailure: true },
    ).catch((e) => {
      throw new Error(`${failures[0] ?? ''}\n${String(e).slice(0, 3000)}`);
    });
    expect(failures).toEqual([]);
  }, 600_000);
});
