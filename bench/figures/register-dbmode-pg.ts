// Figure: REGISTER rate held by one node with the location table on PostgreSQL, usrloc db_mode 1
// (write-through: the row written before the 200, bindings also in memory) and db_mode 3 (DB only:
// each REGISTER reads its AoR's rows and writes the new one), kdmq vs Kamailio 5.6.3 (db_postgres)
// in the same run. One PostgreSQL server per run (Debian's, started by test/support/postgres.ts on
// a loopback address, fsync off for both), the database made from Kamailio's own postgres/*.sql;
// every ladder start gets a fresh node on an emptied location table. Order per run: the four
// ladders rotated (kdmq db1, Kamailio db1, kdmq db3, Kamailio db3). Ladder and hold rule as
// register-rate (bench/support/ladder.ts), 10 s steps (5 s quick); a step is held only when the
// node holds exactly the acknowledged set of AoRs: db_mode 1 the node's own set (ul.dump brief /
// ul.lookup of every AoR sent) and the table's rows, db_mode 3 the table's rows
// (bench/support/db-nodes.ts).

import type { Figure, RunContext, Samples } from '../lib.ts';
import { figureLadder, ladderNote, ladderSamples, ladderWork } from '../support/figure-ladder.ts';
import { kamDbNode, kdmqDbNode, pgAors, pgContacts, pgEmptyLocation, type DbNodeOptions } from '../support/db-nodes.ts';
import { postgresMissing, startPostgres } from '../../test/support/postgres.ts';
import { kamailioDbMissing } from '../../test/support/kamailio-db.ts';
import { avail } from './registrar-rate.ts';

/** where the first run's ladders start (a database round trip or two per REGISTER) */
const SEED = 2000;
/** lower steps than register-rate's: kdmq held 1 000/s on db_mode 1 and 3 in the first small run (loaded machine) */
const PG_STEPS = [500, 1000, 1500, 2000, 3000, 4000, 5000, 6000];
/** +1 000/s above the list up to this rate */
const PG_MAX = 20_000;

type Mode = 1 | 3;
type Sys = 'kdmq' | 'kam';
const LADDERS: Array<[Sys, Mode]> = [['kdmq', 1], ['kam', 1], ['kdmq', 3], ['kam', 3]];

async function one(sys: Sys, mode: Mode, url: string, ctx: RunContext, seconds: number): Promise<Samples> {
  const p = `${sys}${mode}`;
  const o: DbNodeOptions = { dbAors: (prefix) => pgAors(url, prefix), readNode: mode === 1, ...(mode === 3 ? { contacts: () => pgContacts(url) } : {}) };
  const open = async () => {
    await pgEmptyLocation(url);
    return sys === 'kdmq'
      ? kdmqDbNode({ usrloc: { db_mode: mode, db_url: url, server_id: 1 } }, o)
      : kamDbNode({ dbUrl: url, dbMode: mode, serverId: 2 }, o);
  };
  const r = await figureLadder(open, ctx, { figure: `register-dbmode-pg-${mode}`, name: sys, steps: PG_STEPS, seconds, seed: SEED, tag: `p${p}r${ctx.run}`, max: PG_MAX, log: (m) => ctx.log(`db_mode ${mode}: ${m}`) });
  return ladderSamples(p, r);
}

const SETTINGS = (mode: Mode) =>
  `one node, every REGISTER a new AoR with one contact (Expires 3600, 4 s response timeout), usrloc db_mode ${mode} on one PostgreSQL (fsync off) with Kamailio's location table; ` +
  (mode === 1
    ? 'work per REGISTER on both: one INSERT before the 200 (write-through), the binding also kept in memory; '
    : 'work per REGISTER on both: the AoR\'s rows read (SELECT) and the new one written (INSERT) before the 200, nothing kept between REGISTERs (kdmq reads the AoR\'s rows first, as Kamailio\'s DB-only mode); ') +
  'kdmq: DMQ on with no peers, limits.register_rate 0, one connection (its database worker thread); Kamailio: db_postgres, registrar + usrloc, no DMQ, 4 children (a connection each), shm 2 GB, timer_interval 10';

const rows = (quick: boolean, mode: Mode) => [
  {
    label: `REGISTER rate held, db_mode ${mode} on PostgreSQL (bracketed, × ${quick ? 5 : 10} s steps)`,
    unit: 'REGISTER/s', kdmq: `kdmq${mode}.held`, kamailio: `kam${mode}.held`,
    work: ladderWork([[`kdmq${mode}`, 'kdmq'], [`kam${mode}`, 'Kamailio']], `${SETTINGS(mode)}. The held step`),
  },
  { label: `node CPU per REGISTER, db_mode ${mode} (PostgreSQL's own CPU not counted)`, unit: 'µs', kdmq: `kdmq${mode}.cpuUs`, kamailio: `kam${mode}.cpuUs` },
  { label: `db_mode ${mode} ladder ended on a failed step (1 = yes)`, unit: '', kdmq: `kdmq${mode}.endFailed`, kamailio: `kam${mode}.endFailed`, digits: 0 },
];

export const registerDbModePgFigure: Figure = {
  id: 'register-dbmode-pg',
  skipQuick: 'full mode only (four ladders per run)',
  title: 'REGISTER rate held by one node, usrloc db_mode 1 and 3 on PostgreSQL (Kamailio\'s location table)',
  runs: () => 3,
  note: () => `held only when the node (db_mode 1) and the table hold exactly the acked AoRs; ${ladderNote(PG_STEPS, PG_MAX)}`,
  rows: (quick) => [...rows(quick, 1), ...rows(quick, 3)],
  available: () => (!avail().sipp ? 'sipp not installed' : (postgresMissing() ?? kamailioDbMissing('postgres') ?? undefined)),
  async run(ctx) {
    const pg = await startPostgres('127.0.0.1');
    try {
      pg.createKamailioDb('kamailio');
      const url = pg.url('kamailio');
      const order = [...LADDERS.slice(ctx.run % 4), ...LADDERS.slice(0, ctx.run % 4)];
      const out: Samples = {};
      for (const [sys, mode] of order) Object.assign(out, await one(sys, mode, url, ctx, ctx.quick ? 5 : 10));
      return out;
    } finally {
      await pg.destroy();
    }
  },
};
