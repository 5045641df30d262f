// A figure's REGISTER ladder for one system in one run (bench/support/ladder.ts does the walk):
// where it starts (the lower of the rates the systems held in the previous run of the figure, the
// same for both), the run's JSON detail (every step tried), and the samples and work note the
// ladder figures share: held rate, CPU per REGISTER (per node in a cluster), whether the ladder
// ended on a failed step, and what the held step cost (REGISTERs, retransmissions, KDMQs).

import type { RunContext, Samples } from '../lib.ts';
import { ladder, type LadderResult, type RegistrarNode, type StepResult } from './ladder.ts';

/**
 * Where each system's ladder starts: the rate it held in the previous run of the same figure (in
 * this process), else the seed. Keyed by figure, mode and system.
 */
const lastHeld = new Map<string, number>();
export function ladderStart(key: string, seed: number): number {
  // both systems of a figure start at the same rate (the lower of what they held last), so their
  // first steps meet the same table size
  const figure = key.slice(0, key.lastIndexOf(':'));
  const prev = [...lastHeld].filter(([k]) => k.slice(0, k.lastIndexOf(':')) === figure).map(([, v]) => v);
  return prev.length > 0 ? Math.min(...prev) : seed;
}
export function rememberHeld(key: string, held: number): void {
  lastHeld.set(key, held);
}

/** The per-run detail kept in the JSON: every step tried, compactly. */
export function ladderDetail(r: LadderResult): Record<string, unknown> {
  const step = (s: StepResult) => ({
    rate: s.target, held: s.held, ok: s.successful, failed: s.failed, unfinished: s.unfinished, achieved: Math.round(s.achieved),
    sippS: Math.round(s.elapsedMs / 100) / 10, cpuS: Math.round(s.cpuS * 10) / 10, contactsBefore: s.contactsBefore, contacts: s.contacts,
    sipps: s.sipps, retransmissions: s.retransmissions, ...(s.replication ? { replication: s.replication } : {}),
    ...(s.cpuByNode ? { cpuByNode: s.cpuByNode } : {}), ...(s.work ? { work: s.work } : {}),
    ...(s.firstError ? { firstError: s.firstError } : {}),
  });
  return {
    held: r.held, start: r.start, ceiling: r.ceiling, ...(r.cpuUsPerRegByNode ? { cpuUsPerRegByNode: r.cpuUsPerRegByNode } : {}),
    steps: r.steps.map((s) => ({ ...step(s), freshNode: s.fresh, ...(s.warmup ? { warmup: step(s.warmup) } : {}) })),
  };
}

/**
 * A figure's ladder for one system in one run: starts where this system's previous run held
 * (first run: `seed`), remembers what it held for the next run, and attaches every step tried to
 * the run's JSON detail as `<name>.ladder`.
 */
export async function figureLadder(
  open: () => Promise<RegistrarNode>,
  ctx: RunContext,
  o: { figure: string; name: string; steps: number[]; seconds: number; seed: number; tag: string; max?: number; log?: (m: string) => void },
): Promise<LadderResult> {
  const key = `${o.figure}:${ctx.quick ? 'quick' : 'full'}:${o.name}`;
  const log = o.log ?? ctx.log;
  const start = ladderStart(key, o.seed);
  log(`${o.name}: ladder starts at ${start}/s (${lastHeld.size > 0 ? 'the lower rate the systems held in the previous run' : 'seed'})`);
  const r = await ladder(open, { steps: o.steps, seconds: o.seconds, tag: o.tag, log, start, warmupSeconds: 3, max: o.max });
  rememberHeld(key, r.held);
  ctx.detail(`${o.name}.ladder`, ladderDetail(r));
  return r;
}

/** the samples every ladder figure reports for one system (`p` = its key prefix) */
export function ladderSamples(p: string, r: LadderResult): Samples {
  const out: Samples = { [`${p}.held`]: r.held, [`${p}.cpuUs`]: r.cpuUsPerReg, [`${p}.endFailed`]: r.ceiling ? 0 : 1 };
  for (const [k, v] of Object.entries(r.cpuUsPerRegByNode ?? {})) out[`${p}.cpuUs.${k}`] = v;
  const t = r.top;
  if (t) {
    out[`${p}.regs`] = t.count;
    out[`${p}.ok`] = t.successful;
    out[`${p}.retrans`] = t.retransmissions;
    out[`${p}.sipps`] = t.sipps;
    out[`${p}.before`] = t.contactsBefore;
    for (const [k, v] of Object.entries(t.work ?? {})) out[`${p}.work.${k}`] = v;
  }
  return out;
}

const n0 = (v: number | null | undefined) => (v === null || v === undefined ? '—' : Math.round(v).toLocaleString('en'));

/** the work note of a ladder's held row: per run and system, what the held step was made of */
export function ladderWork(systems: Array<[prefix: string, name: string]>, what: string) {
  return (runs: Samples[]): string => {
    const per = (x: Samples, p: string, name: string): string => {
      if (x[`${p}.regs`] === undefined) return `${name}: no step held`;
      const ok = x[`${p}.ok`] ?? 0;
      const work = Object.keys(x).filter((k) => k.startsWith(`${p}.work.`)).map((k) => {
        const v = x[k] ?? 0;
        return `${k.slice(p.length + 6)} ${n0(v)} (${ok ? (v / ok).toFixed(2) : '—'} per REGISTER)`;
      });
      return `${name}: ${n0(x[`${p}.regs`])} REGISTERs (${n0(ok)} answered 200) from ${n0(x[`${p}.sipps`])} sipp, ${n0(x[`${p}.retrans`])} retransmitted, table ${n0(x[`${p}.before`])} contacts before${work.length ? `; ${work.join(', ')}` : ''}`;
    };
    return `${what}. ` + runs.map((x, i) => `run ${i + 1}: ${systems.map(([p, n]) => per(x, p, n)).join('; ')}`).join(' | ');
  };
}

/** the note of a ladder figure: where it starts and ends, and what a held rate at the maximum means */
export function ladderNote(steps: number[], max: number): string {
  return `steps ${steps.map((r) => r / 1000).join('/')} k/s, then +${(steps[steps.length - 1] - steps[steps.length - 2]) / 1000} k/s up to ${max / 1000} k/s until a step fails, so every ladder ends on a failed step; a held rate equal to ${max}/s means the ladder still held at its maximum (row "ended on a failed step" = 0)`;
}

export type { StepResult };
