// `npm run bench [-- --quick] [-- --only id,id]`: runs every registered figure (bench/figures/
// index.ts) ≥ 3 times, prints ONE table of medians [min–max] against Kamailio where a
// counterpart exists, and writes bench/results/<YYYY-MM-DD>[-quick][-only-<ids>].json. Progress goes to
// stderr; the table goes to stdout. Exit code 1 when a figure had failed runs.

import { figures } from './figures/index.ts';
import { runFigure, type FigureResult } from './lib.ts';
import { currentLoad, notes, table, writeJson } from './report.ts';

function parseArgs(argv: string[]): { quick: boolean; only?: Set<string> } {
  let quick = false;
  let only: Set<string> | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--only') only = new Set((argv[++i] ?? '').split(','));
    else if (a.startsWith('--only=')) only = new Set(a.slice(7).split(','));
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: npm run bench [-- --quick] [-- --only ${figures.map((f) => f.id).join(',')}]\n`);
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown option ${a}\n`);
      process.exit(2);
    }
  }
  return { quick, only };
}

async function main(): Promise<number> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const selected = figures.filter((f) => !only || only.has(f.id));
  if (only) for (const id of only) if (!figures.some((f) => f.id === id)) throw new Error(`no figure ${id}`);
  const startedAt = new Date();
  const load = { start: currentLoad(), end: [] as number[] };
  const t0 = performance.now();
  const log = (m: string) => process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s ${m}\n`);
  log(`bench ${quick ? 'quick' : 'full'}: ${selected.map((f) => f.id).join(', ')}`);
  const results: FigureResult[] = [];
  for (const f of selected) {
    results.push(await runFigure(f, quick, log));
    // written after every figure, so a run that is stopped early still leaves what it measured
    writeJson(results, { quick, startedAt, load: { start: load.start, end: currentLoad() }, only: only && [...only] });
  }
  load.end = currentLoad();
  const file = writeJson(results, { quick, startedAt, load, only: only && [...only] });
  process.stdout.write(`\n${table(results)}\n\n${notes(results, load).join('\n')}\n`);
  process.stdout.write(`total ${((performance.now() - t0) / 1000).toFixed(0)} s; results: ${file}\n`);
  return results.some((r) => r.errors.length > 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
    process.exit(2);
  },
);
