// The compact record of one binding (a virtual actor's whole state) and its conversion to the
// usrloc record of kamailio-dmq-protocol.md §5.3. One hidden class of 12 fields, small integers
// (SMIs) where V8 allows; the fields many bindings share (User-Agent, Path, q, flags, methods,
// reg-id, server_id, origin) sit in one `BindingTraits` object interned per store (TraitsPool):
// see specs/registrar.md "Virtual actors" for the heap budget (≤ 400 B per binding at 1 000 000).
import type { BindingRecord, BindingVersion } from './binding-machine.ts';
import type { UsrlocContact } from './usrloc-contact.ts';
import { ST_INITIAL } from './transition-table.ts';

export type { UsrlocContact };

/** The low-cardinality fields of a binding: many bindings share one object (TraitsPool). */
export interface BindingTraits {
  readonly path: string;
  readonly userAgent: string;
  readonly flags: number;
  readonly cflags: number;
  /** q × 1000, -1 = unspecified */
  readonly q: number;
  /** Allow bitmask as int32 (-1 = all); unsigned on the wire */
  readonly methods: number;
  readonly regId: number;
  readonly serverId: number;
  /** true when it arrived over DMQ (ul.dump then shows no socket, as Kamailio does) */
  readonly replicated: boolean;
}

/** Every field of a binding by name: what `new Binding` takes. */
export interface BindingFields extends BindingTraits {
  aor: string;
  ruid: string;
  c: string;
  received: string;
  callId: string;
  instance: string;
  /** absolute Unix seconds, 0 = permanent */
  expires: number;
  cseq: number;
  /** absolute Unix seconds */
  lastModified: number;
}

class Traits implements BindingTraits {
  readonly path: string;
  readonly userAgent: string;
  readonly flags: number;
  readonly cflags: number;
  readonly q: number;
  readonly methods: number;
  readonly regId: number;
  readonly serverId: number;
  readonly replicated: boolean;
  constructor(t: BindingTraits) {
    this.path = detach(t.path); this.userAgent = detach(t.userAgent); this.flags = t.flags | 0; this.cflags = t.cflags | 0;
    this.q = t.q | 0; this.methods = t.methods | 0; this.regId = t.regId | 0; this.serverId = t.serverId | 0; this.replicated = t.replicated;
  }
}

function sameTraits(a: BindingTraits, b: BindingTraits): boolean {
  return a.userAgent === b.userAgent && a.path === b.path && a.q === b.q && a.regId === b.regId && a.methods === b.methods
    && a.flags === b.flags && a.cflags === b.cflags && a.serverId === b.serverId && a.replicated === b.replicated;
}

/**
 * One store's shared BindingTraits (per store, never process-global: each simulated node has its
 * own). Up to `max` distinct ones are kept; beyond, a binding gets its own copy.
 */
export class TraitsPool {
  private readonly byKey = new Map<string, BindingTraits>();
  /** most REGISTERs repeat the previous one's traits: no key built for them */
  private last: BindingTraits | undefined;

  constructor(private readonly max = 4096) {}

  of(t: BindingTraits): BindingTraits {
    const last = this.last;
    if (last !== undefined && sameTraits(last, t)) return last;
    const key = `${t.flags | 0},${t.cflags | 0},${t.q | 0},${t.methods | 0},${t.regId | 0},${t.serverId | 0},${t.replicated ? 1 : 0},${t.path.length},${t.path}${t.userAgent}`;
    let hit = this.byKey.get(key);
    if (hit === undefined) {
      hit = new Traits(t);
      if (this.byKey.size < this.max) this.byKey.set(detach(key), hit);
    }
    this.last = hit;
    return hit;
  }

  size(): number {
    return this.byKey.size;
  }
}

export class Binding implements BindingRecord {
  /** machine state code (transition-table.ts STATE_NAME), the machine's initial state when new */
  state = ST_INITIAL;
  /** tombstones only: absolute second at which it is forgotten */
  until = 0;
  readonly aor: string;
  ruid: string;
  c: string;
  received: string;
  callId: string;
  instance: string;
  /** absolute Unix seconds, 0 = permanent */
  expires: number;
  cseq: number;
  lastModified: number;
  traits: BindingTraits;

  /** strings are kept as given (callers detach them from datagrams); traits interned in `pool` when given */
  constructor(f: BindingFields, pool?: TraitsPool) {
    this.aor = f.aor; this.ruid = f.ruid; this.c = f.c; this.received = f.received; this.callId = f.callId;
    this.instance = f.instance; this.expires = f.expires; this.cseq = f.cseq; this.lastModified = f.lastModified;
    this.traits = pool !== undefined ? pool.of(f) : new Traits(f);
  }

  get path(): string { return this.traits.path; }
  get userAgent(): string { return this.traits.userAgent; }
  get flags(): number { return this.traits.flags; }
  get cflags(): number { return this.traits.cflags; }
  get q(): number { return this.traits.q; }
  get methods(): number { return this.traits.methods; }
  get regId(): number { return this.traits.regId; }
  get serverId(): number { return this.traits.serverId; }
  get replicated(): boolean { return this.traits.replicated; }
}

/** a copy of `b` with its state and fields (a tombstone's copy revives without changing the tombstone others hold) */
export function copyOf(b: Binding): Binding {
  const x = new Binding({ ...b.traits, aor: b.aor, ruid: b.ruid, c: b.c, received: b.received, callId: b.callId, instance: b.instance, expires: b.expires, cseq: b.cseq, lastModified: b.lastModified });
  x.traits = b.traits;
  x.state = b.state;
  x.until = b.until;
  return x;
}

export function toRecord(b: Binding): UsrlocContact {
  const t = b.traits;
  return {
    aor: b.aor, ruid: b.ruid, c: b.c, received: b.received, path: t.path, callid: b.callId,
    user_agent: t.userAgent, instance: b.instance, expires: b.expires, cseq: b.cseq, flags: t.flags,
    cflags: t.cflags, q: t.q, last_modified: b.lastModified, methods: t.methods >>> 0, reg_id: t.regId,
    server_id: t.serverId,
  };
}

/**
 * `r` as a Binding. With `like` (the binding `r` updates), a string equal to like's is taken from it
 * rather than copied again: a refresh repeats most of them.
 */
export function fromRecord(r: UsrlocContact, replicated: boolean, like?: Binding, pool?: TraitsPool): Binding {
  return new Binding({
    aor: detachLike(r.aor, like?.aor), ruid: detachLike(r.ruid, like?.ruid), c: detachLike(r.c, like?.c),
    received: detachLike(r.received, like?.received), callId: detachLike(r.callid, like?.callId),
    instance: detachLike(r.instance, like?.instance), expires: r.expires, cseq: r.cseq, lastModified: r.last_modified,
    path: r.path, userAgent: r.user_agent, flags: r.flags | 0, cflags: r.cflags | 0, q: r.q | 0, methods: r.methods | 0,
    regId: r.reg_id | 0, serverId: r.server_id | 0, replicated,
  }, pool);
}

/** `have` when equal to `s` (a binding's own string already), else a flat copy of `s` */
function detachLike(s: string, have: string | undefined): string {
  return s === have ? have : detach(s);
}

export function versionOf(r: UsrlocContact): BindingVersion {
  return { callId: r.callid, cseq: r.cseq, lastModified: r.last_modified, ruid: r.ruid, expires: r.expires };
}

/**
 * A flat copy of a string. V8 keeps substrings of 13+ chars as slices of their parent, so a
 * Call-ID cut from a REGISTER would keep the whole datagram alive for the binding's lifetime.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

/** Kamailio's METHOD_* bits (parser/parse_methods.h); unknown names set METHOD_OTHER. */
const METHOD_BITS: Record<string, number> = {
  INVITE: 1, CANCEL: 2, ACK: 4, BYE: 8, INFO: 16, REGISTER: 32, SUBSCRIBE: 64, NOTIFY: 128,
  MESSAGE: 256, OPTIONS: 512, PRACK: 1024, UPDATE: 2048, REFER: 4096, PUBLISH: 8192, KDMQ: 16384,
  GET: 32768, POST: 65536, PUT: 131072, DELETE: 262144,
};
const METHOD_OTHER = 524288;
/** all methods, as Kamailio stores a contact without Allow (4294967295 on the wire) */
export const ALL_METHODS = -1;

/** the Allow header values (comma lists) as a bitmask; ALL_METHODS when there is none */
export function methodsMask(allow: readonly string[]): number {
  if (allow.length === 0) return ALL_METHODS;
  let m = 0;
  for (const v of allow) {
    for (const raw of v.split(',')) {
      const name = raw.trim().toUpperCase();
      if (name !== '') m |= METHOD_BITS[name] ?? METHOD_OTHER;
    }
  }
  return m;
}
