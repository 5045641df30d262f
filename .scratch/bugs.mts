import { runCheck } from '../src/sim/check.ts';
import { FAULT_KINDS } from '../src/sim/plan.ts';
import { plantedBugs, PLANTED_BUGS } from '../src/sim/planted-bugs.ts';
const only = process.argv[2];
for (const bug of PLANTED_BUGS) {
  if (only && bug !== only) continue;
  plantedBugs.clear(); plantedBugs.add(bug);
  const t = performance.now();
  const r = await runCheck({ nodes: 3, runs: 100, seed: 1, faults: FAULT_KINDS, faultMs: 10000, quietMs: 8000, outDir: '/tmp/kc', shrinkBudgetMs: 30000 });
  console.log(bug, r.verdict, 'runs', r.runs, 'steps', r.failure?.plan.steps.length, ((performance.now() - t) / 1000).toFixed(1) + 's', r.failure ? r.failure.result.violations[0]?.inv + ' ' + r.failure.result.violations[0]?.detail.slice(0, 150) : '');
  if (r.failure) console.log('  ', r.failure.replay, JSON.stringify(r.failure.plan.steps));
}
