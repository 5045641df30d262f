// The htable store: Kamailio's named hash tables (string and 32-bit integer values, per-item
// expiry by autoexpire/updateexpire/setex, initval, one purge timer on the Clock port like
// htable's timer_interval) and the change feed for replication (protocol reference §6.3: local
// changes of dmqreplicate tables only, emitted before they are applied; flush is not replicated).
// Slot numbers and in-slot order follow 5.6.3 (cells sorted by core_case_hash), see hash.ts.

import type { HtableTableConfig } from '../config/types.ts';
import type { HtableCell, HtableMessage, HtableValue } from '../actors/channels/htable-body.ts';
import type { Clock, TimerId } from '../ports/clock.ts';
import { coreCaseHash } from './hash.ts';
import { posixRegex } from './posix-regex.ts';
import { dumpSlots, slotStats } from './slots.ts';

export type { HtableValue } from '../actors/channels/htable-body.ts';
/** an operation message as it goes on the wire (actions 2–6) */
export type HtableChange = Exclude<HtableMessage, { action: 1 } | { cells: HtableCell[] }>;
/** 'dmq' = arrived over DMQ: applied, never re-emitted */
export type Origin = 'local' | 'dmq';

export interface HtableItem {
  name: string;
  value: HtableValue;
  /** absolute ms on the Clock, 0 = never */
  expireAt: number;
  /** core_case_hash(name) */
  readonly hash: number;
  /** insertion rank, for Kamailio's order among equal hashes */
  readonly seq: number;
}

export interface HtableInfo {
  name: string;
  size: number;
  autoexpire: number;
  updateexpire: boolean;
  dmqreplicate: boolean;
  initval: string;
}

export type StoreResult<T = true> = { ok: true; value: T } | { ok: false; error: 'no-table' | 'bad-regex' | 'full'; message: string };

export interface StoreOptions {
  /** purge timer period in ms (Kamailio timer_interval, default 20 s) */
  timerIntervalMs?: number;
  /** limits.htable_max_items: a new item in a table holding this many is refused; 0/absent = none */
  maxItems?: number;
  /** one new item refused by maxItems (set, setx or a sync cell) */
  onRefused?: () => void;
}

interface Table {
  info: HtableInfo;
  items: Map<string, HtableItem>;
  seq: number;
}

const noTable = (t: string): StoreResult<never> => ({ ok: false, error: 'no-table', message: `no such htable ${t}` });
const full = (t: string): StoreResult<never> => ({ ok: false, error: 'full', message: `htable ${t} is full (limits.htable_max_items)` });

export class HtableStore {
  private readonly tables = new Map<string, Table>();
  private readonly listeners: Array<(c: HtableChange) => void> = [];
  private timer: TimerId | null = null;
  private readonly interval: number;
  private readonly maxItems: number;
  private readonly onRefused: () => void;

  constructor(
    config: Record<string, HtableTableConfig>,
    private readonly clock: Clock,
    opts: StoreOptions = {},
  ) {
    this.interval = opts.timerIntervalMs ?? 20_000;
    this.maxItems = opts.maxItems ?? 0;
    this.onRefused = opts.onRefused ?? (() => {});
    for (const [name, c] of Object.entries(config)) {
      const info: HtableInfo = { name, size: c.size, autoexpire: c.autoexpire, updateexpire: c.updateexpire, dmqreplicate: c.dmqreplicate, initval: c.initval };
      this.tables.set(name, { info, items: new Map(), seq: 0 });
    }
    if ([...this.tables.values()].some((t) => t.info.autoexpire > 0)) this.arm();
  }

  /** subscribe to local changes of dmqreplicate tables (called before the change is applied) */
  onChange(fn: (c: HtableChange) => void): void {
    this.listeners.push(fn);
  }

  has(table: string): boolean {
    return this.tables.has(table);
  }

  /** table definitions, newest definition first (Kamailio prepends each table it creates) */
  listTables(): HtableInfo[] {
    return [...this.tables.values()].reverse().map((t) => ({ ...t.info }));
  }

  set(table: string, name: string, value: HtableValue, origin: Origin = 'local'): StoreResult {
    const t = this.tables.get(table);
    if (!t) return noTable(table);
    if (this.isFull(t, name)) return full(table);
    this.emit(t, origin, { action: 2, htname: table, cname: name, value, mode: 1 });
    this.put(t, name, value, null);
    return { ok: true, value: true };
  }

  /** expire := now + seconds (0 = never); ignored for tables without autoexpire or absent keys */
  setex(table: string, name: string, seconds: number, origin: Origin = 'local'): StoreResult {
    const t = this.tables.get(table);
    if (!t) return noTable(table);
    this.emit(t, origin, { action: 3, htname: table, cname: name, value: { type: 0, intval: seconds }, mode: 0 });
    const it = this.live(t, name);
    if (it && t.info.autoexpire > 0) it.expireAt = seconds > 0 ? this.clock.now() + seconds * 1000 : 0;
    return { ok: true, value: true };
  }

  /** setxs/setxi: replicated as action 2 then action 3; seconds ≤ 0 means the table's autoexpire */
  setx(table: string, name: string, value: HtableValue, seconds: number): StoreResult {
    const t = this.tables.get(table);
    if (!t) return noTable(table);
    if (this.isFull(t, name)) return full(table);
    this.emit(t, 'local', { action: 2, htname: table, cname: name, value, mode: 1 });
    this.emit(t, 'local', { action: 3, htname: table, cname: name, value: { type: 0, intval: seconds }, mode: 0 });
    this.put(t, name, value, seconds > 0 ? this.clock.now() + seconds * 1000 : null);
    return { ok: true, value: true };
  }

  /** value: whether a live item was removed */
  delete(table: string, name: string, origin: Origin = 'local'): StoreResult<boolean> {
    const t = this.tables.get(table);
    if (!t) return noTable(table);
    this.emit(t, origin, { action: 4, htname: table, cname: name, mode: 0 });
    const found = this.live(t, name) !== undefined;
    t.items.delete(name);
    return { ok: true, value: found };
  }

  /** delete items whose name (mode 0) or string value (mode 1) matches a POSIX extended regex; value: count */
  deleteRegex(table: string, pattern: string, mode: number, origin: Origin = 'local'): StoreResult<number> {
    const t = this.tables.get(table);
    if (!t) return noTable(table);
    const re = posixRegex(pattern);
    if (!re) return { ok: false, error: 'bad-regex', message: `bad regular expression ${pattern}` };
    this.emit(t, origin, { action: 5, htname: table, value: { type: 2, strval: pattern }, mode });
    return { ok: true, value: this.removeWhere(t, mode, (s) => re.test(s)) };
  }

  /** delete items whose name (mode 0) or string value (mode 1) starts with prefix; value: count */
  deletePrefix(table: string, prefix: string, mode: number, origin: Origin = 'local'): StoreResult<number> {
    const t = this.tables.get(table);
    if (!t) return noTable(table);
    this.emit(t, origin, { action: 6, htname: table, value: { type: 2, strval: prefix }, mode });
    return { ok: true, value: this.removeWhere(t, mode, (s) => s.startsWith(prefix)) };
  }

  /** htable.flush: empties the table; not replicated (as Kamailio) */
  flush(table: string): StoreResult {
    const t = this.tables.get(table);
    if (!t) return noTable(table);
    t.items.clear();
    return { ok: true, value: true };
  }

  /** the live item, or undefined (no initval: this is what htable.get sees) */
  get(table: string, name: string): HtableItem | undefined {
    const t = this.tables.get(table);
    const it = t ? this.live(t, name) : undefined;
    return it ? { ...it } : undefined;
  }

  /** what $sht(table=>name) reads: the value, else initval (integer when numeric), else undefined */
  lookup(table: string, name: string): HtableValue | undefined {
    const t = this.tables.get(table);
    if (!t) return undefined;
    const it = this.live(t, name);
    if (it) return it.value;
    const iv = t.info.initval;
    if (iv === '') return undefined;
    return /^[+-]?\d+$/.test(iv) ? { type: 0, intval: Number(iv) | 0 } : { type: 2, strval: iv };
  }

  /** live items grouped by slot (ascending), each slot in Kamailio's order */
  dump(table: string): Array<{ entry: number; items: HtableItem[] }> | undefined {
    const t = this.tables.get(table);
    return t ? dumpSlots(this.liveItems(t), t.info.size) : undefined;
  }

  /** per table (listTables order): slots = 2^size, all = live items, min/max items per slot */
  stats(): Array<{ name: string; slots: number; all: number; min: number; max: number }> {
    return this.listTables().map((info) => ({ name: info.name, ...slotStats(this.liveItems(this.tables.get(info.name)!), info.size) }));
  }

  /** §6.4: live items of dmqreplicate tables as sync cells, expire in absolute Unix seconds */
  replicatedCells(): HtableCell[] {
    const out: HtableCell[] = [];
    for (const info of this.listTables()) {
      if (!info.dmqreplicate) continue;
      for (const slot of this.dump(info.name)!) {
        for (const it of slot.items) {
          out.push({ htname: info.name, cname: it.name, value: it.value, expire: it.expireAt === 0 ? 0 : Math.ceil(it.expireAt / 1000) });
        }
      }
    }
    return out;
  }

  /** apply one sync cell (§6.4): expire − now, or the table's autoexpire when that is ≤ 0 */
  applyCell(c: HtableCell): boolean {
    const t = this.tables.get(c.htname);
    if (!t || c.htname === '' || c.cname === '' || this.isFull(t, c.cname)) return false;
    const left = c.expire * 1000 - this.clock.now();
    this.put(t, c.cname, c.value, left > 0 ? this.clock.now() + left : null);
    return true;
  }

  /** drop expired items now (the timer does this every timerIntervalMs); value: count */
  purge(): number {
    const now = this.clock.now();
    let n = 0;
    for (const t of this.tables.values()) {
      for (const [k, it] of t.items) {
        if (it.expireAt !== 0 && it.expireAt <= now) {
          t.items.delete(k);
          n++;
        }
      }
    }
    return n;
  }

  /** stop the purge timer */
  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => {
      this.purge();
      this.arm();
    }, this.interval);
  }

  /** a new item `name` would exceed maxItems (expired items are purged first); counts the refusal */
  private isFull(t: Table, name: string): boolean {
    if (this.maxItems <= 0 || t.items.size < this.maxItems || t.items.has(name)) return false;
    this.purge();
    if (t.items.size < this.maxItems) return false;
    this.onRefused();
    return true;
  }

  private emit(t: Table, origin: Origin, c: HtableChange): void {
    if (origin !== 'local' || !t.info.dmqreplicate) return;
    for (const fn of this.listeners) fn(c);
  }

  private live(t: Table, name: string): HtableItem | undefined {
    const it = t.items.get(name);
    return it && (it.expireAt === 0 || it.expireAt > this.clock.now()) ? it : undefined;
  }

  private *liveItems(t: Table): Generator<HtableItem> {
    const now = this.clock.now();
    for (const it of t.items.values()) if (it.expireAt === 0 || it.expireAt > now) yield it;
  }

  /** set a value; expireAt null = the table's rule (autoexpire on create, updateexpire on update) */
  private put(t: Table, name: string, value: HtableValue, expireAt: number | null): void {
    const ae = t.info.autoexpire;
    const auto = ae > 0 ? this.clock.now() + ae * 1000 : 0;
    const it = this.live(t, name);
    if (it) {
      it.value = value;
      if (ae > 0 && (expireAt !== null || t.info.updateexpire)) it.expireAt = expireAt ?? auto;
      return;
    }
    const old = t.items.get(name);
    const item = { name, value, expireAt: ae > 0 ? (expireAt ?? auto) : 0, hash: old?.hash ?? coreCaseHash(name), seq: t.seq++ };
    t.items.set(name, item);
  }

  private removeWhere(t: Table, mode: number, match: (s: string) => boolean): number {
    let n = 0;
    for (const [k, it] of [...t.items]) {
      const subject = mode === 0 ? it.name : mode === 1 && it.value.type === 2 ? it.value.strval : null;
      if (subject !== null && match(subject)) {
        if (this.live(t, k)) n++;
        t.items.delete(k);
      }
    }
    return n;
  }
}
