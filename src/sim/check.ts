// The checker driven by fast-check: each run is fc.asyncProperty over a generated plan (seed,
// fault schedule, workload); on a failure fast-check shrinks the plan (keeping the same failure
// kind) for at most `shrinkSteps` simulated runs — a count, not a time, so every machine shrinks a
// failure to the same plan. The shrunk plan is replayed with the trace recorded, the trace (JSONL)
// and plan (JSON) are written with one replay line, and the plan read back from its file is run once
// more as that line would run it: a failure that does not fail again is reported as
// non-deterministic. Exit codes (CHECK_EXIT): 0 pass, 2 usage, 3 crash or incomplete (exhaustive
// mode's state cap), 4 safety, 5 liveness, 7 non-deterministic.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { planArb, type FaultKind, type Plan } from './plan.ts';
import { runPlan, EXIT_CODE, type RunOptions, type RunResult, type Verdict } from './run-plan.ts';
import type { PlantedBug } from '../ports/faults.ts';

/** every exit status of `kdmq check` (keep in step with CHECK_USAGE, README and specs/invariants.md) */
export const CHECK_EXIT = { ...EXIT_CODE, usage: 2, incomplete: 3, nonDeterministic: 7 } as const;

/** simulated runs spent shrinking a failure, by default (a 5-node default run takes ~0.1–0.5 s) */
export const DEFAULT_SHRINK_STEPS = 500;

export type PlanRunner = (plan: Plan, o: RunOptions) => Promise<RunResult>;

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
  /** shrink for at most this many simulated runs after the first failure (DEFAULT_SHRINK_STEPS); the smallest failing plan so far is kept */
  shrinkSteps?: number;
  outDir: string;
  /** count only this kind of failure (the others pass); default: any */
  only?: Exclude<Verdict, 'pass'>;
  log?: (line: string) => void;
  /** runs one plan (default runPlan); tests inject a flaky one to see non-determinism reported */
  run?: PlanRunner;
  /** bugs planted in every node of every run, replays included (the checker's own tests) */
  plant?: readonly PlantedBug[];
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

/** the first failing run of the search, before shrinking */
export interface OriginalFailure {
  /** 1-based run number within the search */
  run: number;
  plan: Plan;
  verdict: Verdict;
  detail: string;
}

/** a shrunk failure that did not fail again (with the same verdict) when replayed */
export interface NonDeterminism {
  original: OriginalFailure;
  /** what the shrunk plan gave: the recorded replay, then the plan read back from its file */
  replays: Verdict[];
  /** the original (unshrunk) plan, written beside the shrunk one */
  originalPlanFile: string;
}

export interface CheckReport {
  verdict: Verdict;
  exitCode: number;
  runs: number;
  /** simulated runs spent shrinking (at most shrinkSteps) */
  shrinkRuns: number;
  /** runs whose data divergence is the known finding KF-01 */
  known: Array<{ seed: string; detail: string }>;
  failure: CheckFailure | null;
  /** set when the shrunk failure did not reproduce (exitCode 7) */
  nonDeterministic: NonDeterminism | null;
  wallMs: number;
  simNodeSeconds: number;
}

export async function runCheck(o: CheckOptions): Promise<CheckReport> {
  const t0 = performance.now();
  const run = o.run ?? runPlan;
  const steps = o.shrinkSteps ?? DEFAULT_SHRINK_STEPS;
  let original: OriginalFailure | null = null;
  let runs = 0;
  let shrinkRuns = 0;
  let simNodeMs = 0;
  const known: CheckReport['known'] = [];
  const shape = { nodes: o.nodes, faults: o.faults, faultMs: o.faultMs, quietMs: o.quietMs, maxSteps: o.maxSteps };
  const prop = fc.asyncProperty(planArb(shape), async (plan) => {
    if (original !== null) {
      if (shrinkRuns >= steps) return true; // bound reached: fast-check keeps the smallest failing plan so far
      shrinkRuns++;
    }
    const r = await run(plan, { strict: o.strict, antientropy: o.antientropy, plant: o.plant });
    runs++;
    simNodeMs += r.simMs * plan.nodes;
    if (original === null && r.known) known.push({ seed: plan.seed, detail: `${r.known.violation.inv} ${r.known.violation.detail}` });
    if (r.verdict === 'pass' || (o.only && r.verdict !== o.only)) return true;
    if (original === null) {
      original = { run: runs, plan, verdict: r.verdict, detail: describe(r) };
      o.log?.(`found ${r.verdict} failure in run ${runs} (${original.detail}), shrinking (at most ${steps} runs)…`);
    }
    return r.verdict !== original.verdict;
  });
  const details = await fc.check(prop, { numRuns: o.runs, seed: o.seed });
  const base = { runs, shrinkRuns, known, simNodeSeconds: simNodeMs / 1000 };
  const first = original as OriginalFailure | null;
  if (!details.failed || !details.counterexample || first === null) {
    return { verdict: 'pass', exitCode: 0, failure: null, nonDeterministic: null, ...base, wallMs: performance.now() - t0 };
  }
  const plan = details.counterexample[0];
  const failure = await writeFailure(plan, first.verdict, details.numShrinks, o);
  const nonDeterministic = await confirm(failure, first, o);
  const exitCode = nonDeterministic ? CHECK_EXIT.nonDeterministic : EXIT_CODE[failure.verdict];
  return { verdict: failure.verdict, exitCode, failure, nonDeterministic, ...base, wallMs: performance.now() - t0 };
}

/**
 * Replays the shrunk failure as its replay line would (the plan read back from its file, the same
 * options): null when both that run and the recorded one gave the failure's verdict again.
 */
async function confirm(f: CheckFailure, original: OriginalFailure, o: CheckOptions): Promise<NonDeterminism | null> {
  const fromFile = JSON.parse(readFileSync(f.planFile, 'utf8')) as Plan;
  const again = await (o.run ?? runPlan)(fromFile, { strict: o.strict, antientropy: o.antientropy, plant: o.plant });
  const replays: Verdict[] = [f.result.verdict, again.verdict];
  if (replays.every((v) => v === original.verdict)) return null;
  const originalPlanFile = f.planFile.replace(/\.plan\.json$/, '.original.plan.json');
  writeFileSync(originalPlanFile, `${JSON.stringify(original.plan, null, 1)}\n`);
  return { original, replays, originalPlanFile };
}

export function describe(r: RunResult): string {
  if (r.verdict === 'crash') return `crash: ${r.error}`;
  const v = r.violations.find((x) => x.kind === (r.verdict === 'safety' ? 'safety' : 'liveness')) ?? r.violations[0];
  return v ? `${v.inv} at ${v.at} ms${v.node !== undefined ? ` on node ${v.node}` : ''}: ${v.detail}` : r.verdict;
}

/** replay the plan with the trace on, write plan + trace, build the replay line */
export async function writeFailure(plan: Plan, expected: Verdict, shrinks: number, o: { outDir: string; strict?: boolean; antientropy?: number; run?: PlanRunner; plant?: readonly PlantedBug[] }): Promise<CheckFailure> {
  const result = await (o.run ?? runPlan)(plan, { record: true, strict: o.strict, antientropy: o.antientropy, plant: o.plant });
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
