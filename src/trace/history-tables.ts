// What one node held, as far as a capture shows it: its location table (bindings by AoR + ruid)
// and its replicated htable items, changed the way Kamailio 5.6.3 changes them
// (kamailio-dmq-protocol.md §5.6, §6.3): usrloc action 1 updates the contact of that ruid in place
// or inserts it (matched by Contact URI otherwise, equal-or-lower CSeq of one Call-ID refused),
// action 2 deletes by ruid, contacts expire by their absolute `expires`; htable set / delete /
// prefix and regex deletes, `cells` answers set. Every change comes back as a BindingChange, the
// record the model checker's invariants read.

import type { BindingChange } from '../actors/location/store.ts';
import type { UsrlocContact } from '../actors/channels/usrloc-body.ts';
import type { HtableMessage } from '../actors/channels/htable-body.ts';
import { posixRegex } from '../htable/posix-regex.ts';

export type HtValue = string | number;

export class NodeTables {
  /** aor → ruid → record */
  readonly bindings = new Map<string, Map<string, UsrlocContact>>();
  /** table → name → value */
  readonly htable = new Map<string, Map<string, HtValue>>();

  clear(): void {
    this.bindings.clear();
    this.htable.clear();
  }

  bindingCount(): number {
    let n = 0;
    for (const m of this.bindings.values()) n += m.size;
    return n;
  }

  allBindings(): UsrlocContact[] {
    return [...this.bindings.values()].flatMap((m) => [...m.values()]).sort((a, b) => `${a.aor} ${a.c}`.localeCompare(`${b.aor} ${b.c}`));
  }

  htableItems(): string[] {
    return [...this.htable].flatMap(([t, m]) => [...m].map(([k, v]) => `${t} ${k}=${v}`)).sort();
  }

  /** usrloc action 1 or 2 from `origin`: the change it made (a delete of an unknown ruid is reported with held=false) */
  applyUsrloc(action: 1 | 2, r: UsrlocContact, origin: 'local' | 'replicated'): { change: BindingChange; held: boolean } | null {
    let byRuid = this.bindings.get(r.aor);
    if (action === 2) {
      const held = byRuid?.get(r.ruid);
      if (held) {
        byRuid!.delete(r.ruid);
        if (byRuid!.size === 0) this.bindings.delete(r.aor);
      }
      return { change: { kind: 'delete', contact: held ?? r, origin }, held: held !== undefined };
    }
    if (!byRuid) this.bindings.set(r.aor, (byRuid = new Map()));
    const same = byRuid.get(r.ruid);
    if (same) {
      if (JSON.stringify(same) === JSON.stringify(r)) return null;
      byRuid.set(r.ruid, r);
      return { change: { kind: 'update', contact: r, origin }, held: true };
    }
    const byContact = [...byRuid.values()].find((x) => x.c === r.c);
    if (byContact) {
      if (byContact.callid === r.callid && r.cseq <= byContact.cseq) return null; // "Invalid cseq": refused
      byRuid.delete(byContact.ruid);
      byRuid.set(r.ruid, r);
      return { change: { kind: 'update', contact: r, origin }, held: true };
    }
    byRuid.set(r.ruid, r);
    return { change: { kind: 'insert', contact: r, origin }, held: false };
  }

  /** contacts whose absolute expiry (s) is at or before `ms` */
  expire(ms: number): BindingChange[] {
    const out: BindingChange[] = [];
    for (const [aor, byRuid] of this.bindings) {
      for (const [ruid, r] of byRuid) {
        if (r.expires > 0 && r.expires * 1000 <= ms) {
          byRuid.delete(ruid);
          out.push({ kind: 'expire', contact: r, origin: 'local' });
        }
      }
      if (byRuid.size === 0) this.bindings.delete(aor);
    }
    return out;
  }

  /** an htable operation or `cells` answer: the lines it changed ("lab color=blue", "lab -color") */
  applyHtable(m: HtableMessage): string[] {
    const table = (name: string) => {
      let t = this.htable.get(name);
      if (!t) this.htable.set(name, (t = new Map()));
      return t;
    };
    const val = (v: { type: 0; intval: number } | { type: 2; strval: string }) => (v.type === 0 ? v.intval : v.strval);
    const out: string[] = [];
    const set = (ht: string, k: string, v: HtValue) => {
      const t = table(ht);
      if (t.get(k) === v) return;
      t.set(k, v);
      out.push(`${ht} ${k}=${v}`);
    };
    if ('cells' in m) {
      for (const c of m.cells) set(c.htname, c.cname, val(c.value));
      return out;
    }
    if (m.action === 2) set(m.htname, m.cname, val(m.value));
    else if (m.action === 4) {
      if (table(m.htname).delete(m.cname)) out.push(`${m.htname} -${m.cname}`);
    } else if (m.action === 5 || m.action === 6) {
      const pat = m.value.type === 2 ? m.value.strval : String(m.value.intval);
      const re = m.action === 5 ? posixRegex(pat) : null;
      const t = table(m.htname);
      for (const [k, v] of [...t]) {
        const s = m.mode === 1 ? String(v) : k;
        if (m.action === 5 ? re?.test(s) : s.startsWith(pat)) {
          t.delete(k);
          out.push(`${m.htname} -${k}`);
        }
      }
    }
    return out;
  }
}
