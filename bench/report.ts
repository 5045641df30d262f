// Output of a bench run: ONE text table (figure | kdmq median [min–max] | Kamailio median
// [min–max] | ratio | target | verdict), notes for wide spreads and failed runs, and the JSON file
// bench/results/<YYYY-MM-DD>[-quick][-only-<ids>].json with every raw sample and the machine's state.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtNum, SPREAD_WARN, type FigureResult, type RowResult, type Stats } from './lib.ts';

function cell(s: Stats | undefined, r: RowResult, side: 'kdmq' | 'kamailio'): string {
  if (!s || s.n === 0) return '—';
  const d = r.digits;
  const bound = r.neverAfter?.[side];
  const never = bound !== undefined ? `never (>${fmtNum(bound, 0)} ${r.unit})` : 'never';
  if (s.median === null) return s.never === s.n ? never : `${never}; ${s.n - s.never}/${s.n} runs ${fmtNum(s.min, d)}`;
  const max = s.max === null ? 'never' : fmtNum(s.max, d);
  const extra = s.never > 0 ? ` (${s.never}/${s.n} never)` : '';
  return `${fmtNum(s.median, d)} [${fmtNum(s.min, d)}–${max}]${extra}${s.spread !== null && s.spread > SPREAD_WARN ? ' ⚠' : ''}`;
}

const CMP = { '>=': '≥', '<': '<', '<=': '≤' } as const;

export function targetText(r: Pick<RowResult, 'target' | 'unit'>): string {
  if (!r.target) return '—';
  if (r.target.ratio) return `${CMP[r.target.cmp]} ${r.target.value}× Kamailio (each run)`;
  return `${CMP[r.target.cmp]} ${fmtNum(r.target.value, r.target.value >= 100 ? 0 : undefined)} ${r.unit}`;
}

function ratioText(r: RowResult): string {
  if (r.ratio !== null) return `${r.ratio >= 10 ? r.ratio.toFixed(1) : r.ratio.toFixed(2)}×`;
  if (!r.kamailio || r.kamailio.n === 0) return '—';
  if (r.kamailio.median === null && r.kdmq.median !== null) return 'kdmq only';
  return '—';
}

export function table(results: FigureResult[]): string {
  const head = ['figure', 'kdmq median [min–max]', 'Kamailio median [min–max]', 'ratio', 'target', 'verdict'];
  const rows: string[][] = [];
  for (const f of results) {
    for (const r of f.rows) {
      const kam = r.kamailio && r.kamailio.n > 0 ? cell(r.kamailio, r, 'kamailio') : r.kamailioNote ?? '—';
      rows.push([`${r.label} (${r.unit})`, r.skipped ? `skipped: ${r.skipped}` : cell(r.kdmq, r, 'kdmq'), r.skipped ? '—' : kam, ratioText(r), targetText(r), r.verdict]);
    }
  }
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]].length)));
  const line = (cols: string[]) => `| ${cols.map((c, i) => c + ' '.repeat(width[i] - [...c].length)).join(' | ')} |`;
  return [line(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function notes(results: FigureResult[], load: { start: number[]; end: number[] }): string[] {
  const out: string[] = results.filter((f) => f.note && !f.skipped).map((f) => `${f.id}: ${f.note}`);
  // the work both systems did, row by row (issue #15: every figure with a Kamailio column says it)
  for (const f of results) for (const r of f.rows) if (r.work && !r.skipped) out.push(`${f.id} · ${r.label} — work: ${r.work}`);
  for (const f of results) {
    for (const r of f.rows) {
      if (r.runRatios && !r.skipped) out.push(`${f.id} · ${r.label} — kdmq/Kamailio per run: ${r.runRatios.map((x) => (x === null ? '—' : `${x.toFixed(2)}×`)).join(', ')}`);
    }
  }
  const wide = results.flatMap((f) => f.rows.filter((r) => r.wideSpread).map((r) => r.label));
  if (wide.length) {
    out.push(
      `⚠ wide spread ((max−min)/median > ${SPREAD_WARN * 100} %) in: ${wide.join('; ')}. ` +
        `The machine is shared and noisy (${cpus().length} cores; load average ${load.start[0].toFixed(2)} at start, ` +
        `${load.end[0].toFixed(2)} at end): read these medians as indicative and compare ratios, not absolutes.`,
    );
  }
  for (const f of results) for (const e of f.errors) out.push(`✗ ${f.id} ${e.split('\n')[0]}`);
  out.push('ratio = kdmq median / Kamailio median from the same run (for times, < 1 means kdmq is faster).');
  return out;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

function kamailioVersion(): string {
  try {
    return execFileSync('kamailio', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).split('\n')[0];
  } catch {
    return '';
  }
}

export function writeJson(results: FigureResult[], opts: { quick: boolean; startedAt: Date; load: { start: number[]; end: number[] }; only?: string[] }): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const day = opts.startedAt.toISOString().slice(0, 10);
  // an --only run gets its own file, so it does not overwrite the day's complete run
  const only = opts.only ? `-only-${opts.only.join('+')}` : '';
  const file = join(dir, `${day}${opts.quick ? '-quick' : ''}${only}.json`);
  const doc = {
    startedAt: opts.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    mode: opts.quick ? 'quick' : 'full',
    machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavgStart: opts.load.start, loadavgEnd: opts.load.end, kamailio: kamailioVersion() },
    git: { commit: git(['rev-parse', 'HEAD']), dirty: git(['status', '--porcelain']) !== '' },
    spreadWarnAbove: SPREAD_WARN,
    figures: results,
  };
  writeFileSync(file, JSON.stringify(doc, (_k, v) => (v === Infinity ? 'Infinity' : v), 2) + '\n');
  return file;
}

export const currentLoad = (): number[] => loadavg();
