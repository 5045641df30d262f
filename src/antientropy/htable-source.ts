// Anti-entropy adapter of the htable store (specs/anti-entropy.md A4). Kamailio's htable has no
// versions, so this keeps them beside the store: per item the time this node saw its value set
// or deleted (local and DMQ operations observed as they happen, anything else at the next scan)
// and remembered deletes for tombstone_seconds. Order: later stamp, then value text, delete on tie.

import { formatHtableBody, type HtableMessage, type HtableValue } from '../actors/channels/htable-body.ts';
import type { Clock } from '../ports/clock.ts';
import type { HtableStore } from '../htable/store.ts';
import { contribution, fnv1a, LeafIndex, leafOf, SUB, type WireVersion } from './digest.ts';
import type { AeSource, KamailioNotice } from './source.ts';

interface Ver {
  vk: string;
  stamp: number;
  dead: boolean;
  expireAt: number;
}

const vkOf = (v: HtableValue) => (v.type === 0 ? `i:${v.intval}` : `s:${v.strval}`);
const keyOf = (table: string, name: string) => `${table}\n${name}`;

export function compareHt(a: WireVersion, b: WireVersion): number {
  if (a[2] !== b[2]) return Number(a[2]) > Number(b[2]) ? 1 : -1;
  if (a[3] !== b[3]) return String(a[3]) > String(b[3]) ? 1 : -1;
  return (b[1] as number) - (a[1] as number);
}

/** a Map counting its changes: the digest is rebuilt only after one (a digest is asked per peer) */
class CountingMap<K, V> extends Map<K, V> {
  changes = 0;
  override set(k: K, v: V): this {
    this.changes++;
    return super.set(k, v);
  }
  override delete(k: K): boolean {
    this.changes++;
    return super.delete(k);
  }
}

export class HtableSource implements AeSource {
  readonly id = 'ht' as const;
  private readonly vers = new CountingMap<string, Ver>();
  /** time of the last regex/prefix delete not yet explained by a scan */
  private deleteHint: number | null = null;
  private cached: LeafIndex | null = null;
  private cachedAt = 0;
  /** vers.changes when `cached` was built */
  private cachedChanges = -1;

  constructor(private readonly store: HtableStore, private readonly clock: Clock, private readonly tombstoneMs = 300_000) {}

  /** an operation applied here (local, or from the htable channel) */
  observe(m: HtableMessage): void {
    if ('cells' in m || m.action === 1 || m.action === 3) return;
    const now = this.clock.now();
    if (m.action === 2) this.vers.set(keyOf(m.htname, m.cname), { vk: vkOf(m.value), stamp: now, dead: false, expireAt: 0 });
    else if (m.action === 4) this.vers.set(keyOf(m.htname, m.cname), { vk: '', stamp: now, dead: true, expireAt: 0 });
    else this.deleteHint = now;
  }

  /** a remembered delete holds: sync `cells` (no versions, §6.4) must not undo it */
  tombstoned(table: string, name: string): boolean {
    const r = this.vers.get(keyOf(table, name));
    return r !== undefined && r.dead && r.stamp + this.tombstoneMs >= this.clock.now();
  }

  private scan(): void {
    const now = this.clock.now();
    const seen = new Set<string>();
    for (const info of this.store.listTables()) {
      if (!info.dmqreplicate) continue;
      for (const slot of this.store.dump(info.name) ?? []) {
        for (const it of slot.items) {
          const k = keyOf(info.name, it.name);
          seen.add(k);
          const vk = vkOf(it.value);
          const r = this.vers.get(k);
          if (!r || r.dead || r.vk !== vk) this.vers.set(k, { vk, stamp: now, dead: false, expireAt: it.expireAt });
          else r.expireAt = it.expireAt;
        }
      }
    }
    for (const [k, r] of this.vers) {
      if (r.dead) {
        if (r.stamp + this.tombstoneMs < now) this.vers.delete(k);
      } else if (!seen.has(k)) {
        // expired, flushed (local only, as Kamailio) → forget; removed by a regex/prefix delete → remember
        if (this.deleteHint === null || (r.expireAt !== 0 && r.expireAt <= now)) this.vers.delete(k);
        else this.vers.set(k, { vk: '', stamp: this.deleteHint, dead: true, expireAt: 0 });
      }
    }
    this.deleteHint = null;
  }

  index(n: number, fresh: boolean): LeafIndex {
    const now = this.clock.now();
    if (!fresh && this.cached?.n === n && now - this.cachedAt < 1000) return this.cached;
    this.scan();
    this.cachedAt = now;
    if (this.cached?.n === n && this.cachedChanges === this.vers.changes) return this.cached; // nothing changed: the same digest
    const x = new LeafIndex(n, SUB);
    for (const [k, r] of this.vers) if (!r.dead) x.set(k, contribution([fnv1a(`${k}\n${r.vk}`)]));
    this.cached = x;
    this.cachedChanges = this.vers.changes;
    return x;
  }

  versions(n: number, leaves: ReadonlySet<number>): Map<number, WireVersion[]> {
    const out = new Map<number, WireVersion[]>();
    for (const l of leaves) out.set(l, []);
    for (const [k, r] of this.vers) out.get(leafOf(k, n, SUB))?.push([k, r.dead ? 0 : 1, r.stamp, r.vk]);
    return out;
  }

  compare(a: WireVersion, b: WireVersion): number {
    return compareHt(a, b);
  }

  /** [table, name, live, value | null, expire (absolute s, 0 = none), stamp] */
  record(key: string): unknown {
    const r = this.vers.get(key);
    if (!r) return null;
    const [table, name] = key.split('\n');
    if (r.dead) return [table, name, 0, null, 0, r.stamp];
    const it = this.store.get(table, name);
    if (!it) return null;
    return [table, name, 1, it.value, it.expireAt === 0 ? 0 : Math.ceil(it.expireAt / 1000), r.stamp];
  }

  apply(rec: unknown): KamailioNotice | null {
    if (!Array.isArray(rec) || rec.length !== 6) return null;
    const [table, name, live, value, expire, stamp] = rec as [unknown, unknown, unknown, unknown, unknown, unknown];
    if (typeof table !== 'string' || typeof name !== 'string' || name === '' || typeof stamp !== 'number' || typeof expire !== 'number') return null;
    const info = this.store.listTables().find((t) => t.name === table);
    if (!info?.dmqreplicate) return null;
    const k = keyOf(table, name);
    let cur = this.vers.get(k);
    const held = this.store.get(table, name);
    if (held && (!cur || cur.dead)) cur = { vk: vkOf(held.value), stamp: this.clock.now(), dead: false, expireAt: held.expireAt };
    if (live === 1) {
      if (!isValue(value)) return null;
      const vk = vkOf(value);
      if (cur && compareHt([k, 1, stamp, vk], [k, cur.dead ? 0 : 1, cur.stamp, cur.vk]) <= 0) return null;
      this.store.applyCell({ htname: table, cname: name, value, expire });
      this.vers.set(k, { vk, stamp, dead: false, expireAt: this.store.get(table, name)?.expireAt ?? 0 });
      return { channel: 'htable', body: formatHtableBody({ action: 2, htname: table, cname: name, value, mode: 1 }) };
    }
    if (!cur || cur.dead || compareHt([k, 0, stamp, ''], [k, 1, cur.stamp, cur.vk]) <= 0) {
      if (!cur || (cur.dead && cur.stamp < stamp)) this.vers.set(k, { vk: '', stamp, dead: true, expireAt: 0 });
      return null;
    }
    this.store.delete(table, name, 'dmq');
    this.vers.set(k, { vk: '', stamp, dead: true, expireAt: 0 });
    return { channel: 'htable', body: formatHtableBody({ action: 4, htname: table, cname: name, mode: 0 }) };
  }
}

function isValue(v: unknown): v is HtableValue {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (o.type === 0 && Number.isInteger(o.intval)) || (o.type === 2 && typeof o.strval === 'string');
}
