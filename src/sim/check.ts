// The checker driven by fast-check: each run is fc.asyncProperty over a generated plan (seed,
// fault schedule, workload); on a failure fast-check shrinks the plan (keeping the same failure
// kind), the shrunk run is replayed with the trace recorded, and the trace (JSONL) and plan (JSON)
// are written with one replay line. Exit codes: 0 pass, 3 crash, 4 safety, 5 liveness.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { planArb, type FaultKind, type Plan } from './plan.ts';
import { runPlan, EXIT_CODE, type RunResult, type Verdict } from './run-plan.ts';

export interface CheckOptions {
  nodes: number;
  runs: number;
  /** fast-check seed (the whole search is reproducible from it) */
  seed: number;
  faults: readonly FaultKind[];
  faultMs: number;
  quietMs: number;
  strict?: boolean;
  /** antientropy.interval of the nodes, seconds (runPlan's default when absent); 0 = off */
  antientropy?: number;
  maxSteps?: number;
  /** stop shrinking after this much wall time (the best plan so far is kept) */
  shrinkBudgetMs?: number;
  outDir: string;
  /** count only this kind of failure (the others pass); default: any */
  only?: Exclude<Verdict, 'pass'>;
  log?: (line: string) => void;
}

export interface CheckFailure {
  verdict: Verdict;
  plan: Plan;
  result: RunResult;
  shrinks: number;
  planFile: string;
  traceFile: string;
  replay: string;
}

export interface CheckReport {
  verdict: Verdict;
  exitCode: number;
  runs: number;
  /** runs whose data divergence is the known finding KF-01 */
  known: Array<{ seed: string; detail: string }>;
  failure: CheckFailure | null;
  wallMs: number;
  simNodeSeconds: number;
}

export async function runCheck(o: CheckOptions): Promise<CheckReport> {
  const t0 = performance.now();
  let target: Verdict | null = null;
  let failedAt = 0;
  let runs = 0;
  let simNodeMs = 0;
  const known: CheckReport['known'] = [];
  const shape = { nodes: o.nodes, faults: o.faults, faultMs: o.faultMs, quietMs: o.quietMs, maxSteps: o.maxSteps };
  const prop = fc.asyncProperty(planArb(shape), async (plan) => {
    if (target !== null && performance.now() - failedAt > (o.shrinkBudgetMs ?? 60_000)) return true;
    const r = await runPlan(plan, { strict: o.strict, antientropy: o.antientropy });
    runs++;
    simNodeMs += r.simMs * plan.nodes;
    if (target === null && r.known) known.push({ seed: plan.seed, detail: `${r.known.violation.inv} ${r.known.violation.detail}` });
    if (r.verdict === 'pass' || (o.only && r.verdict !== o.only)) return true;
    if (target === null) {
      target = r.verdict;
      failedAt = performance.now();
      o.log?.(`found ${r.verdict} failure in run ${runs} (${describe(r)}), shrinking…`);
    }
    return r.verdict !== target;
  });
  const details = await fc.check(prop, { numRuns: o.runs, seed: o.seed });
  const base = { runs, known, wallMs: performance.now() - t0, simNodeSeconds: simNodeMs / 1000 };
  if (!details.failed || !details.counterexample || target === null) {
    return { verdict: 'pass', exitCode: 0, failure: null, ...base };
  }
  const plan = details.counterexample[0];
  const failure = await writeFailure(plan, target, details.numShrinks, o);
  return { verdict: failure.verdict, exitCode: EXIT_CODE[failure.verdict], failure, ...base, wallMs: performance.now() - t0 };
}

export function describe(r: RunResult): string {
  if (r.verdict === 'crash') return `crash: ${r.error}`;
  const v = r.violations.find((x) => x.kind === (r.verdict === 'safety' ? 'safety' : 'liveness')) ?? r.violations[0];
  return v ? `${v.inv} at ${v.at} ms${v.node !== undefined ? ` on node ${v.node}` : ''}: ${v.detail}` : r.verdict;
}

/** replay the plan with the trace on, write plan + trace, build the replay line */
export async function writeFailure(plan: Plan, expected: Verdict, shrinks: number, o: { outDir: string; strict?: boolean; antientropy?: number }): Promise<CheckFailure> {
  const result = await runPlan(plan, { record: true, strict: o.strict, antientropy: o.antientropy });
  mkdirSync(o.outDir, { recursive: true });
  const stem = join(o.outDir, `kdmq-check-${plan.seed}-${result.hash}`);
  const planFile = `${stem}.plan.json`;
  const traceFile = `${stem}.trace.jsonl`;
  writeFileSync(planFile, `${JSON.stringify(plan, null, 1)}\n`);
  writeFileSync(traceFile, `${(result.trace ?? []).join('\n')}\n`);
  const replay = `kdmq check --plan ${planFile}${o.strict ? ' --strict' : ''}${o.antientropy !== undefined ? ` --antientropy ${o.antientropy}` : ''}`;
  const verdict = result.verdict === 'pass' ? expected : result.verdict;
  return { verdict, plan, result, shrinks, planFile, traceFile, replay };
}

/** `kdmq check --plan FILE`: one recorded run of a saved plan */
export async function replayPlan(plan: Plan, o: { outDir: string; strict?: boolean; antientropy?: number }): Promise<CheckFailure> {
  return writeFailure(plan, 'pass', 0, o);
}
