// The subscriber port over SQLite (better-sqlite3), reading Kamailio's auth_db table as
// auth_db-create.sql makes it: subscriber(username, domain, password, ha1, ha1b), its version row
// in `version` checked at open (7, as Kamailio's db_check_table_version). Read-only; a failed query
// is a value (the registrar answers 500) and the file is opened again on a later lookup (at most
// once a second), so a database that was replaced or repaired is picked up without a restart.
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { ha1Alg, type Credentials, type Lookup, type SubscriberSource } from '../registrar/subscribers.ts';

/** table_version of `subscriber` in Kamailio 5.6's schema (auth_db-create.sql) */
export const SUBSCRIBER_TABLE_VERSION = 7;
const REOPEN_EVERY_MS = 1000;

export interface SqliteSubscriberOptions {
  path: string;
  /** true: the password column is clear text; false: it holds HA1 (and ha1b for user@domain) */
  calculateHa1: boolean;
  /** Kamailio's password_column */
  passwordColumn: string;
  /** match the domain column too (auth_db use_domain) */
  useDomain: boolean;
  /** ms since the epoch, for the reopen throttle */
  now: () => number;
}

interface Open {
  db: Database.Database;
  stmt: Database.Statement;
}

export class SqliteSubscribers implements SubscriberSource {
  private cur: Open | null;
  private lastOpen: number;

  /** opens and checks the file now: a string when it cannot be used (the caller exits 2) */
  static open(o: SqliteSubscriberOptions): SqliteSubscribers | string {
    const r = openChecked(o);
    return typeof r === 'string' ? r : new SqliteSubscribers(o, r);
  }

  private constructor(private readonly o: SqliteSubscriberOptions, first: Open) {
    this.cur = first;
    this.lastOpen = o.now();
  }

  lookup(user: string, domain: string): Lookup {
    if (this.cur === null) {
      if (this.o.now() - this.lastOpen < REOPEN_EVERY_MS) return { ok: false, error: `${this.o.path}: not open (reopened at most once a second)` };
      this.lastOpen = this.o.now();
      const r = openChecked(this.o);
      if (typeof r === 'string') return { ok: false, error: r };
      this.cur = r;
    }
    try {
      const row = (this.o.useDomain ? this.cur.stmt.get(user, domain) : this.cur.stmt.get(user)) as Record<string, unknown> | undefined;
      return { ok: true, found: row === undefined ? null : credentialsOf(row, this.o.calculateHa1) };
    } catch (e) {
      this.closeDb();
      return { ok: false, error: `${this.o.path}: ${(e as Error).message}` };
    }
  }

  close(): void {
    this.closeDb();
  }


  private closeDb(): void {
    const c = this.cur;
    this.cur = null;
    try {
      if (c?.db.open) c.db.close();
    } catch {
      // closing a broken handle: nothing more to do
    }
  }
}

/** open read-only, check the version row and that the columns exist, prepare the one query */
function openChecked(o: SqliteSubscriberOptions): Open | string {
  const req = createRequire(import.meta.url);
  const Ctor = req('better-sqlite3') as new (p: string, opts: Record<string, unknown>) => Database.Database;
  let db: Database.Database | undefined;
  try {
    // a writer holding the lock makes a reader wait at most this long (the event loop waits too)
    db = new Ctor(o.path, { readonly: true, fileMustExist: true, timeout: 100 });
    const v = db.prepare('SELECT table_version FROM version WHERE table_name = ?').get('subscriber') as { table_version: unknown } | undefined;
    if (v === undefined) throw new Error('table version has no row for subscriber (create it from Kamailio\'s auth_db-create.sql)');
    if (Number(v.table_version) !== SUBSCRIBER_TABLE_VERSION) {
      throw new Error(`table subscriber has version ${String(v.table_version)}, kdmq reads version ${SUBSCRIBER_TABLE_VERSION} (Kamailio 5.6 auth_db-create.sql)`);
    }
    const p = o.passwordColumn;
    const have = new Set((db.prepare('PRAGMA table_info(subscriber)').all() as Array<{ name: string }>).map((c) => c.name));
    if (have.size === 0) throw new Error('no table subscriber (create it from Kamailio\'s auth_db-create.sql)');
    for (const col of ['username', 'domain', p, ...(o.calculateHa1 ? [] : ['ha1b'])]) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(col) || !have.has(col)) throw new Error(`table subscriber has no column ${JSON.stringify(col)}`);
    }
    const cols = o.calculateHa1 ? `${p} AS p` : `${p} AS p, ha1b AS b`;
    const where = o.useDomain ? 'username = ? AND domain = ?' : 'username = ?';
    const stmt = db.prepare(`SELECT ${cols} FROM subscriber WHERE ${where} LIMIT 1`);
    return { db, stmt };
  } catch (e) {
    try {
      db?.close();
    } catch {
      // already broken
    }
    return `${o.path}: ${(e as Error).message}`;
  }
}

/**
 * A subscriber row as both adapters select it (`p`: the password column, `b`: ha1b) → credentials:
 * the clear-text password with calculate_ha1, else the HA1 hashes by their algorithm.
 */
export function credentialsOf(row: Record<string, unknown>, calculateHa1: boolean): Credentials {
  const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
  if (calculateHa1) return { password: text(row.p) };
  const byAlg = (hex: string): Credentials['ha1'] => {
    const alg = ha1Alg(hex);
    return alg === null ? {} : { [alg]: hex.toLowerCase() };
  };
  return { ha1: byAlg(text(row.p)), ha1b: byAlg(text(row.b)) };
}
