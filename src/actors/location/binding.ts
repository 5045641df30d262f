// The compact record of one binding (a virtual actor's whole state) and its conversion to the
// usrloc record of kamailio-dmq-protocol.md §5.3. Fixed shape, small integers (SMIs) where V8
// allows, `methods` kept as int32: see specs/registrar.md "Virtual actors" for the heap budget.
import type { BindingVersion } from './binding-machine.ts';
import type { UsrlocContact } from '../channels/usrloc-body.ts';
import { ST_ACTIVE } from './transition-table.ts';

export type { UsrlocContact };

export class Binding implements BindingVersion {
  /** machine state code (transition-table.ts), active while stored */
  state = ST_ACTIVE;
  /** tombstones only: absolute second at which it is forgotten */
  until = 0;
  constructor(
    public aor: string,
    public ruid: string,
    public c: string,
    public received: string,
    public path: string,
    public callId: string,
    public userAgent: string,
    public instance: string,
    /** absolute Unix seconds, 0 = permanent */
    public expires: number,
    public cseq: number,
    public flags: number,
    public cflags: number,
    /** q × 1000, -1 = unspecified */
    public q: number,
    public lastModified: number,
    /** Allow bitmask as int32 (-1 = all); unsigned on the wire */
    public methods: number,
    public regId: number,
    public serverId: number,
    /** true when it arrived over DMQ (ul.dump then shows no socket, as Kamailio does) */
    public replicated: boolean,
  ) {}
}

export function toRecord(b: Binding): UsrlocContact {
  return {
    aor: b.aor, ruid: b.ruid, c: b.c, received: b.received, path: b.path, callid: b.callId,
    user_agent: b.userAgent, instance: b.instance, expires: b.expires, cseq: b.cseq, flags: b.flags,
    cflags: b.cflags, q: b.q, last_modified: b.lastModified, methods: b.methods >>> 0, reg_id: b.regId,
    server_id: b.serverId,
  };
}

/**
 * `r` as a Binding. With `like` (the binding `r` updates), a string equal to like's is taken from it
 * rather than copied again: a refresh repeats most of them.
 */
export function fromRecord(r: UsrlocContact, replicated: boolean, like?: Binding): Binding {
  return new Binding(
    detachLike(r.aor, like?.aor), detachLike(r.ruid, like?.ruid), detachLike(r.c, like?.c), detachLike(r.received, like?.received),
    detachLike(r.path, like?.path), detachLike(r.callid, like?.callId), intern(r.user_agent), intern(r.instance), r.expires, r.cseq,
    r.flags | 0, r.cflags | 0, r.q | 0, r.last_modified, r.methods | 0, r.reg_id | 0, r.server_id | 0, replicated,
  );
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

/** User-Agent and similar low-cardinality strings are shared between bindings. */
const pool = new Map<string, string>();
export function intern(s: string): string {
  if (s.length === 0) return '';
  const hit = pool.get(s);
  if (hit !== undefined) return hit;
  if (pool.size >= 4096) return detach(s);
  const own = detach(s);
  pool.set(own, own);
  return own;
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
