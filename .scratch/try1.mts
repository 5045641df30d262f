import fc from 'fast-check';
import { planArb, FAULT_KINDS } from '../src/sim/plan.ts';
import { runPlan } from '../src/sim/run-plan.ts';
const plans = fc.sample(planArb({ nodes: 5, faults: FAULT_KINDS, faultMs: 20000, quietMs: 15000 }), { seed: 42, numRuns: 10 });
for (const p of plans) {
  const t = performance.now();
  const r = await runPlan(p);
  console.log(p.seed, p.steps.length, r.verdict, r.known?.id ?? '', (performance.now() - t).toFixed(0), 'ms', r.datagrams, r.error ?? '', r.violations.slice(0, 2).map((v) => `${v.inv} ${v.detail}`).join(' ; '));
}
