// Ladder systems (RegistrarNode) of the database figures, register-auth and register-dbmode-pg:
// one kdmq node or one Kamailio 5.6.3 node (test/support/kamailio-db.ts: usrloc db_mode 0/1/3 on
// db_sqlite or db_postgres, auth_db on the same database) on a fresh loopback address. A step is
// held only when the node holds exactly the acknowledged set (RegistrarNode.replicated, which the
// ladder requires to be ok): the set of the step's AoRs the node holds, read from the node itself
// (kdmq: ul.dump brief over its JSON-RPC; Kamailio: `ul.lookup location AoR` for every AoR the step
// sent, over the jsonrpcs FIFO, as the cluster figure reads it), and with a location table the
// rows of the step's AoRs in the database, must all be one set of exactly as many AoRs as sipp
// counted answered 200 (every REGISTER is a new AoR with one contact, so that set is the acked set).

import pg from 'pg';
import { allocLoopbackIps, freeUdpPort } from '../../test/support/loopback.ts';
import { startKamailioDb, type KamailioDbOptions } from '../../test/support/kamailio-db.ts';
import { parseStats } from '../../test/support/kamcmd-parse.ts';
import { descendants } from '../../test/support/proc.ts';
import { cpuOf, kdmqRegistrarNode } from '../figures/registrar-rate.ts';
import { compareSets } from './cluster-nodes.ts';
import { kamFifoMany } from './kam-fifo.ts';
import type { RegistrarNode } from './ladder.ts';

async function pgQuery<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** the step's AoRs in a PostgreSQL location table */
export async function pgAors(url: string, prefix: string): Promise<Set<string>> {
  return new Set((await pgQuery<{ username: string }>(url, 'SELECT username FROM location WHERE username LIKE $1', [`${prefix}%`])).map((x) => x.username));
}

/** rows of a PostgreSQL location table */
export async function pgContacts(url: string): Promise<number> {
  return Number((await pgQuery<{ n: string }>(url, 'SELECT count(*) AS n FROM location'))[0].n);
}

/** empty the location table (a fresh node starts on an empty table, as the other ladders) */
export async function pgEmptyLocation(url: string): Promise<void> {
  await pgQuery(url, 'TRUNCATE location');
}

export interface DbNodeOptions {
  /** sipp answers the 401 with this password (the subscriber rows must have it) */
  password?: string;
  provision?: (users: string[]) => Promise<void>;
  /** the step's AoRs in the database's location table (db_mode 1 and 3) */
  dbAors?: (prefix: string) => Promise<Set<string>>;
  /** false: the database is the only store (db_mode 3): its rows alone are compared */
  readNode?: boolean;
  /** the table's contacts, when the node's own statistic does not hold them (db_mode 3) */
  contacts?: () => Promise<number>;
}

const prefixed = (aors: Iterable<string>, prefix: string) => new Set([...aors].filter((a) => a.startsWith(prefix)));

/** the node's set, the database's, or both: one set of exactly `acked` AoRs */
async function ackedSet(o: DbNodeOptions, prefix: string, acked: number, node: () => Promise<Set<string>>) {
  const names: string[] = [];
  const sets: Array<Set<string>> = [];
  if (o.readNode !== false) {
    names.push('node');
    sets.push(await node());
  }
  if (o.dbAors) {
    names.push('database');
    sets.push(await o.dbAors(prefix));
  }
  return compareSets(names, sets, acked, {});
}

/** kdmq serve with `extra` config (auth, usrloc db_mode/db_url) as a one-node ladder system */
export async function kdmqDbNode(extra: Record<string, unknown>, o: DbNodeOptions): Promise<RegistrarNode> {
  const [ip] = allocLoopbackIps(1);
  const n = await kdmqRegistrarNode(ip, extra);
  return {
    ...n,
    ...(o.contacts ? { contacts: o.contacts } : {}),
    password: o.password,
    provision: o.provision,
    replicated: (prefix, acked) => ackedSet(o, prefix, acked, async () => {
      const r = (await n.proc.rpc('ul.dump', ['brief'])) as { Domains: Array<{ Domain: { AoRs: Array<{ AoR: string }> } }> };
      return prefixed(r.Domains.flatMap((d) => d.Domain.AoRs.map((a) => a.AoR)), prefix);
    }),
  };
}

/** Kamailio 5.6.3 with usrloc (and auth_db) on a database as a one-node ladder system: 4 children, shm 2 GB */
export async function kamDbNode(k: Omit<KamailioDbOptions, 'ip' | 'sipPort'>, o: DbNodeOptions): Promise<RegistrarNode> {
  const [ip] = allocLoopbackIps(1);
  const sipPort = await freeUdpPort(ip);
  const node = await startKamailioDb({
    ip, sipPort, children: 4, shmMb: 2048, pkgMb: 16, jsonrpcFifo: true,
    ...k, extra: ['modparam("usrloc", "timer_interval", 10)', 'modparam("registrar", "default_expires", 3600)', ...(k.extra ?? [])],
  });
  const stat = async (name: string) => {
    const s = parseStats(await node.kamcmd('stats.get_statistics', name));
    return s[`usrloc:${name}`] ?? s[name] ?? 0;
  };
  return {
    name: 'Kamailio',
    target: `${ip}:${sipPort}`,
    cpuSeconds: () => cpuOf([node.pid, ...descendants(node.pid)]),
    contacts: o.contacts ?? (() => stat('location_contacts')),
    password: o.password,
    provision: o.provision,
    replicated: (prefix, acked, users) => ackedSet(o, prefix, acked, async () => {
      const answers = await kamFifoMany(node.fifo, users.map((u) => ({ method: 'ul.lookup', params: ['location', u] })), { timeoutMs: 300_000 });
      const out = new Set<string>();
      answers.forEach((a, i) => {
        if (a.result) out.add(users[i]);
        else if (!/not found/i.test(a.error?.message ?? '')) throw new Error(`ul.lookup ${users[i]}: ${JSON.stringify(a.error)}`);
      });
      return out;
    }),
    stop: () => node.cleanup(),
  };
}
