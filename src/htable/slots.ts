// An htable's items as Kamailio 5.6.3 lays them out in slots (htable.dump, htable.stats): slot =
// core_case_hash(name) masked by 2^size − 1, slots ascending, within a slot by hash then insertion
// rank (hash.ts has the hash). Pure functions over the store's live items.

import type { HtableItem } from './store.ts';

export function slotMask(size: number): number {
  return size >= 32 ? 0xffffffff : 2 ** size - 1;
}

/** items grouped by slot (ascending), each slot in Kamailio's order; copies, not the store's own */
export function dumpSlots(items: Iterable<HtableItem>, size: number): Array<{ entry: number; items: HtableItem[] }> {
  const mask = slotMask(size);
  const slots = new Map<number, HtableItem[]>();
  for (const it of items) {
    const e = (it.hash & mask) >>> 0;
    const s = slots.get(e);
    if (s) s.push({ ...it });
    else slots.set(e, [{ ...it }]);
  }
  return [...slots.keys()]
    .sort((a, b) => a - b)
    .map((entry) => ({ entry, items: slots.get(entry)!.sort((a, b) => a.hash - b.hash || a.seq - b.seq) }));
}

/** slots = 2^size, all = items, min/max items per slot (min 0 while a slot is empty) */
export function slotStats(items: Iterable<HtableItem>, size: number): { slots: number; all: number; min: number; max: number } {
  const slots = 2 ** size;
  const counts = new Map<number, number>();
  let all = 0;
  for (const it of items) {
    const e = (it.hash & slotMask(size)) >>> 0;
    counts.set(e, (counts.get(e) ?? 0) + 1);
    all++;
  }
  const max = Math.max(0, ...counts.values());
  const min = counts.size < slots ? 0 : Math.min(...counts.values());
  return { slots, all, min, max };
}
