// INV-12 (specs/invariants.md): every node replaces the versions of one binding in one order.
// Each store change that moves a node from the version it held for an AoR + contact to another one
// (a refresh, a replicated update, a revive over a tombstone) is an edge "old → new" of one graph
// shared by all nodes; a strict total order (specs/replication.md R3) keeps that graph acyclic
// whatever the delivery order, and a cycle is the proof that replicas can keep different winners.
// No order is assumed here, only that there is one (INV-09 sees the same fault only when the
// divergence outlives anti-entropy, which repairs a two-way split pairwise).

import type { BindingChange } from '../actors/location/store.ts';
import type { UsrlocContact } from '../actors/channels/usrloc-body.ts';

/** a version's identity: the fields R3 orders by (equal in all = the same version) */
const idOf = (r: UsrlocContact): string => `${r.callid} ${r.cseq} @${r.last_modified} ${r.ruid}`;
/** the binding an AoR's record belongs to, as the store matches it (instance + reg-id, else contact) */
const slotOf = (r: UsrlocContact): string => (r.instance !== '' ? `${r.instance};${r.reg_id}` : r.c);

/** version id → the ids that replaced it on some node */
type Edges = Map<string, Set<string>>;

export class VersionGraph {
  /** node → AoR → binding → the version id the node holds (live, or its last one before a delete/expiry) */
  private readonly held = new Map<number, Map<string, Map<string, string>>>();
  /** AoR → binding → edges, all nodes together */
  private readonly edges = new Map<string, Map<string, Edges>>();

  /** a node (re)started with an empty store */
  started(node: number): void {
    this.held.set(node, new Map());
  }

  /** INV-12 on one store change: null, or the cycle the new edge closes */
  onChange(node: number, c: BindingChange): string | null {
    const r = c.contact;
    let byAor = this.held.get(node);
    if (byAor === undefined) this.held.set(node, (byAor = new Map()));
    let bySlot = byAor.get(r.aor);
    if (bySlot === undefined) byAor.set(r.aor, (bySlot = new Map()));
    const slot = slotOf(r);
    const id = idOf(r);
    const prev = bySlot.get(slot);
    bySlot.set(slot, id);
    // a delete or expiry reports the version removed: the node still orders by it (its tombstone)
    if (prev === undefined || prev === id || (c.kind !== 'insert' && c.kind !== 'update')) return null;
    return this.addEdge(r, slot, prev, id);
  }

  private addEdge(r: UsrlocContact, slot: string, from: string, to: string): string | null {
    let bySlot = this.edges.get(r.aor);
    if (bySlot === undefined) this.edges.set(r.aor, (bySlot = new Map()));
    let g = bySlot.get(slot);
    if (g === undefined) bySlot.set(slot, (g = new Map()));
    let out = g.get(from);
    if (out === undefined) g.set(from, (out = new Set()));
    if (out.has(to)) return null;
    out.add(to);
    const back = path(g, to, from);
    return back === null ? null : `${r.aor} ${slot}: replaced in a cycle (${[from, ...back].join(' → ')})`;
  }
}

/** the ids from `from` to `to` along the edges (both ends included), or null: depth-first */
function path(g: Edges, from: string, to: string): string[] | null {
  const seen = new Set<string>([from]);
  const stack: Array<{ id: string; trail: string[] }> = [{ id: from, trail: [from] }];
  while (stack.length > 0) {
    const { id, trail } = stack.pop()!;
    for (const next of g.get(id) ?? []) {
      if (next === to) return [...trail, to];
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push({ id: next, trail: [...trail, next] });
    }
  }
  return null;
}
