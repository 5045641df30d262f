// The Persistence port over PostgreSQL (usrloc.db_url postgres://user:pass@host:port/db): bindings
// are rows of Kamailio's `location` table (location-row.ts, version 9 checked; made with
// Kamailio's DDL when the database has none), persistent htable items in kdmq_htable. Calls are
// synchronous through SyncPg (a worker thread). A write that fails (the server down, a timeout)
// is logged, counted and kept: its rows are written again before the next write (the latest
// version of each ruid), so a database back after an outage gets what changed meanwhile.
import type { UsrlocContact } from '../actors/channels/usrloc-body.ts';
import { fromRow, LOCATION_COLUMNS, LOCATION_TABLE_VERSION, locationDdl, toDbTime, toRow, versionDdl } from './location-row.ts';
import { SyncPg, type PgStatement } from './pg-sync.ts';
import type { PersistedItem, Persistence } from './port.ts';

export interface PgPersistenceOptions {
  url: string;
  useDomain: boolean;
  /** a failed write (the caller logs it with the key it came from) */
  onError?: (what: string) => void;
  timeoutMs?: number;
}

const UPSERT = `INSERT INTO location (${LOCATION_COLUMNS.join(', ')}) VALUES (${LOCATION_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT (ruid) DO UPDATE SET ${LOCATION_COLUMNS.filter((c) => c !== 'ruid').map((c) => `${c} = excluded.${c}`).join(', ')}`;
const UPSERT_ITEM = 'INSERT INTO kdmq_htable (tbl, name, value, expire) VALUES ($1, $2, $3, $4) ON CONFLICT (tbl, name) DO UPDATE SET value = excluded.value, expire = excluded.expire';

/** the database's password hidden, for logs and errors */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

export class PgPersistence implements Persistence {
  /** writes that failed (kept and written again) */
  failures = 0;
  private retry = new Map<string, UsrlocContact | null>();

  /** connects and checks (or makes) the tables: a string when it cannot be used (exit 2) */
  static open(o: PgPersistenceOptions): PgPersistence | string {
    const pg = new SyncPg(o.url, o.timeoutMs ?? 2000);
    const err = prepare(pg);
    if (err !== null) {
      pg.close();
      return `${redactUrl(o.url)}: ${err}`;
    }
    return new PgPersistence(o, pg);
  }

  private constructor(private readonly o: PgPersistenceOptions, private readonly pg: SyncPg) {}

  loadBindings(): UsrlocContact[] {
    const r = this.pg.query('SELECT * FROM location');
    if (!r.ok) throw new Error(`${redactUrl(this.o.url)}: loading location: ${r.error}`);
    return r.rows.map((row) => fromRow(row, this.o.useDomain)).filter((c): c is UsrlocContact => c !== null);
  }

  loadAor(aor: string): UsrlocContact[] | null {
    if (this.retry.size > 0) this.writeBindings([], []);
    if (this.retry.size > 0) return null; // what this node wrote is not there yet: memory is newer
    const at = aor.indexOf('@');
    const r = this.o.useDomain
      ? this.pg.query('SELECT * FROM location WHERE username = $1 AND domain = $2', at < 0 ? ['', aor] : [aor.slice(0, at), aor.slice(at + 1)])
      : this.pg.query('SELECT * FROM location WHERE username = $1', [aor]);
    if (!r.ok) {
      this.o.onError?.(`reading the bindings of ${aor}: ${r.error}`);
      return null;
    }
    return r.rows.map((row) => fromRow(row, this.o.useDomain)).filter((c): c is UsrlocContact => c !== null);
  }

  writeBindings(upserts: readonly UsrlocContact[], deletes: readonly string[]): void {
    const todo = this.retry;
    this.retry = new Map();
    for (const r of upserts) todo.set(r.ruid, r);
    for (const k of deletes) todo.set(k, null);
    const st: PgStatement[] = [];
    for (const [ruid, r] of todo) {
      if (r === null) st.push({ sql: 'DELETE FROM location WHERE ruid = $1', params: [ruid] });
      else {
        const row = toRow(r, this.o.useDomain, toDbTime);
        st.push({ sql: UPSERT, params: LOCATION_COLUMNS.map((c) => row[c]) });
      }
    }
    if (st.length === 0) return;
    const res = this.pg.transaction(st);
    if (!res.ok) {
      this.failures++;
      this.retry = todo;
      this.o.onError?.(`writing ${st.length} location rows (kept, written again with the next write): ${res.error}`);
    }
  }

  deleteExpired(ruids: readonly string[], nowSec: number): void {
    const r = this.pg.transaction(ruids.map((k) => ({ sql: 'DELETE FROM location WHERE ruid = $1 AND expires <= $2 AND expires > $3', params: [k, toDbTime(nowSec), toDbTime(0)] })));
    if (!r.ok) this.o.onError?.(`deleting expired location rows: ${r.error}`);
  }

  loadItems(): PersistedItem[] {
    const r = this.pg.query('SELECT tbl, name, value, expire FROM kdmq_htable');
    if (!r.ok) throw new Error(`${redactUrl(this.o.url)}: loading kdmq_htable: ${r.error}`);
    const out: PersistedItem[] = [];
    for (const row of r.rows) {
      try {
        out.push({ table: String(row.tbl), name: String(row.name), value: JSON.parse(String(row.value)), expire: Number(row.expire) });
      } catch {
        // a damaged item is skipped
      }
    }
    return out;
  }

  replaceItems(tables: readonly string[], items: readonly PersistedItem[]): void {
    this.items([...tables.map((t) => ({ sql: 'DELETE FROM kdmq_htable WHERE tbl = $1', params: [t] })), ...items.map(itemStmt)]);
  }

  writeItems(upserts: readonly PersistedItem[], deletes: ReadonlyArray<[string, string]>): void {
    this.items([...upserts.map(itemStmt), ...deletes.map(([t, n]) => ({ sql: 'DELETE FROM kdmq_htable WHERE tbl = $1 AND name = $2', params: [t, n] }))]);
  }

  private items(st: PgStatement[]): void {
    if (st.length === 0) return;
    const r = this.pg.transaction(st);
    if (!r.ok) {
      this.failures++;
      this.o.onError?.(`writing htable items (rewritten at the next timer): ${r.error}`);
    }
  }

  close(): void {
    if (this.retry.size > 0) this.writeBindings([], []);
    this.pg.close();
  }
}

const itemStmt = (it: PersistedItem): PgStatement => ({ sql: UPSERT_ITEM, params: [it.table, it.name, JSON.stringify(it.value), it.expire] });

function prepare(pg: SyncPg): string | null {
  const tables = pg.query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()");
  if (!tables.ok) return tables.error;
  const have = new Set(tables.rows.map((r) => String(r.table_name)));
  const st: PgStatement[] = [];
  if (!have.has('version')) st.push({ sql: versionDdl('SERIAL') }, { sql: "INSERT INTO version (table_name, table_version) VALUES ('version', 1)" });
  if (!have.has('location')) {
    st.push(...locationDdl('SERIAL').map((sql) => ({ sql })));
    st.push({ sql: 'INSERT INTO version (table_name, table_version) VALUES ($1, $2) ON CONFLICT (table_name) DO UPDATE SET table_version = excluded.table_version', params: ['location', LOCATION_TABLE_VERSION] });
  }
  st.push({ sql: 'CREATE TABLE IF NOT EXISTS kdmq_htable (tbl TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, expire BIGINT NOT NULL, PRIMARY KEY (tbl, name))' });
  const made = pg.transaction(st);
  if (!made.ok) return made.error;
  const v = pg.query('SELECT table_version FROM version WHERE table_name = $1', ['location']);
  if (!v.ok) return v.error;
  if (v.rows.length === 0) return 'table version has no row for location (create the table from Kamailio\'s usrloc-create.sql)';
  if (Number(v.rows[0].table_version) !== LOCATION_TABLE_VERSION) {
    return `table location has version ${String(v.rows[0].table_version)}, kdmq reads version ${LOCATION_TABLE_VERSION} (Kamailio 5.6 usrloc-create.sql)`;
  }
  const cols = pg.query("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'location'");
  if (!cols.ok) return cols.error;
  const names = new Set(cols.rows.map((r) => String(r.column_name)));
  for (const c of LOCATION_COLUMNS) if (!names.has(c)) return `table location has no column ${c}`;
  return null;
}
