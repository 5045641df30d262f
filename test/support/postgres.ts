// A PostgreSQL server for one test file, from Debian's packages: initdb into a fresh data directory,
// the server itself started by PID on a loopback address and a fresh port (password auth,
// scram-sha-256), stopped by PID after. initdb and postgres refuse to run as root: as root (CI)
// they run as the `postgres` user (or nobody), which owns the data directory. Kamailio's schema
// is loaded from its own files (/usr/share/kamailio/postgres/*.sql, kamailio-postgres-modules).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './loopback.ts';
import { pidAlive } from './proc.ts';
import { waitFor } from './wait.ts';

export const PG_SCHEMA_DIR = '/usr/share/kamailio/postgres';

function pgBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  for (const v of readdirSync(root).sort().reverse()) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  return null;
}

/** null when the tests can run, else why not (the missing Debian package) */
export function postgresMissing(): string | null {
  if (pgBinDir() === null) return 'PostgreSQL is not installed (Debian package postgresql)';
  if (!existsSync(join(PG_SCHEMA_DIR, 'usrloc-create.sql'))) return `no ${PG_SCHEMA_DIR}/usrloc-create.sql (Debian package kamailio-postgres-modules)`;
  return null;
}

export interface PgServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** postgres://user:pass@host:port/db */
  url(db: string): string;
  /** psql -c / -f against `db` (as the test's superuser) */
  psql(db: string, args: string[]): string;
  /** a database with Kamailio's standard, usrloc and auth_db tables from its own SQL files */
  createKamailioDb(db: string): void;
  pid(): number;
  stop(): Promise<void>;
  /** start again on the same data directory and port (after stop) */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const user of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      // no such user: the next one
    }
  }
  throw new Error('running as root and neither the postgres user nor nobody exists');
}

export async function startPostgres(host = '127.0.0.1'): Promise<PgServer> {
  const bin = pgBinDir();
  if (bin === null) throw new Error(postgresMissing() ?? 'no PostgreSQL');
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-pg-'));
  const data = join(dir, 'data');
  const user = 'kdmq';
  const password = 'kdmq-test-pw';
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`);
  const as = runAs();
  if (as) {
    chownSync(dir, as.uid, as.gid);
    chownSync(pwfile, as.uid, as.gid);
  }
  const opts = { ...(as ?? {}), cwd: dir, encoding: 'utf8' as const, stdio: 'pipe' as const };
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', user, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync'], opts);
  const port = await freeTcpPort(host);
  let child: ChildProcess | null = null;
  let log = '';
  const psqlEnv = { ...process.env, PGPASSWORD: password };
  const srv: PgServer = {
    host, port, user, password,
    url: (db) => `postgres://${user}:${password}@${host}:${port}/${db}`,
    psql: (db, args) => execFileSync('psql', ['-h', host, '-p', String(port), '-U', user, '-d', db, '-v', 'ON_ERROR_STOP=1', '-q', '-At', ...args], { env: psqlEnv, encoding: 'utf8' }),
    createKamailioDb(db) {
      srv.psql('postgres', ['-c', `CREATE DATABASE ${db}`]);
      for (const f of ['standard-create.sql', 'usrloc-create.sql', 'auth_db-create.sql']) srv.psql(db, ['-f', join(PG_SCHEMA_DIR, f)]);
    },
    pid: () => child?.pid ?? -1,
    async start() {
      const c = spawn(join(bin, 'postgres'), ['-D', data, '-h', host, '-p', String(port), '-k', dir, '-c', 'fsync=off'], { ...(as ?? {}), cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      c.stdout?.on('data', (b: Buffer) => (log += b.toString()));
      c.stderr?.on('data', (b: Buffer) => (log += b.toString()));
      await waitFor(() => {
        if (c.exitCode !== null) throw new Error(`postgres exited ${c.exitCode}: ${log.slice(-2000)}`);
        try {
          srv.psql('postgres', ['-c', 'SELECT 1']);
          return true;
        } catch {
          return false;
        }
      }, { timeoutMs: 30_000, intervalMs: 100, what: 'PostgreSQL accepting connections' });
    },
    async stop() {
      const c = child;
      if (c === null || c.pid === undefined) return;
      child = null;
      if (c.exitCode === null) process.kill(c.pid, 'SIGINT'); // fast shutdown
      await waitFor(() => !pidAlive(c.pid!), { timeoutMs: 20_000, intervalMs: 50, what: 'postgres stopped' });
    },
    async destroy() {
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await srv.start();
  return srv;
}
