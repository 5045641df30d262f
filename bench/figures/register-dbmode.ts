// Figure: REGISTER rate held by one kdmq node with usrloc.db_mode 0 (memory), 1 (write-through:
// one SQLite transaction per REGISTER before its 200) and 2 (write-back every timer_interval, here
// 5 s), same ladder and hold rule as register-rate.ts (reused), order rotated per run. Target:
// db_mode 2 within 10 % of db_mode 0. SQLite file in the node's temp dir (tmpfs or disk as the
// machine has it: the note prints the path's filesystem).

import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { allocLoopbackIps } from '../../test/support/kamailio.ts';
import type { Figure, RunContext, Samples } from '../lib.ts';
import { avail, kdmqRegistrarNode, ladder, RATE_STEPS } from './registrar-rate.ts';

async function one(mode: 0 | 1 | 2, ctx: RunContext, seconds: number): Promise<Samples> {
  const [ip] = allocLoopbackIps(1);
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-dbmode-'));
  const n = await kdmqRegistrarNode(ip, { usrloc: { db_mode: mode, db_path: join(dir, 'ul.sqlite'), timer_interval: 5 } });
  try {
    const r = await ladder(n, { steps: RATE_STEPS, seconds, tag: `db${mode}r${ctx.run}`, log: (m) => ctx.log(`db_mode ${mode}: ${m}`) });
    return { [`db${mode}.held`]: r.held, [`db${mode}.cpuUs`]: r.cpuUsPerReg };
  } finally {
    await n.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const registerRateDbModeFigure: Figure = {
  id: 'register-rate-dbmode',
  skipQuick: 'full mode only (keeps --quick under 5 minutes)',
  title: 'REGISTER rate held by one kdmq node by usrloc.db_mode (SQLite via better-sqlite3)',
  runs: () => 3,
  note: () => `db file under ${tmpdir()}; WAL, synchronous=NORMAL; steps ${RATE_STEPS.join('/')} /s`,
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
