// Kamailio's usrloc db_mode for kdmq (issue "Convergence beyond Kamailio" item 3): 0 memory only,
// 1 write-through (each binding change written inside REGISTER processing, before the 200), 2
// write-back (changes collected, written every timer_interval), 3 DB-only (issue 17): written as
// 1, and an AoR's rows are read from the database before a REGISTER or ul.lookup of it
// (refreshAor), so rows other nodes wrote to a shared database count; an expiry deletes a row
// only if the database's expires has passed too. Persistent htable tables are written likewise.
// On start: load, drop what expired while down; the cluster sync then merges.

import type { HtableMessage } from '../actors/channels/htable-body.ts';
import type { HtableStore } from '../htable/store.ts';
import type { Clock, TimerId } from '../ports/clock.ts';
import type { BindingChange, LocationStore } from '../actors/location/store.ts';
import type { UsrlocContact } from '../actors/channels/usrloc-body.ts';
import type { PersistedItem, Persistence } from './port.ts';

export interface PersisterOptions {
  port: Persistence;
  mode: 1 | 2 | 3;
  timerMs: number;
  clock: Clock;
  location: LocationStore;
  htable?: { store: HtableStore; tables: string[] };
}

export interface PersisterStats {
  loaded: number;
  droppedExpired: number;
  itemsLoaded: number;
  /** transactions of binding rows */
  writes: number;
  /** binding rows written (upserts and deletes) */
  rows: number;
  flushes: number;
  /** db_mode 3: AoRs read from the database before a REGISTER or ul.lookup */
  refreshes: number;
}

/** db_mode 2: rows per transaction while draining a flush when the port cannot measure its cost
 * (MemoryPersistence: the simulator stays deterministic); the event loop runs between slices */
export const FLUSH_SLICE = 512;
/**
 * db_mode 2: time one slice may take when the port measures its cost (SQLite). Node reads at most
 * 32 datagrams per socket per event-loop turn (libuv), ≈ 2 ms of REGISTER work at 70 µs each, and
 * the next slice runs at the next turn: a 0.5 ms slice keeps the flush's share of a loaded loop
 * near 20 %, so the node keeps its full REGISTER rate while a flush drains. (512-row slices took
 * ≈ 1.6 ms plus 10-50 ms whenever a WAL checkpoint fell in one: 40 % or more of a loaded loop for
 * the length of the drain, and 10 000 REGISTER/s fell behind.)
 */
export const SLICE_BUDGET_MS = 0.5;

export class Persister {
  readonly stats: PersisterStats = { loaded: 0, droppedExpired: 0, itemsLoaded: 0, writes: 0, rows: 0, flushes: 0, refreshes: 0 };
  private loading = false;
  /** changes by ruid (the last one of each ruid wins): collected (db_mode 2), or replicated
   * changes of one task (db_mode 1) */
  private pending = new Map<string, UsrlocContact | null>();
  /** db_mode 2: a flush being written, slice by slice (oldest first) */
  private draining = new Map<string, UsrlocContact | null>();
  private drainTimer: TimerId | null = null;
  private replicatedQueued = false;
  private readonly dirtyItems = new Set<string>();
  private itemsQueued = false;
  private timer: TimerId | null = null;
  private stopped = false;

  constructor(private readonly o: PersisterOptions) {}

  get mode(): 1 | 2 | 3 {
    return this.o.mode;
  }

  /** load the file into the stores (expired rows dropped and deleted), then start the timer */
  load(): void {
    const now = Math.floor(this.o.clock.now() / 1000);
    const rows = this.o.port.loadBindings();
    const dead: string[] = [];
    this.loading = true;
    try {
      for (const r of rows) {
        if (r.expires !== 0 && r.expires <= now) {
          dead.push(r.ruid);
          this.stats.droppedExpired++;
          continue;
        }
        this.o.location.applyReplicated(r, 'update');
        this.stats.loaded++;
      }
      const ht = this.o.htable;
      if (ht) {
        for (const it of this.o.port.loadItems()) {
          if (!ht.tables.includes(it.table) || (it.expire !== 0 && it.expire <= now)) continue;
          if (ht.store.applyCell({ htname: it.table, cname: it.name, value: it.value, expire: it.expire })) this.stats.itemsLoaded++;
        }
      }
    } finally {
      this.loading = false;
    }
    // rows that lost to another row of the same binding (an older ruid) go too
    const kept = new Set(Array.from(this.o.location.all(), (b) => b.ruid));
    for (const r of rows) if (!kept.has(r.ruid) && !dead.includes(r.ruid)) dead.push(r.ruid);
    if (dead.length > 0) this.o.port.writeBindings([], dead);
    this.arm();
  }

  /** every change of the location store, whatever its origin */
  onBinding(c: BindingChange): void {
    if (this.loading || this.stopped) return;
    const rec = c.kind === 'insert' || c.kind === 'update' ? c.contact : null;
    if (this.o.mode === 3 && c.kind === 'expire') {
      if (this.pending.size > 0) this.writeReplicated();
      this.o.port.deleteExpired?.([c.contact.ruid], Math.floor(this.o.clock.now() / 1000));
      return;
    }
    if (this.o.mode !== 2 && c.origin === 'local') {
      // before the 200; an older replicated change of this ruid still queued must not come after
      if (this.pending.size > 0) this.writeReplicated();
      this.write(rec ? [rec] : [], rec ? [] : [c.contact.ruid]);
      return;
    }
    this.pending.set(c.contact.ruid, rec);
    if (this.o.mode !== 2 && !this.replicatedQueued) {
      // db_mode 1, replicated (a KDMQ, a sync batch, a repair): one transaction per task
      this.replicatedQueued = true;
      queueMicrotask(() => this.writeReplicated());
    }
  }

  private writeReplicated(): void {
    this.replicatedQueued = false;
    if (this.stopped || this.pending.size === 0) return;
    const all = this.pending;
    this.pending = new Map();
    this.writeMap(all);
  }

  private write(up: UsrlocContact[], del: string[]): void {
    this.stats.writes++;
    this.stats.rows += up.length + del.length;
    this.o.port.writeBindings(up, del);
  }

  /** write (and empty) up to `max` rows of `m`, oldest first */
  private writeMap(m: Map<string, UsrlocContact | null>, max = Infinity): void {
    const up: UsrlocContact[] = [];
    const del: string[] = [];
    for (const [ruid, rec] of m) {
      if (up.length + del.length >= max) break;
      (rec ? up.push(rec) : del.push(ruid));
      m.delete(ruid);
    }
    if (up.length + del.length > 0) this.write(up, del);
  }

  /** db_mode 2: one slice of the flush being drained, then yield to the event loop */
  private drainSlice(): void {
    this.drainTimer = null;
    if (this.stopped) return;
    this.writeMap(this.draining, this.o.port.sliceRows?.(SLICE_BUDGET_MS) ?? FLUSH_SLICE);
    if (this.draining.size > 0) this.drainTimer = this.o.clock.setTimeout(() => this.drainSlice(), 0);
  }

  /**
   * db_mode 3: make the store's bindings of `aor` what the database holds now (rows added or
   * updated by the conflict order, bindings without a row removed: another node deleted them).
   * A database that cannot answer changes nothing (the REGISTER goes on with what is in memory).
   */
  refreshAor(aor: string): void {
    if (this.o.mode !== 3 || this.stopped || this.o.port.loadAor === undefined) return;
    if (this.pending.size > 0) this.writeReplicated();
    const rows = this.o.port.loadAor(aor);
    if (rows === null) return;
    this.stats.refreshes++;
    const now = Math.floor(this.o.clock.now() / 1000);
    const live = rows.filter((r) => r.aor === aor && (r.expires === 0 || r.expires > now));
    const seen = new Set(live.map((r) => r.ruid));
    this.loading = true;
    try {
      for (const r of live) this.o.location.applyReplicated(r, 'update');
      for (const b of [...this.o.location.get(aor)]) if (!seen.has(b.ruid)) this.o.location.remove(b, 'replicated', 'delete');
    } finally {
      this.loading = false;
    }
  }

  /** an htable operation applied here (local or from the htable channel) */
  onItem(m: HtableMessage): void {
    const ht = this.o.htable;
    if (!ht || this.stopped || 'cells' in m || m.action === 1 || !ht.tables.includes(m.htname)) return;
    this.dirtyItems.add(m.action === 5 || m.action === 6 ? `${m.htname}\n*` : `${m.htname}\n${'cname' in m ? m.cname : ''}`);
    if (this.o.mode !== 2 && !this.itemsQueued) {
      this.itemsQueued = true;
      queueMicrotask(() => this.flushItems()); // after the store applied it (the feed runs before)
    }
  }

  /**
   * db_mode 2 timer: what is pending joins the flush being drained (a newer change of a ruid
   * replaces the older one in place), written FLUSH_SLICE rows per transaction with the event
   * loop running between slices. `now` (stop): everything written at once.
   */
  flush(now = false): void {
    if (this.draining.size === 0) {
      // the usual case: nothing left of the previous flush, the pending map becomes the flush
      [this.draining, this.pending] = [this.pending, this.draining];
    } else if (this.pending.size > 0) {
      for (const [ruid, rec] of this.pending) this.draining.set(ruid, rec);
      this.pending.clear();
    }
    if (now) {
      if (this.drainTimer !== null) this.o.clock.clearTimeout(this.drainTimer);
      this.drainTimer = null;
      this.writeMap(this.draining);
    } else if (this.draining.size > 0 && this.drainTimer === null) this.drainSlice();
    this.flushItems();
    this.stats.flushes++;
  }

  private flushItems(): void {
    this.itemsQueued = false;
    const ht = this.o.htable;
    if (!ht || this.dirtyItems.size === 0) return;
    const whole = ht.tables.filter((t) => this.dirtyItems.has(`${t}\n*`));
    const up: PersistedItem[] = [];
    const del: Array<[string, string]> = [];
    for (const k of this.dirtyItems) {
      const [table, name] = k.split('\n');
      if (whole.includes(table)) continue;
      const it = ht.store.get(table, name);
      if (it) up.push({ table, name, value: it.value, expire: it.expireAt === 0 ? 0 : Math.ceil(it.expireAt / 1000) });
      else del.push([table, name]);
    }
    this.dirtyItems.clear();
    if (whole.length > 0) this.o.port.replaceItems(whole, this.itemsOf(whole));
    if (up.length + del.length > 0) this.o.port.writeItems(up, del);
  }

  private itemsOf(tables: string[]): PersistedItem[] {
    const out: PersistedItem[] = [];
    for (const t of tables) {
      for (const slot of this.o.htable!.store.dump(t) ?? []) {
        for (const it of slot.items) out.push({ table: t, name: it.name, value: it.value, expire: it.expireAt === 0 ? 0 : Math.ceil(it.expireAt / 1000) });
      }
    }
    return out;
  }

  /** every timer_interval: db_mode 2 writes what is pending; both modes rewrite persistent tables
   * (items that arrived by sync or anti-entropy are not in the operation feed) */
  private arm(): void {
    this.timer = this.o.clock.setTimeout(() => {
      if (this.stopped) return;
      this.flush();
      const ht = this.o.htable;
      if (ht && ht.tables.length > 0) this.o.port.replaceItems(ht.tables, this.itemsOf(ht.tables));
      this.arm();
    }, this.o.timerMs);
  }

  /** clean stop: write what is pending and close the file */
  stop(): void {
    if (this.stopped) return;
    this.flush(true);
    this.stopped = true;
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.o.port.close();
  }

  /** crash (simulator, tests): drop what is pending, as a killed process would */
  abandon(): void {
    this.stopped = true;
    this.pending.clear();
    this.draining.clear();
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    if (this.drainTimer !== null) this.o.clock.clearTimeout(this.drainTimer);
  }
}
