// Figure: REGISTER rate held by one node with digest authentication, the 401 round trip included,
// kdmq vs Kamailio 5.6.3 in the same run, order alternating. Both read the SAME SQLite subscriber
// file, made from Kamailio's own schema files (standard-create.sql, auth_db-create.sql): kdmq with
// auth.db_url sqlite:////… and calculate_ha1; Kamailio with auth_db on db_sqlite, calculate_ha1,
// auth_check("$td", "subscriber", "1") then auth_challenge and save("location"). Both keep usrloc
// in memory (db_mode 0). Every REGISTER is a new user: before each step its users are provisioned
// (one row each, clear-text password, not timed). One sipp call = REGISTER → 401 → REGISTER with
// sipp's [authentication] (MD5, qop=auth) → 200, so each call is two transactions on the node and
// one subscriber lookup (kdmq: a cache miss, the user is new; Kamailio: one query, auth_db keeps
// no cache). Ladder and hold rule as register-rate (bench/support/ladder.ts), 10 s steps (5 s
// quick), and a step is held only when the node holds exactly the acknowledged set of AoRs
// (bench/support/db-nodes.ts).

import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Figure, RunContext, Samples } from '../lib.ts';
import { figureLadder, ladderNote, ladderSamples, ladderWork } from '../support/figure-ladder.ts';
import { kamDbNode, kdmqDbNode } from '../support/db-nodes.ts';
import { alternating, avail, RATE_MAX } from './registrar-rate.ts';

const Db = createRequire(import.meta.url)('better-sqlite3') as new (p: string) => Database.Database;
const SCHEMA = '/usr/share/kamailio/db_sqlite';
const PASSWORD = 'bench-pw';
/** where the first run's ladders start (two transactions per REGISTER: about half of register-rate's 8 000/s) */
const SEED = 4000;
/** register-rate's steps with 1 000/s and 3 000/s below: a node held 1 500/s in the first small run (loaded machine) */
const AUTH_STEPS = [1000, 2000, 3000, 4000, 6000, 8000, 10_000, 12_000];

/** a fresh subscriber file from Kamailio's schema; `provision` adds the step's users */
export function subscriberFile(dir: string): { file: string; provision: (users: string[]) => Promise<void> } {
  const file = join(dir, 'subscriber.db');
  const db = new Db(file);
  db.exec(readFileSync(join(SCHEMA, 'standard-create.sql'), 'utf8') + readFileSync(join(SCHEMA, 'auth_db-create.sql'), 'utf8'));
  db.close();
  return {
    file,
    async provision(users) {
      const d = new Db(file);
      try {
        const ins = d.prepare("INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, 'kdmq.test', ?, '', '')");
        d.transaction(() => {
          for (const u of users) ins.run(u, PASSWORD);
        })();
      } finally {
        d.close();
      }
    },
  };
}

async function runOne(which: 'kdmq' | 'kam', ctx: RunContext, seconds: number, sub: ReturnType<typeof subscriberFile>): Promise<Samples> {
  const o = { password: PASSWORD, provision: sub.provision };
  const open = () => (which === 'kdmq'
    ? kdmqDbNode({ auth: { enable: true, db_url: `sqlite:///${sub.file}`, calculate_ha1: true } }, o)
    : kamDbNode({ dbUrl: `sqlite:///${sub.file}`, dbMode: 0, serverId: 1, auth: true }, o));
  const r = await figureLadder(open, ctx, { figure: 'register-auth', name: which, steps: AUTH_STEPS, seconds, seed: SEED, tag: `a${which}${ctx.run}`, max: RATE_MAX });
  return ladderSamples(which, r);
}

const SETTINGS =
  'one node, every REGISTER a new AoR with one contact (Expires 3600, 4 s response timeout), challenged 401 and sent again with MD5 qop=auth credentials (one sipp call = both transactions); ' +
  'both read one SQLite subscriber file from Kamailio\'s auth_db-create.sql (clear-text password, calculate_ha1; one lookup per new user: kdmq\'s cache misses, Kamailio\'s auth_db queries), usrloc in memory; ' +
  'kdmq: DMQ on with no peers, limits.register_rate 0, auth.cache_ttl 60; Kamailio: auth + auth_db + db_sqlite, registrar + usrloc db_mode 0, no DMQ, 4 children, shm 2 GB';

export const registerAuthFigure: Figure = {
  id: 'register-auth',
  skipQuick: 'full mode only (keeps --quick under 5 minutes)',
  title: 'REGISTER rate held by one node with digest auth (401 round trip included; subscriber table on one SQLite file)',
  runs: () => 3,
  note: () => `held only when the node holds exactly the acked AoRs (ul.dump brief / ul.lookup of every AoR sent); ${ladderNote(AUTH_STEPS, RATE_MAX)}`,
  rows: (quick) => [
    {
      label: `REGISTER-with-auth rate held, 1 node (bracketed, × ${quick ? 5 : 10} s steps)`,
      unit: 'REGISTER/s',
      kdmq: 'kdmq.held',
      kamailio: 'kam.held',
      kamailioNote: avail().kam ? undefined : 'Kamailio not installed',
      work: ladderWork([['kdmq', 'kdmq'], ['kam', 'Kamailio']], `${SETTINGS}. The held step (a REGISTER = one sipp call: 401 + 200)`),
    },
    {
      label: 'node CPU per authenticated REGISTER (both transactions) at the highest held rate', unit: 'µs', kdmq: 'kdmq.cpuUs', kamailio: 'kam.cpuUs',
      work: 'utime + stime from /proc/PID/stat over the held step (Kamailio: main process + every child), divided by the sipp calls answered 200',
    },
    { label: 'auth ladder ended on a failed step (1 = yes, 0 = still held at the maximum)', unit: '', kdmq: 'kdmq.endFailed', kamailio: 'kam.endFailed', digits: 0 },
  ],
  available: () => (!avail().sipp ? 'sipp not installed' : existsSync(join(SCHEMA, 'auth_db-create.sql')) ? undefined : `no ${SCHEMA}/auth_db-create.sql (kamailio-sqlite-modules)`),
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'kdmq-bench-auth-'));
    try {
      const sub = subscriberFile(dir);
      return await alternating(ctx, (w) => runOne(w, ctx, ctx.quick ? 5 : 10, sub));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
