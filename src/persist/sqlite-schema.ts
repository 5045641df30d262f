// The schema of a node's SQLite file, made or checked at open: Kamailio's `version` and `location`
// tables (made as usrloc-create.sql makes them when absent; a present one must have version 9 and
// the columns kdmq writes), and kdmq_htable for persistent htable items. A file of kdmq's earlier
// schema is migrated in one transaction: location(ruid, aor, expires, rec JSON) becomes rows of
// Kamailio's table, the old kdmq `htable(tbl, name, value, expire)` becomes kdmq_htable (the name
// `htable` is Kamailio's htable module table, htable-create.sql).
import type Database from 'better-sqlite3';
import type { UsrlocContact } from '../actors/channels/usrloc-body.ts';
import { LOCATION_COLUMNS, LOCATION_TABLE_VERSION, locationDdl, toJulianDay, toRow, versionDdl } from './location-row.ts';

export interface SchemaReport {
  created: boolean;
  /** bindings moved from kdmq's earlier schema (0 when there was none) */
  migrated: number;
}

function columns(db: Database.Database, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name));
}

function setVersion(db: Database.Database, table: string, v: number): void {
  db.prepare('INSERT INTO version (table_name, table_version) VALUES (?, ?) ON CONFLICT(table_name) DO UPDATE SET table_version = excluded.table_version').run(table, v);
}

/** throws an Error whose message says what is wrong (the caller names the config key) */
export function prepareSchema(db: Database.Database, useDomain: boolean): SchemaReport {
  const report: SchemaReport = { created: false, migrated: 0 };
  db.transaction(() => {
    if (columns(db, 'version').size === 0) {
      db.exec(versionDdl('INTEGER'));
      setVersion(db, 'version', 1);
    }
    const loc = columns(db, 'location');
    if (loc.has('rec') && !loc.has('contact')) report.migrated = migrateLocation(db, useDomain);
    else if (loc.size === 0) {
      for (const s of locationDdl('INTEGER')) db.exec(s);
      setVersion(db, 'location', LOCATION_TABLE_VERSION);
      report.created = true;
    }
    checkLocation(db);
    const ht = columns(db, 'htable');
    db.exec('CREATE TABLE IF NOT EXISTS kdmq_htable (tbl TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, expire INTEGER NOT NULL, PRIMARY KEY (tbl, name))');
    if (ht.has('tbl') && ht.has('value') && !ht.has('key_name')) {
      db.exec('INSERT OR REPLACE INTO kdmq_htable (tbl, name, value, expire) SELECT tbl, name, value, expire FROM htable; DROP TABLE htable');
    }
  })();
  return report;
}

/** the version row and the columns kdmq writes (Kamailio's db_check_table_version) */
export function checkLocation(db: Database.Database): void {
  const v = db.prepare('SELECT table_version FROM version WHERE table_name = ?').get('location') as { table_version: unknown } | undefined;
  if (v === undefined) throw new Error('table version has no row for location (create the table from Kamailio\'s usrloc-create.sql)');
  if (Number(v.table_version) !== LOCATION_TABLE_VERSION) {
    throw new Error(`table location has version ${String(v.table_version)}, kdmq reads version ${LOCATION_TABLE_VERSION} (Kamailio 5.6 usrloc-create.sql)`);
  }
  const have = columns(db, 'location');
  for (const c of LOCATION_COLUMNS) if (!have.has(c)) throw new Error(`table location has no column ${c}`);
}

function migrateLocation(db: Database.Database, useDomain: boolean): number {
  db.exec('ALTER TABLE location RENAME TO kdmq_location_v0');
  for (const s of locationDdl('INTEGER')) db.exec(s);
  setVersion(db, 'location', LOCATION_TABLE_VERSION);
  const ins = db.prepare(`INSERT OR REPLACE INTO location (${LOCATION_COLUMNS.join(', ')}) VALUES (${LOCATION_COLUMNS.map(() => '?').join(', ')})`);
  let n = 0;
  for (const old of db.prepare('SELECT rec FROM kdmq_location_v0').all() as Array<{ rec: string }>) {
    let r: UsrlocContact;
    try {
      r = JSON.parse(old.rec) as UsrlocContact;
    } catch {
      continue; // a damaged row was skipped by the earlier schema's load too
    }
    if (typeof r?.ruid !== 'string' || typeof r.c !== 'string') continue;
    const row = toRow(r, useDomain, toJulianDay);
    ins.run(...LOCATION_COLUMNS.map((c) => row[c]));
    n++;
  }
  db.exec('DROP TABLE kdmq_location_v0');
  return n;
}
