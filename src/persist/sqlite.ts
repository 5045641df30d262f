// The Persistence port over SQLite (better-sqlite3 v12): one file per node, WAL journal with
// synchronous=NORMAL (a committed transaction survives a process crash such as SIGKILL; an OS
// crash may lose the last ones). Tables: location (one row per binding, by ruid) and htable.

import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import type { UsrlocContact } from '../dmq/usrloc-body.ts';
import type { PersistedItem, Persistence } from './port.ts';

export class SqlitePersistence implements Persistence {
  private readonly db: Database.Database;
  private readonly up: Database.Statement;
  private readonly del: Database.Statement;
  private readonly upItem: Database.Statement;
  private readonly delItem: Database.Statement;
  private readonly delTable: Database.Statement;

  constructor(path: string) {
    // loaded on first use, so a node with db_mode 0 never needs the native module
    const Ctor = createRequire(import.meta.url)('better-sqlite3') as new (p: string) => Database.Database;
    this.db = new Ctor(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS location (ruid TEXT PRIMARY KEY, aor TEXT NOT NULL, expires INTEGER NOT NULL, rec TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS htable (tbl TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, expire INTEGER NOT NULL, PRIMARY KEY (tbl, name));`);
    this.up = this.db.prepare('INSERT INTO location (ruid, aor, expires, rec) VALUES (?, ?, ?, ?) ON CONFLICT(ruid) DO UPDATE SET aor = excluded.aor, expires = excluded.expires, rec = excluded.rec');
    this.del = this.db.prepare('DELETE FROM location WHERE ruid = ?');
    this.upItem = this.db.prepare('INSERT INTO htable (tbl, name, value, expire) VALUES (?, ?, ?, ?) ON CONFLICT(tbl, name) DO UPDATE SET value = excluded.value, expire = excluded.expire');
    this.delItem = this.db.prepare('DELETE FROM htable WHERE tbl = ? AND name = ?');
    this.delTable = this.db.prepare('DELETE FROM htable WHERE tbl = ?');
  }

  loadBindings(): UsrlocContact[] {
    const out: UsrlocContact[] = [];
    for (const row of this.db.prepare('SELECT rec FROM location').iterate() as Iterable<{ rec: string }>) {
      try {
        out.push(JSON.parse(row.rec) as UsrlocContact);
      } catch {
        // a damaged row is skipped; the cluster sync brings the binding back if it is alive
      }
    }
    return out;
  }

  writeBindings(upserts: readonly UsrlocContact[], deletes: readonly string[]): void {
    this.db.transaction(() => {
      for (const r of upserts) this.up.run(r.ruid, r.aor, r.expires, JSON.stringify(r));
      for (const k of deletes) this.del.run(k);
    })();
  }

  loadItems(): PersistedItem[] {
    const rows = this.db.prepare('SELECT tbl, name, value, expire FROM htable').all() as Array<{ tbl: string; name: string; value: string; expire: number }>;
    const out: PersistedItem[] = [];
    for (const r of rows) {
      try {
        out.push({ table: r.tbl, name: r.name, value: JSON.parse(r.value), expire: r.expire });
      } catch {
        // skipped, as above
      }
    }
    return out;
  }

  replaceItems(tables: readonly string[], items: readonly PersistedItem[]): void {
    this.db.transaction(() => {
      for (const t of tables) this.delTable.run(t);
      for (const it of items) this.upItem.run(it.table, it.name, JSON.stringify(it.value), it.expire);
    })();
  }

  writeItems(upserts: readonly PersistedItem[], deletes: ReadonlyArray<[string, string]>): void {
    this.db.transaction(() => {
      for (const it of upserts) this.upItem.run(it.table, it.name, JSON.stringify(it.value), it.expire);
      for (const [t, n] of deletes) this.delItem.run(t, n);
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
