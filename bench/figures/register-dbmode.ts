// Figure: REGISTER rate held by one kdmq node with usrloc.db_mode 0 (memory), 1 (write-through:
// one SQLite transaction per REGISTER before its 200) and 2 (write-back every timer_interval, here
// 5 s), same bracketing ladder and hold rule as register-rate (bench/support/ladder.ts: each mode
// starts at the rate it held in the previous run, first run at SEED), order rotated per run. Target:
// db_mode 2 within 10 % of db_mode 0. SQLite file in the node's temp dir (tmpfs or disk as the
// machine has it: the note prints the path's filesystem). WAL checkpoints run on the adapter's
// worker thread and db_mode 2 flushes in slices of ≈ 0.5 ms (src/persist). Each ladder logs the
// machine's load average first: on a shared machine, rates are comparable only within a run.

import { join } from 'node:path';
import { loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { allocLoopbackIps } from '../../test/support/kamailio.ts';
import type { Figure, RunContext, Samples } from '../lib.ts';
import { figureLadder } from '../support/ladder.ts';
import { avail, kdmqRegistrarNode, RATE_STEPS } from './registrar-rate.ts';

/** Where the first run's ladders start (what each mode held in the full run of 2026-11-26). */
const SEED = { 0: 12_000, 1: 12_000, 2: 12_000 }; // all three held the old top step (12 000) in the 2026-11-26 afternoon full run

async function one(mode: 0 | 1 | 2, ctx: RunContext, seconds: number): Promise<Samples> {
  ctx.log(`db_mode ${mode}: load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  // the ladder starts a fresh node (own address, own empty database) for each start
  const open = async () => {
    const [ip] = allocLoopbackIps(1);
    const dir = mkdtempSync(join(tmpdir(), 'kdmq-dbmode-'));
    try {
      const n = await kdmqRegistrarNode(ip, { usrloc: { db_mode: mode, db_path: join(dir, 'ul.sqlite'), timer_interval: 5 } });
      return { ...n, stop: async () => { await n.stop(); rmSync(dir, { recursive: true, force: true }); } };
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  };
  const r = await figureLadder(open, ctx, {
    figure: 'register-rate-dbmode', name: `db${mode}`, steps: RATE_STEPS, seconds, seed: SEED[mode], tag: `db${mode}r${ctx.run}`,
    log: (m) => ctx.log(`db_mode ${mode}: ${m}`),
  });
  return { [`db${mode}.held`]: r.held, [`db${mode}.cpuUs`]: r.cpuUsPerReg };
}

export const registerRateDbModeFigure: Figure = {
  id: 'register-rate-dbmode',
  skipQuick: 'full mode only (keeps --quick under 5 minutes)',
  title: 'REGISTER rate held by one kdmq node by usrloc.db_mode (SQLite via better-sqlite3)',
  runs: () => 3,
  note: () => `db file under ${tmpdir()}; WAL, synchronous=NORMAL, checkpoints on a worker thread; steps ${RATE_STEPS.join('/')} /s, bracketed from the rate each mode held in the previous run; a held rate equal to the top step (${RATE_STEPS[RATE_STEPS.length - 1]}) means at least that`,
  rows: (quick) => [
    { label: `REGISTER rate held, db_mode 0 (× ${quick ? 5 : 10} s steps)`, unit: 'REGISTER/s', kdmq: 'db0.held' },
    { label: 'REGISTER rate held, db_mode 1 (write-through)', unit: 'REGISTER/s', kdmq: 'db1.held' },
    { label: 'REGISTER rate held, db_mode 2 (write-back 5 s)', unit: 'REGISTER/s', kdmq: 'db2.held' },
    { label: 'node CPU per REGISTER, db_mode 0', unit: 'µs', kdmq: 'db0.cpuUs' },
    { label: 'node CPU per REGISTER, db_mode 1', unit: 'µs', kdmq: 'db1.cpuUs' },
    { label: 'node CPU per REGISTER, db_mode 2', unit: 'µs', kdmq: 'db2.cpuUs' },
  ],
  available: () => (avail().sipp ? undefined : 'sipp not installed'),
  async run(ctx) {
    // 10 s steps in full mode: three ladders per run (db_mode 0, 1, 2) keep the full bench under 30 min
    const seconds = ctx.quick ? 5 : 10;
    const modes: Array<0 | 1 | 2> = [0, 1, 2];
    const order = [...modes.slice(ctx.run % 3), ...modes.slice(0, ctx.run % 3)];
    const out: Samples = {};
    for (const m of order) Object.assign(out, await one(m, ctx, seconds));
    return out;
  },
};
