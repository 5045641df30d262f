// The location store's contact matching without a scan of a large AoR's list (an AoR may hold
// hundreds of contacts: the checker's REGISTER workload puts ~300 on each of its 3 AoRs). Only
// AoRs with more than `buildAt` bindings get an index (Contact URI → bindings without
// +sip.instance, +sip.instance → bindings with one, ruid → bindings); small AoRs, the usual case,
// are scanned and cost no memory (specs/registrar.md heap budget). The store keeps it in step with
// every insert, remove and change of a binding's c/instance/ruid; match() and byRuid() answer
// exactly what `scanMatch` and `scanRuid` would.

import type { Binding } from './binding.ts';

/** one key's bindings: usually one, several only after a replicated update moved a ruid onto a taken key */
type Slot = Binding | Binding[];

class AorIndex {
  /** bindings with instance '' by Contact URI */
  readonly byUri = new Map<string, Slot>();
  /** bindings with an instance by instance (reg-id checked on the candidates) */
  readonly byInstance = new Map<string, Slot>();
  /** every binding by ruid */
  readonly byRuid = new Map<string, Slot>();

  add(b: Binding): void {
    put(b.instance === '' ? this.byUri : this.byInstance, b.instance === '' ? b.c : b.instance, b);
    put(this.byRuid, b.ruid, b);
  }

  delete(b: Binding): void {
    take(b.instance === '' ? this.byUri : this.byInstance, b.instance === '' ? b.c : b.instance, b);
    take(this.byRuid, b.ruid, b);
  }
}

function put(m: Map<string, Slot>, key: string, b: Binding): void {
  const s = m.get(key);
  if (s === undefined) m.set(key, b);
  else if (Array.isArray(s)) s.push(b);
  else m.set(key, [s, b]);
}

function take(m: Map<string, Slot>, key: string, b: Binding): void {
  const s = m.get(key);
  if (s === b) m.delete(key);
  else if (Array.isArray(s)) {
    const i = s.indexOf(b);
    if (i >= 0) s.splice(i, 1);
    if (s.length === 1) m.set(key, s[0]);
  }
}

export class ContactIndex {
  /** AoR → its index, for AoRs that grew past buildAt bindings (until they shrink to dropAt) */
  private readonly big = new Map<string, AorIndex>();

  constructor(
    private readonly buildAt = 16,
    private readonly dropAt = 8,
  ) {}

  /** `b` was just placed in `list` (its AoR's) */
  added(b: Binding, list: readonly Binding[]): void {
    const x = this.big.get(b.aor);
    if (x !== undefined) x.add(b);
    else if (list.length > this.buildAt) {
      const nx = new AorIndex();
      for (const o of list) nx.add(o);
      this.big.set(b.aor, nx);
    }
  }

  /** `b` was just taken out of `list` (its AoR's, maybe now empty) */
  removed(b: Binding, list: readonly Binding[]): void {
    const x = this.big.get(b.aor);
    if (x === undefined) return;
    if (list.length <= this.dropAt) this.big.delete(b.aor);
    else x.delete(b);
  }

  /** call before changing b's c, instance or ruid (then rekeyed after) */
  unkeyed(b: Binding): void {
    this.big.get(b.aor)?.delete(b);
  }

  rekeyed(b: Binding): void {
    this.big.get(b.aor)?.add(b);
  }

  /** AoRs indexed now (tests) */
  indexedAors(): number {
    return this.big.size;
  }

  /** the binding of `list` (the AoR's, in store order) that scanRuid returns */
  byRuid(list: readonly Binding[], aor: string, ruid: string): Binding | undefined {
    const x = this.big.get(aor);
    if (x === undefined) return scanRuid(list, ruid);
    const s = x.byRuid.get(ruid);
    return s === undefined || !Array.isArray(s) ? s : scanRuid(list, ruid);
  }

  /** the binding of `list` (the AoR's, in store order) that scanMatch returns */
  match(list: readonly Binding[], aor: string, c: string, instance: string, regId: number): Binding | undefined {
    const x = this.big.get(aor);
    if (x === undefined) return scanMatch(list, c, instance, regId);
    if (instance === '') {
      const s = x.byUri.get(c);
      return s === undefined || !Array.isArray(s) ? s : scanMatch(list, c, instance, regId);
    }
    const s = x.byInstance.get(instance);
    if (s === undefined) return undefined;
    if (!Array.isArray(s)) return s.regId === regId ? s : undefined;
    return scanMatch(list, c, instance, regId); // several with this instance: list order decides
  }
}

/** by +sip.instance and reg-id when given, else by URI among bindings without an instance: the first in list order */
export function scanMatch(list: readonly Binding[], c: string, instance: string, regId: number): Binding | undefined {
  if (instance !== '') return list.find((b) => b.instance === instance && b.regId === regId);
  return list.find((b) => b.c === c && b.instance === '');
}

/** the first binding of the list with this ruid */
export function scanRuid(list: readonly Binding[], ruid: string): Binding | undefined {
  return list.find((b) => b.ruid === ruid);
}
