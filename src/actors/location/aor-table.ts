// The location store's AoR → bindings table, in usrloc's order (q descending, then oldest first).
// An AoR with one binding, the usual case, maps to the binding itself: a one-element array would
// cost 184 B per binding (a JSArray and its 17-slot backing store, V8 on Node 20, measured with
// --expose-gc), over a third of the 400 B budget (specs/registrar.md "Virtual actors").
// Readers see every AoR's bindings as an array (a fresh one for a single binding).
import type { Binding } from './binding.ts';

type Entry = Binding | Binding[];

function listOf(e: Entry): readonly Binding[] {
  return Array.isArray(e) ? e : [e];
}

export class AorTable implements ReadonlyMap<string, readonly Binding[]> {
  private readonly m = new Map<string, Entry>();

  get size(): number {
    return this.m.size;
  }
  get(aor: string): readonly Binding[] | undefined {
    const e = this.m.get(aor);
    return e === undefined ? undefined : listOf(e);
  }
  has(aor: string): boolean {
    return this.m.has(aor);
  }
  keys(): IterableIterator<string> {
    return this.m.keys();
  }
  *values(): IterableIterator<readonly Binding[]> {
    for (const e of this.m.values()) yield listOf(e);
  }
  *entries(): IterableIterator<[string, readonly Binding[]]> {
    for (const [k, e] of this.m) yield [k, listOf(e)];
  }
  [Symbol.iterator](): IterableIterator<[string, readonly Binding[]]> {
    return this.entries();
  }
  forEach(f: (list: readonly Binding[], aor: string, map: ReadonlyMap<string, readonly Binding[]>) => void): void {
    for (const [k, e] of this.m) f(listOf(e), k, this);
  }

  /** every binding, AoR by AoR, without building arrays */
  *bindings(): IterableIterator<Binding> {
    for (const e of this.m.values()) {
      if (Array.isArray(e)) yield* e;
      else yield e;
    }
  }

  /** the AoR's one binding when it has exactly one (no array built), else undefined */
  single(aor: string): Binding | undefined {
    const e = this.m.get(aor);
    return e === undefined || Array.isArray(e) ? undefined : e;
  }

  /** place `b` after the last binding of its AoR whose q is not lower; the AoR's list after */
  add(b: Binding): readonly Binding[] {
    const e = this.m.get(b.aor);
    if (e === undefined) {
      this.m.set(b.aor, b);
      return [b];
    }
    if (!Array.isArray(e)) {
      const list = e.q < b.q ? [b, e] : [e, b];
      this.m.set(b.aor, list);
      return list;
    }
    place(e, b);
    return e;
  }

  /** take `b` out of its AoR; the AoR's list after (maybe empty) */
  delete(b: Binding): readonly Binding[] {
    const e = this.m.get(b.aor);
    if (e === b) {
      this.m.delete(b.aor);
      return [];
    }
    if (!Array.isArray(e)) return e === undefined ? [] : [e];
    const i = e.indexOf(b);
    if (i >= 0) e.splice(i, 1);
    if (e.length === 1) this.m.set(b.aor, e[0]);
    return e;
  }

  /** `b`'s q changed: put it back in order */
  reorder(b: Binding): void {
    const e = this.m.get(b.aor);
    if (!Array.isArray(e)) return;
    e.splice(e.indexOf(b), 1);
    place(e, b);
  }
}

/** after the last binding whose q is not lower (usrloc's q order; equal q keeps insertion order) */
function place(list: Binding[], b: Binding): void {
  let i = list.length;
  while (i > 0 && list[i - 1].q < b.q) i--;
  list.splice(i, 0, b);
}
