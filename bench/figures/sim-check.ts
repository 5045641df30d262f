// Figure: the model checker's speed as `kdmq check` runs it (issue #15 item 5, the headline
// checker figure): plans drawn from the checker's own arbitrary with its default shape (every
// fault kind, 20 s of faults + 15 s quiet, anti-entropy every 3 s, ping_interval 1), run one after
// another by runPlan exactly as runCheck does, in a process of its own (sim-child.ts). Rate =
// simulated node-seconds (nodes × each run's simulated time, world start included) per wall
// second. The lighter workloads (sim, sim-register) stay as information.

import fc from 'fast-check';
import { FAULT_KINDS, planArb } from '../../src/sim/plan.ts';
import { runPlan } from '../../src/sim/run-plan.ts';
import type { Figure, Samples } from '../lib.ts';
import { simInChild } from '../support/sim-child.ts';

/** node-seconds per wall second of `kdmq check --nodes n` (default settings), for about budgetMs */
export async function simCheckSpeed(n: number, budgetMs: number, seed: string): Promise<{ rate: number; runs: number; simSeconds: number; verdicts: Record<string, number> }> {
  const shape = { nodes: n, faults: FAULT_KINDS, faultMs: 20_000, quietMs: 15_000 };
  let numSeed = 0;
  for (const ch of seed) numSeed = (numSeed * 31 + ch.charCodeAt(0)) >>> 0;
  const plans = fc.sample(planArb(shape), { seed: numSeed, numRuns: 200 });
  const verdicts: Record<string, number> = {};
  const t0 = performance.now();
  let simMs = 0;
  let runs = 0;
  for (const plan of plans) {
    if (runs > 0 && performance.now() - t0 >= budgetMs) break;
    const r = await runPlan(plan);
    simMs += r.simMs * n;
    verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
    runs++;
  }
  const wall = (performance.now() - t0) / 1000;
  return { rate: simMs / 1000 / wall, runs, simSeconds: simMs / 1000 / n, verdicts };
}

export const simCheckFigure: Figure = {
  id: 'sim-check',
  title: 'model checker speed as kdmq check runs it (default faults and settings: 20 s faults + 15 s quiet, ping_interval 1, anti-entropy 3 s)',
  runs: () => 3,
  rows: () => [
    { label: 'kdmq check speed, 5 nodes, default settings', unit: 'node-s/s', kdmq: 'n5', kamailioNote: 'no counterpart' },
    { label: 'kdmq check speed, 50 nodes, default settings', unit: 'node-s/s', kdmq: 'n50', kamailioNote: 'no counterpart', target: { cmp: '>=', value: 1000 } },
  ],
  async run(ctx): Promise<Samples> {
    const budget = ctx.quick ? 3000 : 20_000;
    type R = Awaited<ReturnType<typeof simCheckSpeed>>;
    const a = await simInChild<R>('check', 5, budget, `bench-check-5-${ctx.run}`);
    ctx.log(`5 nodes: ${a.runs} runs, ${a.simSeconds.toFixed(0)} virtual s, verdicts ${JSON.stringify(a.verdicts)}`);
    const b = await simInChild<R>('check', 50, budget, `bench-check-50-${ctx.run}`);
    ctx.log(`50 nodes: ${b.runs} runs, ${b.simSeconds.toFixed(0)} virtual s, verdicts ${JSON.stringify(b.verdicts)}`);
    return { n5: a.rate, n50: b.rate };
  },
};
