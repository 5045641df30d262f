// Anti-entropy adapter of the location store (specs/anti-entropy.md A3): bindings and remembered
// deletes keyed by AoR + contact (instance/reg-id when given, as the store matches), bucketed by
// AoR, ordered by the store's conflict order (specs/replication.md R3), repairs applied as replicated
// updates/deletes (R4) and announced to Kamailio nodes as usrloc action 1/2 (§5.3). The digest is
// kept up to date incrementally: every store change touches its AoR, recomputed at the next use.

import { versionOrder, type VersionOrder } from '../actors/location/binding-machine.ts';
import { formatUsrlocBody, parseUsrlocBody } from '../actors/channels/usrloc-body.ts';
import type { Binding } from '../actors/location/binding.ts';
import { toRecord } from '../actors/location/binding.ts';
import type { LocationStore } from '../actors/location/store.ts';
import { contribution, fnv1a, LeafIndex, leafOf, putNewest, SUB, type WireVersion } from './digest.ts';
import type { AeSource, KamailioNotice } from './source.ts';

const keyOf = (b: Binding) => `${b.aor}\n${b.instance !== '' ? `${b.instance};${b.regId}` : b.c}`;

/** [key, live, callId, cseq, lastModified, ruid] */
function wire(b: Binding, live: boolean): WireVersion {
  return [keyOf(b), live ? 1 : 0, b.callId, b.cseq, b.lastModified, b.ruid];
}

/**
 * fnv1a(`${keyOf(b)}\n${ruid}\n${callId}\n${cseq}\n${lastModified}\n${expires}`), hashed part by
 * part (FNV-1a runs left to right, so chaining equals hashing the joined text) without building it
 */
export function fingerprint(b: Binding): number {
  let h = fnv1a(b.aor);
  h = fnv1a('\n', h);
  if (b.instance !== '') {
    h = fnv1a(b.instance, h);
    h = fnv1a(';', h);
    h = fnv1a(String(b.regId), h);
  } else h = fnv1a(b.c, h);
  h = fnv1a('\n', fnv1a(b.ruid, fnv1a('\n', h)));
  h = fnv1a('\n', fnv1a(b.callId, h));
  h = fnv1a('\n', fnv1a(String(b.cseq), h));
  h = fnv1a('\n', fnv1a(String(b.lastModified), h));
  return fnv1a(String(b.expires), h);
}

export function compareUl(a: WireVersion, b: WireVersion, order: VersionOrder = versionOrder): number {
  const va = { callId: String(a[2]), cseq: Number(a[3]), lastModified: Number(a[4]), ruid: String(a[5]), expires: 0 };
  const vb = { callId: String(b[2]), cseq: Number(b[3]), lastModified: Number(b[4]), ruid: String(b[5]), expires: 0 };
  const c = order(va, vb);
  return c !== 0 ? Math.sign(c) : (b[1] as number) - (a[1] as number);
}

export interface UsrlocSourceOptions {
  store: LocationStore;
  /** usrloc_delete: announce deletes to Kamailio nodes */
  announceDeletes: boolean;
}

export class UsrlocSource implements AeSource {
  readonly id = 'ul' as const;
  /** digests by bucket count, built on first use, then kept up to date AoR by AoR */
  private readonly idx = new Map<number, LeafIndex>();
  private readonly dirty = new Set<string>();
  /** remembered deletes met by versions(), for record() (cleared when it grows large) */
  private refs = new Map<string, Binding>();

  /** compareUl under the store's conflict order */
  private readonly cmp = (a: WireVersion, b: WireVersion): number => compareUl(a, b, this.o.store.order);

  constructor(private readonly o: UsrlocSourceOptions) {}

  /** a binding of this AoR changed (every change of the location store must come here) */
  touch(aor: string): void {
    if (this.idx.size > 0) this.dirty.add(aor);
  }

  /** what the AoR's live bindings contribute to the digest now */
  private contrib(aor: string, now: number): number {
    const fps: number[] = [];
    for (const b of this.o.store.get(aor)) {
      if (b.expires !== 0 && b.expires <= now) continue;
      fps.push(fingerprint(b));
    }
    return contribution(fps);
  }

  index(n: number): LeafIndex {
    const now = this.o.store.nowSec();
    if (this.dirty.size > 0) {
      for (const aor of this.dirty) {
        const c = this.contrib(aor, now);
        for (const x of this.idx.values()) x.set(aor, c);
      }
      this.dirty.clear();
    }
    let x = this.idx.get(n);
    if (!x) {
      if (this.idx.size >= 4) this.idx.clear(); // peers with many bucket counts: rebuild as asked
      x = new LeafIndex(n, SUB);
      for (const aor of this.o.store.aors.keys()) x.set(aor, this.contrib(aor, now));
      this.idx.set(n, x);
    }
    return x;
  }

  versions(n: number, leaves: ReadonlySet<number>): Map<number, WireVersion[]> {
    const st = this.o.store;
    const now = st.nowSec();
    const x = this.index(n);
    const byLeaf = new Map<number, Map<string, WireVersion>>();
    for (const l of leaves) byLeaf.set(l, new Map());
    for (const [l, aors] of x.groupsIn(leaves)) {
      const m = byLeaf.get(l)!;
      for (const aor of aors) for (const b of st.get(aor)) if (b.expires === 0 || b.expires > now) putNewest(m, wire(b, true), this.cmp);
    }
    if (this.refs.size > 100_000) this.refs = new Map();
    for (const t of st.removedTombstones()) {
      const m = byLeaf.get(leafOf(t.aor, n, SUB));
      if (m && putNewest(m, wire(t, false), this.cmp)) this.refs.set(keyOf(t), t);
    }
    const out = new Map<number, WireVersion[]>();
    for (const [l, m] of byLeaf) out.set(l, [...m.values()]);
    return out;
  }

  compare(a: WireVersion, b: WireVersion): number {
    return this.cmp(a, b);
  }

  record(key: string): unknown {
    const now = this.o.store.nowSec();
    const aor = key.slice(0, key.indexOf('\n'));
    const live = this.o.store.get(aor).find((b) => keyOf(b) === key && (b.expires === 0 || b.expires > now));
    const t = this.refs.get(key);
    // the version versions() showed: a remembered delete newer than the live binding wins
    const dead = t !== undefined && (!live || this.cmp(wire(t, false), wire(live, true)) > 0);
    if (dead) return JSON.parse(formatUsrlocBody({ action: 2, contact: toRecord(t) }));
    return live ? JSON.parse(formatUsrlocBody({ action: 1, contact: toRecord(live) })) : null;
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
