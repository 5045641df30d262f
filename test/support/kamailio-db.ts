// A Kamailio 5.6.3 registrar whose usrloc keeps its bindings in a database (db_sqlite or
// db_postgres; usrloc db_mode 1, 2 or 3; core server_id), for the location-table interop tests:
// one UDP SIP listener on a loopback IP, the ctl socket in its work dir, save("location") for
// REGISTER; with `auth`, auth_db on the same database first (auth_check of the To domain against
// the subscriber table, calculate_ha1 from the password column, auth_challenge with qop=auth). Started by PID (-DD -E), stopped by PID (SIGTERM: a db_mode 2 node writes what it holds
// at shutdown), every wait against a deadline.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kamailioAvailable } from './kamailio-config.ts';
import { parseUlDump, type UlAor } from './kamcmd-parse.ts';
import { killTree, pidAlive, run } from './proc.ts';
import { WaitAbortError, waitFor } from './wait.ts';

export interface KamailioDbOptions {
  ip: string;
  sipPort: number;
  /** sqlite:////abs/path.db or postgres://user:pass@host:port/db */
  dbUrl: string;
  /** 0: usrloc in memory (the database then serves auth_db only) */
  dbMode: 0 | 1 | 2 | 3;
  serverId: number;
  /** REGISTER authenticated by auth_db from the `subscriber` table of dbUrl (clear-text passwords) */
  auth?: boolean;
  /** extra modparam lines (e.g. usrloc timer_interval for a bench) */
  extra?: string[];
  /** SIP worker processes (default 1) */
  children?: number;
  /** shared / private memory in MB (default 64 / 8) */
  shmMb?: number;
  pkgMb?: number;
  /** jsonrpcs over a FIFO in the work dir (KamailioDbNode.fifo), for bench/support/kam-fifo.ts */
  jsonrpcFifo?: boolean;
}

export interface KamailioDbNode {
  readonly pid: number;
  readonly workDir: string;
  /** the jsonrpcs FIFO (with jsonrpcFifo) */
  readonly fifo: string;
  kamcmd(...args: string[]): Promise<string>;
  ulDump(): Promise<UlAor[]>;
  /** `ul.lookup location AOR` (db_mode 3 reads the database); [] when not found */
  ulLookup(aor: string): Promise<UlAor[]>;
  logTail(): string;
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

/** null when Kamailio can run this test, else why not */
export function kamailioDbMissing(kind: 'sqlite' | 'postgres'): string | null {
  const a = kamailioAvailable();
  if (!a.ok) return a.reason;
  const mod = kind === 'sqlite' ? 'db_sqlite' : 'db_postgres';
  try {
    readFileSync(join(a.moduleDir ?? '/usr/lib/x86_64-linux-gnu/kamailio/modules', `${mod}.so`));
  } catch {
    return `Kamailio's ${mod}.so is missing (Debian package kamailio-${kind === 'sqlite' ? 'sqlite' : 'postgres'}-modules)`;
  }
  return null;
}

function config(o: KamailioDbOptions, ctl: string, moduleDir: string | undefined, fifo: string): string {
  const db = o.dbUrl.startsWith('sqlite:') ? 'db_sqlite' : 'db_postgres';
  return [
    '#!KAMAILIO',
    'debug=2', 'log_stderror=yes', `children=${o.children ?? 1}`, 'auto_aliases=no', 'dns=no', 'rev_dns=no', 'disable_tcp=yes',
    `server_id=${o.serverId}`,
    `listen=udp:${o.ip}:${o.sipPort}`,
    ...(moduleDir ? [`mpath="${moduleDir}"`] : []),
    ...['kex', 'corex', 'tm', 'sl', 'pv', 'textops', 'ctl', db, 'usrloc', 'registrar', ...(o.auth ? ['auth', 'auth_db'] : []), ...(o.jsonrpcFifo ? ['jsonrpcs'] : [])].map((m) => `loadmodule "${m}.so"`),
    `modparam("ctl", "binrpc", "unix:${ctl}")`,
    ...(o.jsonrpcFifo ? ['modparam("jsonrpcs", "transport", 2)', `modparam("jsonrpcs", "fifo_name", "${fifo}")`] : []),
    `modparam("usrloc", "db_url", "${o.dbUrl}")`,
    `modparam("usrloc", "db_mode", ${o.dbMode})`,
    'modparam("usrloc", "timer_interval", 1)',
    'modparam("registrar", "max_expires", 3600)',
    ...(o.auth ? [`modparam("auth_db", "db_url", "${o.dbUrl}")`, 'modparam("auth_db", "calculate_ha1", yes)', 'modparam("auth_db", "password_column", "password")'] : []),
    ...(o.extra ?? []),
    '',
    'request_route {',
    '\tif (is_method("REGISTER")) {',
    ...(o.auth ? ['\t\tif (!auth_check("$td", "subscriber", "1")) { auth_challenge("$td", "1"); exit; }', '\t\tconsume_credentials();'] : []),
    '\t\tif (!save("location")) { sl_reply_error(); }',
    '\t\texit;',
    '\t}',
    '\tsl_reply("500", "Nope");',
    '}',
    '',
  ].join('\n');
}

export async function startKamailioDb(o: KamailioDbOptions): Promise<KamailioDbNode> {
  const avail = kamailioAvailable();
  if (!avail.ok) throw new Error(avail.reason);
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-kamdb-'));
  const ctl = join(dir, 'ctl.sock');
  const cfg = join(dir, 'kamailio.cfg');
  const logFile = join(dir, 'kamailio.log');
  const fifo = join(dir, 'kamailio_rpc.fifo');
  writeFileSync(cfg, config(o, ctl, avail.moduleDir, fifo));
  const fd = openSync(logFile, 'a');
  const child = spawn('kamailio', ['-f', cfg, '-P', join(dir, 'pid'), '-w', dir, '-Y', dir, '-DD', '-E', '-m', String(o.shmMb ?? 64), '-M', String(o.pkgMb ?? 8)], { cwd: dir, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  child.unref();
  const pid = child.pid ?? 0;
  const logTail = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-60).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const kamcmd = async (...args: string[]) => {
    const r = await run('kamcmd', ['-s', `unix:${ctl}`, ...args], 10_000);
    if (r.code !== 0 || /^error:/m.test(r.stdout)) throw new Error(`kamcmd ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  let stopped = false;
  const node: KamailioDbNode = {
    pid,
    workDir: dir,
    fifo,
    kamcmd,
    ulDump: async () => parseUlDump(await kamcmd('ul.dump')),
    async ulLookup(aor) {
      const r = await run('kamcmd', ['-s', `unix:${ctl}`, 'ul.lookup', 'location', aor], 10_000);
      if (/AOR not found/.test(r.stdout + r.stderr)) return [];
      if (r.code !== 0) throw new Error(`kamcmd ul.lookup ${aor}: ${r.stdout}${r.stderr}`);
      // ul.lookup prints { AoR: …, Contacts: { Contact: {…} … } }: as one Info of a dump
      const c = parseUlDump(`{\n\tDomains: {\n\t\tDomain: {\n\t\t\tDomain: location\n\t\t\tAoRs: {\n\t\t\t\tInfo: ${r.stdout.trim().replace(/\n/g, '\n\t\t\t\t')}\n\t\t\t}\n\t\t}\n\t}\n}`);
      return c;
    },
    logTail,
    async stop() {
      if (stopped || pid === 0) return;
      stopped = true;
      if (pidAlive(pid)) process.kill(pid, 'SIGTERM');
      try {
        await waitFor(() => !pidAlive(pid), { timeoutMs: 15_000, intervalMs: 50, what: 'Kamailio stopped' });
      } catch {
        killTree(pid, true);
      }
    },
    async cleanup() {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(async () => {
      if (!pidAlive(pid)) throw new WaitAbortError(`Kamailio exited at start:\n${logTail()}`);
      return (await run('kamcmd', ['-s', `unix:${ctl}`, 'core.version'], 2000)).code === 0;
    }, { timeoutMs: 20_000, intervalMs: 100, what: 'Kamailio answering kamcmd' });
  } catch (e) {
    await node.cleanup();
    throw e;
  }
  return node;
}
