// Anti-entropy adapter of the location store (specs/anti-entropy.md A3): bindings and remembered
// deletes keyed by AoR + contact (instance/reg-id when given, as the store matches), bucketed by
// AoR, ordered by compareVersions (specs/replication.md R3), repairs applied as replicated
// updates/deletes (R4) and announced to Kamailio nodes as usrloc action 1/2 (§5.3).

import { compareVersions } from '../actors/binding-machine.ts';
import { formatUsrlocBody, parseUsrlocBody } from '../dmq/usrloc-body.ts';
import type { Binding } from '../registrar/binding.ts';
import { toRecord } from '../registrar/binding.ts';
import type { LocationStore } from '../registrar/store.ts';
import { ST_ACTIVE } from '../registrar/transition-table.ts';
import { addItem, bucketOf, emptySnapshot, fnv1a, seal, type Snapshot, type WireVersion } from './digest.ts';
import type { AeSource, KamailioNotice } from './source.ts';

const keyOf = (b: Binding) => `${b.aor}\n${b.instance !== '' ? `${b.instance};${b.regId}` : b.c}`;

/** [key, live, callId, cseq, lastModified, ruid] */
function wire(b: Binding, live: boolean): WireVersion {
  return [keyOf(b), live ? 1 : 0, b.callId, b.cseq, b.lastModified, b.ruid];
}

export function compareUl(a: WireVersion, b: WireVersion): number {
  const va = { callId: String(a[2]), cseq: Number(a[3]), lastModified: Number(a[4]), ruid: String(a[5]), expires: 0 };
  const vb = { callId: String(b[2]), cseq: Number(b[3]), lastModified: Number(b[4]), ruid: String(b[5]), expires: 0 };
  const c = compareVersions(va, vb);
  return c !== 0 ? Math.sign(c) : (b[1] as number) - (a[1] as number);
}

export interface UsrlocSourceOptions {
  store: LocationStore;
  /** usrloc_delete: announce deletes to Kamailio nodes */
  announceDeletes: boolean;
}

export class UsrlocSource implements AeSource {
  readonly id = 'ul' as const;
  private refs = new Map<string, Binding>();

  constructor(private readonly o: UsrlocSourceOptions) {}

  snapshot(n: number): Snapshot {
    const st = this.o.store;
    const now = st.nowSec();
    const s = emptySnapshot(n, st.clock.now());
    const refs = new Map<string, Binding>();
    const put = (b: Binding, live: boolean) => {
      const v = wire(b, live);
      const fp = live ? fnv1a(`${v[0]}\n${b.ruid}\n${b.callId}\n${b.cseq}\n${b.lastModified}\n${b.expires}`) : 0;
      const before = s.buckets[bucketOf(b.aor, n)].get(v[0]);
      addItem(s, { key: v[0], bucket: bucketOf(b.aor, n), live, fp, v }, compareUl);
      if (s.buckets[bucketOf(b.aor, n)].get(v[0]) !== before) refs.set(v[0], b);
    };
    for (const b of st.all()) if (b.expires === 0 || b.expires > now) put(b, true);
    for (const t of st.removedTombstones()) put(t, false);
    this.refs = refs;
    return seal(s);
  }

  compare(a: WireVersion, b: WireVersion): number {
    return compareUl(a, b);
  }

  record(key: string): unknown {
    const b = this.refs.get(key);
    if (!b) return null;
    const live = b.state === ST_ACTIVE && this.o.store.byRuidGet(b.ruid) === b;
    return JSON.parse(formatUsrlocBody({ action: live ? 1 : 2, contact: toRecord(b) }));
  }

  apply(rec: unknown): KamailioNotice | null {
    const m = parseUsrlocBody(JSON.stringify(rec));
    if (!m.ok || !('contact' in m.value)) return null;
    const { action, contact } = m.value;
    const out = this.o.store.applyReplicated(contact, action === 1 ? 'update' : 'delete');
    if (out === 'stale' || out === 'tombstoned' || out === 'expired') return null;
    if (action === 2 && !this.o.announceDeletes) return null;
    return { channel: 'usrloc', body: formatUsrlocBody({ action, contact }) };
  }
}
