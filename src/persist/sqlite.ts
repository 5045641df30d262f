// The Persistence port over SQLite (better-sqlite3 v12): one file per node, WAL journal with
// synchronous=NORMAL (a committed transaction survives a process crash such as SIGKILL; an OS
// crash may lose the last ones). Bindings are rows of Kamailio's `location` table
// (location-row.ts; version 9 checked in `version`), so Kamailio's db_sqlite reads the file and
// kdmq reads Kamailio's; persistent htable items are in kdmq_htable. A file of kdmq's earlier
// schema (a JSON blob per binding) is migrated at open (sqlite-schema.ts).
// WAL checkpoints run on a worker thread (checkpointer.ts), not inside a commit on the event loop.
// The adapter measures its own write cost per row, so the persister can size a db_mode 2 flush's
// slices by time (sliceRows).

import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import type { UsrlocContact } from '../actors/channels/usrloc-body.ts';
import { startCheckpointer, type Checkpointer } from './checkpointer.ts';
import { fromRow, LOCATION_COLUMNS, toJulianDay, toRow } from './location-row.ts';
import { prepareSchema, type SchemaReport } from './sqlite-schema.ts';
import type { PersistedItem, Persistence } from './port.ts';

/** slice sizes handed to the persister, whatever the measured cost */
const MIN_SLICE_ROWS = 16;
const MAX_SLICE_ROWS = 512;
/**
 * The writer's own automatic checkpoint, a backstop behind the worker. The WAL restarts from its
 * start only when a write begins after a checkpoint that caught up with it: a writer that pauses
 * (db_mode 2's flush slices, any idle moment) gives the worker that moment; one that never pauses
 * (db_mode 1 at a steady high rate) does not, and the WAL would grow without end. Past this many
 * pages (64 MB) the writer's commit runs a PASSIVE checkpoint itself: the worker has copied nearly
 * all of it, only the tail and the syncs are left, and the next write restarts the WAL.
 */
const BACKSTOP_CHECKPOINT_PAGES = 16_384;

export interface SqliteOptions {
  /** WAL checkpoints on a worker thread (default true); false: SQLite's automatic checkpoint */
  checkpointWorker?: boolean;
  /** registrar.use_domain: the AoR is stored as username and domain */
  useDomain?: boolean;
}

const UPSERT = `INSERT INTO location (${LOCATION_COLUMNS.join(', ')}) VALUES (${LOCATION_COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT(ruid) DO UPDATE SET ${LOCATION_COLUMNS.filter((c) => c !== 'ruid').map((c) => `${c} = excluded.${c}`).join(', ')}`;

export class SqlitePersistence implements Persistence {
  private readonly db: Database.Database;
  private readonly up: Database.Statement;
  private readonly del: Database.Statement;
  private readonly upItem: Database.Statement;
  private readonly delItem: Database.Statement;
  private readonly delTable: Database.Statement;
  private readonly byAor: Database.Statement;
  private readonly delExpired: Database.Statement;
  private readonly useDomain: boolean;
  /** what the open found: a table made, bindings migrated from kdmq's earlier schema */
  readonly schema: SchemaReport;
  private readonly checkpointer: Checkpointer | null = null;
  /** measured ms per row of a multi-row writeBindings (moving average), commit included */
  private msPerRow = 0.005;

  constructor(path: string, opts: SqliteOptions = {}) {
    // loaded on first use, so a node with db_mode 0 never needs the native module
    const req = createRequire(import.meta.url);
    const Ctor = req('better-sqlite3') as new (p: string) => Database.Database;
    this.db = new Ctor(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.useDomain = opts.useDomain ?? false;
    try {
      this.schema = prepareSchema(this.db, this.useDomain);
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.up = this.db.prepare(UPSERT);
    this.del = this.db.prepare('DELETE FROM location WHERE ruid = ?');
    this.delExpired = this.db.prepare('DELETE FROM location WHERE ruid = ? AND expires <= ? AND expires > ?');
    this.byAor = this.db.prepare(this.useDomain ? 'SELECT * FROM location WHERE username = ? AND domain = ?' : 'SELECT * FROM location WHERE username = ?');
    this.upItem = this.db.prepare('INSERT INTO kdmq_htable (tbl, name, value, expire) VALUES (?, ?, ?, ?) ON CONFLICT(tbl, name) DO UPDATE SET value = excluded.value, expire = excluded.expire');
    this.delItem = this.db.prepare('DELETE FROM kdmq_htable WHERE tbl = ? AND name = ?');
    this.delTable = this.db.prepare('DELETE FROM kdmq_htable WHERE tbl = ?');
    if (opts.checkpointWorker !== false) {
      this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
      this.checkpointer = startCheckpointer(path, req.resolve('better-sqlite3'), () => {
        if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000'); // back to SQLite's default
      });
    }
  }

  /** rows of one binding transaction that take about `budgetMs` here (measured, bounded) */
  sliceRows(budgetMs: number): number {
    return Math.max(MIN_SLICE_ROWS, Math.min(MAX_SLICE_ROWS, Math.floor(budgetMs / this.msPerRow)));
  }

  loadBindings(): UsrlocContact[] {
    const out: UsrlocContact[] = [];
    for (const row of this.db.prepare('SELECT * FROM location').iterate() as Iterable<Record<string, unknown>>) {
      // a row Kamailio would refuse too is skipped; the cluster sync brings the binding back if it is alive
      const r = fromRow(row, this.useDomain);
      if (r !== null) out.push(r);
    }
    return out;
  }

  /** db_mode 3: the rows of one AoR (null if the file cannot be read) */
  loadAor(aor: string): UsrlocContact[] | null {
    const at = aor.indexOf('@');
    try {
      const rows = (this.useDomain ? this.byAor.all(at < 0 ? '' : aor.slice(0, at), at < 0 ? aor : aor.slice(at + 1)) : this.byAor.all(aor)) as Array<Record<string, unknown>>;
      return rows.map((row) => fromRow(row, this.useDomain)).filter((r): r is UsrlocContact => r !== null);
    } catch {
      return null;
    }
  }

  /** db_mode 3: rows whose expires has passed in the file too (a permanent one, the epoch, stays) */
  deleteExpired(ruids: readonly string[], nowSec: number): void {
    const now = toJulianDay(nowSec);
    const epoch = toJulianDay(0);
    this.db.transaction(() => {
      for (const k of ruids) this.delExpired.run(k, now, epoch);
    })();
  }

  writeBindings(upserts: readonly UsrlocContact[], deletes: readonly string[]): void {
    const n = upserts.length + deletes.length;
    const t0 = n >= MIN_SLICE_ROWS ? performance.now() : 0;
    this.db.transaction(() => {
      for (const r of upserts) {
        const row = toRow(r, this.useDomain, toJulianDay);
        this.up.run(...LOCATION_COLUMNS.map((c) => row[c]));
      }
      for (const k of deletes) this.del.run(k);
    })();
    // single-row writes (db_mode 1) say little about a slice's cost per row; slices do
    if (t0 > 0) this.msPerRow = 0.8 * this.msPerRow + 0.2 * Math.max(1e-4, (performance.now() - t0) / n);
  }

  loadItems(): PersistedItem[] {
    const rows = this.db.prepare('SELECT tbl, name, value, expire FROM kdmq_htable').all() as Array<{ tbl: string; name: string; value: string; expire: number }>;
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
    this.checkpointer?.stop();
    if (this.db.open) this.db.close();
  }
}
