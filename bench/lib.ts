// The benchmark framework: a Figure measures one thing per run and returns named samples
// (kdmq and, where one exists, the Kamailio counterpart from the same run); runFigure() repeats it
// (≥ 3 runs), summarize() turns the samples into rows with median [min–max], kdmq/Kamailio ratio,
// target verdict and a spread warning when (max − min) / median > 30 % (the machine is shared).

/** A sample is a number, or null for "never happened within the bounded wait". */
export type Sample = number | null;
export type Samples = Record<string, Sample>;

export interface RunContext {
  quick: boolean;
  /** 0-based index of this run of the figure */
  run: number;
  runs: number;
  log(msg: string): void;
  /** Attach JSON detail to this run (e.g. every ladder step tried); written to the results file. */
  detail(key: string, value: unknown): void;
}

export interface Target {
  /** '>=': higher is better (throughput); '<' / '<=': lower is better (latency, detection time) */
  cmp: '>=' | '<' | '<=';
  value: number;
  /**
   * judge the ratio kdmq / Kamailio of each run (both measured in that run), not kdmq's value:
   * "≤ 0.4× Kamailio" is { cmp: '<=', value: 0.4, ratio: true }
   */
  ratio?: boolean;
}

/** what both systems did in the runs of a row (datagrams, bytes, copies, settings), for its note */
export type WorkNote = string | ((runs: Samples[], details: Array<Record<string, unknown>>) => string);

/** One table row: which sample keys hold the kdmq and Kamailio values, and how to judge them. */
export interface RowSpec {
  label: string;
  unit: string;
  kdmq: string;
  kamailio?: string;
  /** Shown in place of Kamailio values when there is no counterpart or it differs (e.g. config). */
  kamailioNote?: string;
  /** For null samples: "never within this many units" (the bounded wait of each side) */
  neverAfter?: { kdmq?: number; kamailio?: number };
  target?: Target;
  /** Decimals to print (default: 0 for values ≥ 100, else 2) */
  digits?: number;
  /** the work both did for this row, printed under the table (issue #15: equal work, stated) */
  work?: WorkNote;
}

export interface Figure {
  id: string;
  title: string;
  /** Skip in quick mode (and say why in the table). */
  skipQuick?: string;
  /** Configurations compared etc., printed under the table. */
  note?(quick: boolean): string;
  runs(quick: boolean): number;
  rows(quick: boolean): RowSpec[];
  /** Optional setup check; return a reason to skip (e.g. Kamailio not installed). */
  available?(quick: boolean): string | undefined;
  run(ctx: RunContext): Promise<Samples>;
  /**
   * Start all runs at once instead of one after the other. Only for figures whose runs are idle
   * processes timed by their own timers (failure detection), where runs cannot slow each other.
   */
  concurrentRuns?: boolean;
}

export interface Stats {
  n: number;
  never: number;
  median: number | null;
  min: number | null;
  max: number | null;
  /** (max − min) / median of the numeric samples */
  spread: number | null;
}

export const SPREAD_WARN = 0.3;

export function stats(xs: Sample[]): Stats {
  const nums = xs.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  const never = xs.length - nums.length;
  if (nums.length === 0) return { n: xs.length, never, median: null, min: null, max: null, spread: null };
  // "never" counts as +∞ for the median: with most runs never, the median is never.
  const all = [...nums, ...Array<number>(never).fill(Infinity)];
  const mid = all.length >> 1;
  const median = all.length % 2 ? all[mid] : (all[mid - 1] + all[mid]) / 2;
  const min = nums[0];
  const max = never > 0 ? Infinity : nums[nums.length - 1];
  const med = Number.isFinite(median) ? median : null;
  const spread = med !== null && Number.isFinite(max) && med !== 0 ? (max - min) / med : null;
  return { n: xs.length, never, median: med, min, max: Number.isFinite(max) ? max : null, spread };
}

export interface RowResult {
  figure: string;
  label: string;
  unit: string;
  kdmq: Stats;
  kdmqSamples: Sample[];
  kamailio?: Stats;
  kamailioSamples?: Sample[];
  kamailioNote?: string;
  neverAfter?: { kdmq?: number; kamailio?: number };
  /** kdmq median / Kamailio median */
  ratio: number | null;
  /** per run kdmq / Kamailio (same run), for a ratio target */
  runRatios?: Sample[];
  target?: Target;
  /** the row's work note, filled in from the runs */
  work?: string;
  verdict: string;
  wideSpread: boolean;
  digits?: number;
  skipped?: string;
}

export interface FigureResult {
  id: string;
  title: string;
  runs: Samples[];
  /** per run (same index as `runs`): whatever the figure attached with ctx.detail */
  details: Array<Record<string, unknown>>;
  errors: string[];
  rows: RowResult[];
  note?: string;
  skipped?: string;
  wallSeconds: number;
}

const meets = (t: Target, v: number): boolean => (t.cmp === '>=' ? v >= t.value : t.cmp === '<' ? v < t.value : v <= t.value);

/** every run must meet the target, not just the median (issue #15): the worst run decides */
export function verdictOf(s: Stats, t: Target | undefined): string {
  if (!t) return 'info';
  if (s.n === 0) return 'no data';
  if (s.median === null) return t.cmp !== '>=' ? 'FAIL (never)' : 'no data';
  if (t.cmp !== '>=' && s.never > 0) return `FAIL (${s.never} of ${s.n} runs never)`;
  const worst = t.cmp === '>=' ? s.min : s.max;
  if (worst === null) return 'no data';
  if (meets(t, worst)) return 'PASS (every run)';
  return meets(t, s.median) ? 'FAIL (median meets it, the worst run does not)' : 'FAIL';
}

/** kdmq / Kamailio of each run; null when either is missing (a run without one fails a ratio target) */
export function runRatios(k: Sample[], m: Sample[]): Sample[] {
  return k.map((x, i) => (x !== null && m[i] !== null && m[i] !== undefined && m[i] !== 0 ? x / (m[i] as number) : null));
}

function ratioVerdict(ratios: Sample[], t: Target): string {
  const s = stats(ratios);
  if (s.n === 0) return 'no data';
  if (s.never > 0) return `FAIL (${s.never} of ${s.n} runs without both values)`;
  return verdictOf(s, t);
}

export function summarize(fig: Figure, quick: boolean, runs: Samples[], details: Array<Record<string, unknown>> = []): RowResult[] {
  return fig.rows(quick).map((r) => {
    const ks = runs.map((x) => x[r.kdmq]).filter((x) => x !== undefined);
    const kdmq = stats(ks);
    const ms = r.kamailio ? runs.map((x) => x[r.kamailio!]).filter((x) => x !== undefined) : undefined;
    const kam = ms ? stats(ms) : undefined;
    const ratio = kam && kam.median !== null && kdmq.median !== null && kam.median !== 0 ? kdmq.median / kam.median : null;
    const wide = [kdmq, kam].some((s) => s !== undefined && s.spread !== null && s.spread > SPREAD_WARN);
    // a ratio target pairs the values of each run (both systems measured in that run)
    const pairs = r.kamailio ? runs.map((x) => [x[r.kdmq] ?? null, x[r.kamailio!] ?? null] as const) : [];
    const rr = r.target?.ratio ? runRatios(pairs.map((p) => p[0]), pairs.map((p) => p[1])) : undefined;
    const verdict = r.target?.ratio ? ratioVerdict(rr ?? [], r.target) : verdictOf(kdmq, r.target);
    const work = typeof r.work === 'function' ? safeWork(r.work, runs, details) : r.work;
    return {
      figure: fig.id, label: r.label, unit: r.unit, kdmq, kdmqSamples: ks, kamailio: kam, kamailioSamples: ms,
      kamailioNote: r.kamailioNote, neverAfter: r.neverAfter, ratio, target: r.target,
      verdict, wideSpread: wide, digits: r.digits, ...(rr ? { runRatios: rr } : {}), ...(work ? { work } : {}),
    };
  });
}

function safeWork(f: (runs: Samples[], details: Array<Record<string, unknown>>) => string, runs: Samples[], details: Array<Record<string, unknown>>): string {
  if (runs.length === 0) return '';
  try {
    return f(runs, details);
  } catch (e) {
    return `(work note failed: ${(e as Error).message})`;
  }
}

/** Run a figure `runs` times; a failed run is recorded and the others still count. */
export async function runFigure(fig: Figure, quick: boolean, log: (m: string) => void): Promise<FigureResult> {
  const t0 = performance.now();
  const base = { id: fig.id, title: fig.title, note: fig.note?.(quick), runs: [] as Samples[], details: [] as Array<Record<string, unknown>>, errors: [] as string[] };
  const skip = quick && fig.skipQuick ? fig.skipQuick : fig.available?.(quick);
  if (skip) {
    const rows = summarize(fig, quick, []).map((r) => ({ ...r, skipped: skip, verdict: 'skipped' }));
    return { ...base, rows, skipped: skip, wallSeconds: 0 };
  }
  const n = fig.runs(quick);
  if (n < 3) throw new Error(`figure ${fig.id}: ${n} runs; every figure runs at least 3 times`);
  type Outcome = { samples: Samples; detail: Record<string, unknown> } | { error: string };
  const one = async (i: number): Promise<Outcome> => {
    log(`[${fig.id}] run ${i + 1}/${n}`);
    const detail: Record<string, unknown> = {};
    try {
      const s = await fig.run({ quick, run: i, runs: n, log: (m) => log(`[${fig.id} ${i + 1}/${n}] ${m}`), detail: (k, v) => void (detail[k] = v) });
      log(`[${fig.id}] run ${i + 1}: ${Object.entries(s).map(([k, v]) => `${k}=${fmtNum(v)}`).join(' ')}`);
      return { samples: s, detail };
    } catch (e) {
      const msg = `run ${i + 1}: ${(e as Error).stack ?? String(e)}`;
      log(`[${fig.id}] FAILED ${msg}`);
      return { error: msg };
    }
  };
  const outcomes: Outcome[] = [];
  if (fig.concurrentRuns) outcomes.push(...(await Promise.all(Array.from({ length: n }, (_, i) => one(i)))));
  else for (let i = 0; i < n; i++) outcomes.push(await one(i));
  for (const o of outcomes) {
    if ('error' in o) base.errors.push(o.error);
    else {
      base.runs.push(o.samples);
      base.details.push(o.detail);
    }
  }
  return { ...base, rows: summarize(fig, quick, base.runs, base.details), wallSeconds: (performance.now() - t0) / 1000 };
}

export function fmtNum(v: number | null | undefined, digits?: number): string {
  if (v === null || v === undefined) return 'never';
  if (!Number.isFinite(v)) return 'never';
  const d = digits ?? (Math.abs(v) >= 100 ? 0 : 2);
  return v.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d });
}
