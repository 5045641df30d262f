// `kdmq serve`'s location database from the `usrloc:` section: nothing for db_mode 0, else
// usrloc.db_url (Kamailio's form: SQLite or PostgreSQL) or the SQLite file usrloc.db_path. The
// tables are checked (or made) now: a database that cannot be used is one line naming the key
// (exit 2). A file of kdmq's earlier schema migrated at open is said in the log.
import { resolve } from 'node:path';
import { parseDbUrl } from '../config/auth.ts';
import type { KdmqConfig } from '../config/types.ts';
import type { Log } from '../ports/log.ts';
import { PgPersistence, redactUrl } from '../persist/pg.ts';
import type { Persistence } from '../persist/port.ts';
import { SqlitePersistence } from '../persist/sqlite.ts';

export type PersistSetup = { ok: true; port: Persistence | undefined } | { ok: false; error: string };

export function openPersistence(config: KdmqConfig, deps: { log: Log }): PersistSetup {
  const u = config.usrloc;
  if (u === undefined || u.db_mode === 0) return { ok: true, port: undefined };
  const useDomain = config.registrar.use_domain;
  const key = u.db_url !== undefined ? 'usrloc.db_url' : 'usrloc.db_path';
  const url = u.db_url !== undefined ? parseDbUrl(u.db_url) : { kind: 'sqlite' as const, path: u.db_path };
  if (url === null || url.kind === 'unsupported') return { ok: false, error: `config key usrloc.db_url: "${u.db_url}" is not sqlite:////absolute/path.db or postgres://user:pass@host:port/db` };
  if (url.kind === 'postgres') {
    const pg = PgPersistence.open({
      url: url.url,
      useDomain,
      onError: (what) => deps.log.log('error', `usrloc.db_url ${redactUrl(url.url)}: ${what}`),
    });
    if (typeof pg === 'string') return { ok: false, error: `config key usrloc.db_url: ${pg}` };
    deps.log.log('info', 'location table on PostgreSQL', { db_url: redactUrl(url.url), db_mode: u.db_mode, server_id: u.server_id ?? 0 });
    return { ok: true, port: pg };
  }
  try {
    const path = resolve(url.path);
    const db = new SqlitePersistence(path, { useDomain });
    if (db.schema.migrated > 0) deps.log.log('warn', 'migrated kdmq\'s earlier SQLite schema to Kamailio\'s location table', { file: path, bindings: db.schema.migrated });
    deps.log.log('info', 'location table on SQLite', { file: path, db_mode: u.db_mode, created: db.schema.created, server_id: u.server_id ?? 0 });
    return { ok: true, port: db };
  } catch (e) {
    return { ok: false, error: `config key ${key}: ${url.path}: ${(e as Error).message}` };
  }
}
