// The subscriber port over PostgreSQL (auth.db_url postgres://user:pass@host:port/db): Kamailio's
// auth_db `subscriber` table, version 7 checked at open, as subscriber-sqlite.ts reads it. A failed
// query (the server down, a timeout) is a value: the registrar answers 500 and logs it; the worker
// connects again on a later lookup, so a server that comes back is used without a restart.
import type { Lookup, SubscriberSource } from '../registrar/subscribers.ts';
import { redactUrl } from './pg.ts';
import { SyncPg } from './pg-sync.ts';
import { SUBSCRIBER_TABLE_VERSION, credentialsOf } from './subscriber-sqlite.ts';

export interface PgSubscriberOptions {
  url: string;
  calculateHa1: boolean;
  passwordColumn: string;
  useDomain: boolean;
  timeoutMs?: number;
}

export class PgSubscribers implements SubscriberSource {
  private readonly sql: string;

  /** connects and checks the table now: a string when it cannot be used (the caller exits 2) */
  static open(o: PgSubscriberOptions): PgSubscribers | string {
    const pg = new SyncPg(o.url, o.timeoutMs ?? 1000);
    const err = check(pg, o);
    if (err !== null) {
      pg.close();
      return `${redactUrl(o.url)}: ${err}`;
    }
    return new PgSubscribers(o, pg);
  }

  private constructor(private readonly o: PgSubscriberOptions, private readonly pg: SyncPg) {
    const p = o.passwordColumn;
    const cols = o.calculateHa1 ? `${p} AS p` : `${p} AS p, ha1b AS b`;
    this.sql = `SELECT ${cols} FROM subscriber WHERE ${o.useDomain ? 'username = $1 AND domain = $2' : 'username = $1'} LIMIT 1`;
  }

  lookup(user: string, domain: string): Lookup {
    const r = this.pg.query(this.sql, this.o.useDomain ? [user, domain] : [user]);
    if (!r.ok) return { ok: false, error: `${redactUrl(this.o.url)}: ${r.error}` };
    const row = r.rows[0];
    return { ok: true, found: row === undefined ? null : credentialsOf(row, this.o.calculateHa1) };
  }

  close(): void {
    this.pg.close();
  }

}

function check(pg: SyncPg, o: PgSubscriberOptions): string | null {
  const v = pg.query('SELECT table_version FROM version WHERE table_name = $1', ['subscriber']);
  if (!v.ok) return v.error;
  if (v.rows.length === 0) return 'table version has no row for subscriber (create it from Kamailio\'s auth_db-create.sql)';
  if (Number(v.rows[0].table_version) !== SUBSCRIBER_TABLE_VERSION) {
    return `table subscriber has version ${String(v.rows[0].table_version)}, kdmq reads version ${SUBSCRIBER_TABLE_VERSION} (Kamailio 5.6 auth_db-create.sql)`;
  }
  const cols = pg.query("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'subscriber'");
  if (!cols.ok) return cols.error;
  const have = new Set(cols.rows.map((r) => String(r.column_name)));
  if (have.size === 0) return 'no table subscriber (create it from Kamailio\'s auth_db-create.sql)';
  for (const col of ['username', 'domain', o.passwordColumn, ...(o.calculateHa1 ? [] : ['ha1b'])]) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(col) || !have.has(col)) return `table subscriber has no column ${JSON.stringify(col)}`;
  }
  return null;
}
