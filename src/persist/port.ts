// The Persistence port (issue "Convergence beyond Kamailio" item 3): what the location store and
// persistent htables need from durable storage, synchronous so that a write-through can finish
// before the 200 is sent. sqlite.ts implements it with better-sqlite3; memory.ts for tests.

import type { UsrlocContact } from '../actors/channels/usrloc-body.ts';
import type { HtableValue } from '../actors/channels/htable-body.ts';

export interface PersistedItem {
  table: string;
  name: string;
  value: HtableValue;
  /** absolute Unix seconds, 0 = none */
  expire: number;
}

export interface Persistence {
  loadBindings(): UsrlocContact[];
  /** one transaction: upsert by ruid, then delete by ruid */
  writeBindings(upserts: readonly UsrlocContact[], deletes: readonly string[]): void;
  /** optional: how many rows one writeBindings takes about `budgetMs` to write, as measured by the
   * adapter (db_mode 2 sizes its flush slices with it; without it, FLUSH_SLICE rows) */
  sliceRows?(budgetMs: number): number;
  /** db_mode 3: the rows of one AoR as they are in the database now (written by any node); null
   * when the database cannot answer */
  loadAor?(aor: string): UsrlocContact[] | null;
  /** db_mode 3: delete these rows only if their expires (in the database) has passed: another
   * node sharing the database may have refreshed them */
  deleteExpired?(ruids: readonly string[], nowSec: number): void;
  loadItems(): PersistedItem[];
  /** one transaction: the tables listed are replaced by `items` (their items only) */
  replaceItems(tables: readonly string[], items: readonly PersistedItem[]): void;
  /** one transaction: upsert some items, delete others ([table, name]) */
  writeItems(upserts: readonly PersistedItem[], deletes: ReadonlyArray<[string, string]>): void;
  close(): void;
}

/** in-memory twin, for tests and the simulator (survives a simulated crash if kept by the test) */
export class MemoryPersistence implements Persistence {
  readonly bindings = new Map<string, UsrlocContact>();
  readonly items = new Map<string, PersistedItem>();
  writes = 0;
  loadBindings(): UsrlocContact[] {
    return [...this.bindings.values()].map((r) => ({ ...r }));
  }
  writeBindings(up: readonly UsrlocContact[], del: readonly string[]): void {
    this.writes++;
    for (const r of up) this.bindings.set(r.ruid, { ...r });
    for (const k of del) this.bindings.delete(k);
  }
  loadItems(): PersistedItem[] {
    return [...this.items.values()];
  }
  replaceItems(tables: readonly string[], items: readonly PersistedItem[]): void {
    this.writes++;
    for (const [k, it] of this.items) if (tables.includes(it.table)) this.items.delete(k);
    for (const it of items) this.items.set(`${it.table}\n${it.name}`, it);
  }
  writeItems(up: readonly PersistedItem[], del: ReadonlyArray<[string, string]>): void {
    this.writes++;
    for (const it of up) this.items.set(`${it.table}\n${it.name}`, it);
    for (const [t, n] of del) this.items.delete(`${t}\n${n}`);
  }
  close(): void {}
}
