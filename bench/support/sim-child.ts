// The checker-speed figures (sim, sim-register) measured in a process of their own, as `kdmq check`
// runs: a fresh V8 heap with the flag bin/kdmq.mjs gives the simulation commands
// (--max-semi-space-size=64), not the bench process after twenty minutes of other figures (its old
// generation and JIT state made the same simulation ~15 % slower there), after a short warm-up.
//   child: node --max-semi-space-size=64 --import tsx bench/support/sim-child-main.ts KIND N BUDGET_MS SEED
//   prints one JSON line: the figure function's result
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type SimKind = 'membership' | 'register' | 'check';

/** run one measurement in a child process; resolves with its JSON result */
export function simInChild<T>(kind: SimKind, n: number, budgetMs: number, seed: string): Promise<T> {
  const main = fileURLToPath(new URL('./sim-child-main.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', main, kind, String(n), String(budgetMs), seed],
      { maxBuffer: 1 << 20, timeout: budgetMs + 300_000 }, (err, stdout, stderr) => {
        if (err) return reject(new Error(`sim child (${kind}, ${n} nodes) failed: ${err.message}\n${stderr.slice(-2000)}`));
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as T);
        } catch {
          reject(new Error(`sim child (${kind}, ${n} nodes) printed no result: ${stdout.slice(-500)} ${stderr.slice(-500)}`));
        }
      });
  });
}
