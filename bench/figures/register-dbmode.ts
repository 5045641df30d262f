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
import { figureLadder, ladderNote, ladderSamples } from '../support/figure-ladder.ts';
import { avail, kdmqRegistrarNode, RATE_MAX, RATE_STEPS } from './registrar-rate.ts';

/** Where the first run's ladders start (what each mode held in the full run of 2026-11-26). */
const SEED = { 0: 8000, 1: 8000, 2: 8000 }; // one kdmq node held 8–10 k/s on 2026-12-07 (register-rate)

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
    figure: 'register-rate-dbmode', name: `db${mode}`, steps: RATE_STEPS, seconds, seed: SEED[mode], tag: `db${mode}r${ctx.run}`, max: RATE_MAX,
    log: (m) => ctx.log(`db_mode ${mode}: ${m}`),
  });
  return ladderSamples(`db${mode}`, r);
}

export const registerRateDbModeFigure: Figure = {
  id: 'register-rate-dbmode',
  skipQuick: 'full mode only (keeps --quick under 5 minutes)',
  title: 'REGISTER rate held by one kdmq node by usrloc.db_mode (SQLite via better-sqlite3)',
  runs: () => 3,
  note: () => `db file under ${tmpdir()}; WAL, synchronous=NORMAL, checkpoints on a worker thread; bracketed from the rate each mode held in the previous run; ${ladderNote(RATE_STEPS, RATE_MAX)}`,
  rows: (quick) => [
    { label: `REGISTER rate held, db_mode 0 (× ${quick ? 5 : 10} s steps)`, unit: 'REGISTER/s', kdmq: 'db0.held' },
    { label: 'REGISTER rate held, db_mode 1 (write-through)', unit: 'REGISTER/s', kdmq: 'db1.held' },
    { label: 'REGISTER rate held, db_mode 2 (write-back 5 s)', unit: 'REGISTER/s', kdmq: 'db2.held' },
    { label: 'node CPU per REGISTER, db_mode 0', unit: 'µs', kdmq: 'db0.cpuUs' },
    { label: 'node CPU per REGISTER, db_mode 1', unit: 'µs', kdmq: 'db1.cpuUs' },
    { label: 'node CPU per REGISTER, db_mode 2', unit: 'µs', kdmq: 'db2.cpuUs' },
    { label: 'db_mode 0 ladder ended on a failed step (1 = yes)', unit: '', kdmq: 'db0.endFailed', digits: 0 },
    { label: 'db_mode 1 ladder ended on a failed step (1 = yes)', unit: '', kdmq: 'db1.endFailed', digits: 0 },
    { label: 'db_mode 2 ladder ended on a failed step (1 = yes)', unit: '', kdmq: 'db2.endFailed', digits: 0 },
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
