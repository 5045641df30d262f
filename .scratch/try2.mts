import fc from 'fast-check';
import { planArb, FAULT_KINDS } from '../src/sim/plan.ts';
import { runPlan } from '../src/sim/run-plan.ts';
const n = Number(process.argv[2] ?? 50);
const plans = fc.sample(planArb({ nodes: 5, faults: FAULT_KINDS, faultMs: 20000, quietMs: 15000 }), { seed: 7, numRuns: n });
const t0 = performance.now();
const counts: Record<string, number> = {};
for (const p of plans) {
  const t = performance.now();
  const r = await runPlan(p, { record: true });
  const k = r.verdict + (r.known ? '+KF' : '');
  counts[k] = (counts[k] ?? 0) + 1;
  const regs = r.trace!.filter((l) => l.includes('"op":"register"')).length;
  if (r.verdict !== 'pass' || process.argv[3]) console.log(p.seed, 'init', p.initial, 'steps', p.steps.length, 'regs', regs, r.verdict, r.known ? r.known.reasons.slice(0,2).join('; ') : '', (performance.now() - t).toFixed(0), 'ms', r.simMs, r.datagrams, r.error ?? '', r.violations.slice(0, 2).map((v) => `${v.inv} ${v.detail}`).join(' ; '));
}
console.log(counts, ((performance.now() - t0) / 1000).toFixed(1), 's');
