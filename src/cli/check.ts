// `kdmq check`: the model checker's command line (issue "kdmq check"). Random mode runs seeded
// simulations as fast-check properties and prints one replay line per failure; `--plan FILE`
// replays a saved plan; `--exhaustive` explores every delivery order of a small scope.
// Exit codes (CHECK_EXIT): 0 pass, 2 usage, 3 crash or incomplete (exhaustive mode stopped at its
// state cap: issue #14 gives it 3, the check did not finish either way), 4 safety failure,
// 5 liveness failure, 7 non-deterministic (a shrunk failure that passed when replayed).

import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheck, replayPlan, describe, CHECK_EXIT, DEFAULT_SHRINK_STEPS, type CheckReport } from '../sim/check.ts';
import { FAULT_KINDS, type FaultKind, type Plan } from '../sim/plan.ts';
import { EXIT_CODE } from '../sim/run-plan.ts';
import { SCENARIOS, DEFAULT_MAX_STATES, explore } from '../sim/explore.ts';

export const CHECK_USAGE = `  check [--nodes N] [--seeds K | --seed S] [--faults LIST|all|none] [--duration SECONDS]
        [--quiet SECONDS] [--strict] [--antientropy SECONDS] [--shrink-steps N] [--out DIR] [--plan FILE]
        [--exhaustive [--scenario NAME] [--max-states N]]
        run the model checker; a failure is shrunk for at most N simulated runs (default ${DEFAULT_SHRINK_STEPS}),
        exhaustive mode stops at N distinct states (default ${DEFAULT_MAX_STATES})
        exit 0 pass, 2 bad usage, 3 crash or incomplete (state cap reached, nothing failed),
        4 safety failure, 5 liveness failure, 7 non-deterministic (shrunk failure passed on replay)
`;

interface Args {
  nodes: number;
  seeds: number;
  seed: number | null;
  faults: FaultKind[];
  duration: number;
  quiet: number;
  strict: boolean;
  /** antientropy.interval of the nodes (null: runPlan's default, 3 s); 0 = Kamailio-compatible only */
  antientropy: number | null;
  out: string;
  plan: string | null;
  exhaustive: boolean;
  scenario: string | null;
  shrinkSteps: number;
  maxStates: number;
}

function parse(argv: string[]): Args | string {
  const a: Args = {
    nodes: 5, seeds: 100, seed: null, faults: [...FAULT_KINDS], duration: 20, quiet: 15, strict: false, antientropy: null,
    out: join(tmpdir(), 'kdmq-check'), plan: null, exhaustive: false, scenario: null,
    shrinkSteps: DEFAULT_SHRINK_STEPS, maxStates: DEFAULT_MAX_STATES,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i] ?? '';
    const int = (min: number) => {
      const s = v();
      const x = Number(s);
      if (!/^\d+$/.test(s) || x < min) throw new Error(`${k} needs an integer ≥ ${min}, got "${s}"`);
      return x;
    };
    try {
      if (k === '--nodes') a.nodes = int(1);
      else if (k === '--seeds') a.seeds = int(1);
      else if (k === '--seed') a.seed = int(0);
      else if (k === '--duration') a.duration = int(1);
      else if (k === '--quiet') a.quiet = int(1);
      else if (k === '--strict') a.strict = true;
      else if (k === '--antientropy') a.antientropy = int(0);
      else if (k === '--exhaustive') a.exhaustive = true;
      else if (k === '--scenario') a.scenario = v();
      else if (k === '--shrink-steps') a.shrinkSteps = int(0);
      else if (k === '--max-states') a.maxStates = int(1);
      else if (k === '--out') a.out = v();
      else if (k === '--plan') a.plan = v();
      else if (k === '--faults') {
        const s = v();
        const list = s === 'all' ? [...FAULT_KINDS] : s === 'none' || s === '' ? [] : s.split(',');
        const bad = list.filter((f) => !(FAULT_KINDS as readonly string[]).includes(f));
        if (bad.length) return `unknown fault ${bad.join(',')} (known: ${FAULT_KINDS.join(',')})`;
        a.faults = list as FaultKind[];
      } else return `unknown option ${k}`;
    } catch (e) {
      return (e as Error).message;
    }
  }
  if (a.seed !== null && !argv.includes('--seeds')) a.seeds = 1;
  return a;
}

const out = (s: string) => process.stdout.write(`${s}\n`);

export async function check(argv: string[]): Promise<number> {
  const a = parse(argv);
  if (typeof a === 'string') {
    process.stderr.write(`kdmq check: ${a}\n`);
    return CHECK_EXIT.usage;
  }
  if (a.exhaustive) return exhaustive(a);
  if (a.plan) {
    let plan: Plan;
    try {
      plan = JSON.parse(readFileSync(a.plan, 'utf8')) as Plan;
    } catch (e) {
      process.stderr.write(`kdmq check: cannot read plan ${a.plan}: ${(e as Error).message}\n`);
      return CHECK_EXIT.usage;
    }
    const f = await replayPlan(plan, { outDir: a.out, strict: a.strict, antientropy: a.antientropy ?? undefined });
    out(f.verdict === 'pass' ? 'pass' : `${f.verdict}: ${describe(f.result)}`);
    if (f.result.known) out(`known finding ${f.result.known.id}: ${f.result.known.violation.inv} ${f.result.known.violation.detail}`);
    out(`trace: ${f.traceFile} (hash ${f.result.hash})`);
    return EXIT_CODE[f.verdict];
  }
  const seed = a.seed ?? Date.now() % 1_000_000_007;
  out(`kdmq check: seed ${seed}, ${a.seeds} runs, ${a.nodes} nodes, faults ${a.faults.join(',') || 'none'}, ${a.duration} s faults + ${a.quiet} s quiet`);
  const r = await runCheck({
    nodes: a.nodes, runs: a.seeds, seed, faults: a.faults, faultMs: a.duration * 1000, quietMs: a.quiet * 1000,
    strict: a.strict, antientropy: a.antientropy ?? undefined, shrinkSteps: a.shrinkSteps, outDir: a.out, log: out,
  });
  const rate = r.simNodeSeconds / (r.wallMs / 1000);
  out(`${r.runs} runs in ${(r.wallMs / 1000).toFixed(1)} s (${Math.round(rate)} simulated node-s per s)`);
  if (r.known.length > 0) {
    out(`known finding KF-01 (no anti-entropy: writes not replicated across a partition/join stay unmerged) in ${r.known.length} runs, e.g. plan seed ${r.known[0].seed}: ${r.known[0].detail.slice(0, 160)}`);
  }
  if (!r.failure) {
    out('pass');
    return 0;
  }
  const search = `kdmq check --nodes ${a.nodes} --seeds ${a.seeds} --seed ${seed}`;
  if (r.nonDeterministic) return nonDeterministic(r, search);
  const f = r.failure;
  out(`${f.verdict.toUpperCase()} FAILURE after ${f.shrinks} shrinks (${r.shrinkRuns} of at most ${a.shrinkSteps} shrink runs), ${f.plan.steps.length} steps: ${describe(f.result)}`);
  out(`trace: ${f.traceFile}`);
  out(`replay: ${f.replay}   (search: ${search})`);
  return r.exitCode;
}

function nonDeterministic(r: CheckReport, search: string): number {
  const f = r.failure!;
  const n = r.nonDeterministic!;
  out(`NON-DETERMINISTIC: the ${n.original.verdict} failure of run ${n.original.run} (plan seed ${n.original.plan.seed}: ${n.original.detail}) shrunk to ${f.plan.steps.length} steps did not fail again on replay (recorded replay: ${n.replays[0]}, plan read back from its file: ${n.replays[1]})`);
  out(`original: ${search}   (run ${n.original.run}; its plan: ${n.originalPlanFile})`);
  out(`shrunk plan: ${f.planFile}   (replay: ${f.replay}; trace: ${f.traceFile})`);
  return CHECK_EXIT.nonDeterministic;
}

async function exhaustive(a: Args): Promise<number> {
  const names = a.scenario ? [a.scenario] : Object.keys(SCENARIOS);
  let code: number = CHECK_EXIT.pass;
  for (const name of names) {
    const sc = SCENARIOS[name];
    if (!sc) {
      process.stderr.write(`kdmq check: unknown scenario ${name} (known: ${Object.keys(SCENARIOS).join(', ')})\n`);
      return CHECK_EXIT.usage;
    }
    const r = await explore(sc, { maxStates: a.maxStates });
    const verdict = r.violation ? 'SAFETY FAILURE' : r.truncated ? `incomplete: state cap ${r.maxStates} reached, ${r.states} states explored, the rest unexplored` : 'pass';
    out(`exhaustive ${name} (${sc.describe}): ${r.states} states, ${r.replays} replays, ${(r.wallMs / 1000).toFixed(1)} s: ${verdict}`);
    if (r.violation) {
      out(`  ${r.violation.inv}: ${r.violation.detail}`);
      out(`  path (${r.path.length} choices): ${r.path.join(' ')}`);
      code = CHECK_EXIT.safety;
    } else if (r.truncated && code === CHECK_EXIT.pass) code = CHECK_EXIT.incomplete;
  }
  if (code === CHECK_EXIT.incomplete) out('incomplete (exit 3): raise --max-states or shrink the scope; no failure was found in what was explored');
  return code;
}
