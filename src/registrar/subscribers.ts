// The subscriber lookup port of digest authentication: what Kamailio's auth_db reads from its
// `subscriber` table (username, domain → password | ha1 | ha1b), the in-memory twin made from a
// users file (also the simulator's), and the bounded cache with a TTL that keeps a database out of
// the path of every REGISTER. Pure: time from the Clock port, I/O only in the sources behind it.
import type { Clock } from '../ports/clock.ts';

export type DigestAlg = 'MD5' | 'SHA-256';

/** what one subscriber gives: a clear-text password (calculate_ha1) or stored HA1s */
export interface Credentials {
  password?: string;
  /** H(username:realm:password) per algorithm (Kamailio's `ha1` column) */
  ha1?: Partial<Record<DigestAlg, string>>;
  /** H(user@domain:realm:password), for a digest username with a domain (Kamailio's `ha1b`) */
  ha1b?: Partial<Record<DigestAlg, string>>;
}

/** found: null when there is no such subscriber; ok false when the store could not answer */
export type Lookup = { ok: true; found: Credentials | null } | { ok: false; error: string };

export interface SubscriberSource {
  /**
   * `user` is the digest username up to its `@`; `domain` is the part after it or, when it has
   * none, the realm (as auth_db's get_ha1). Synchronous: SQLite answers in microseconds and the
   * registrar answers a REGISTER in one turn.
   */
  lookup(user: string, domain: string): Lookup;
  close?(): void;
}

/** HA1 hex → its algorithm by length (32: MD5, 64: SHA-256), null for anything else */
export function ha1Alg(hex: string): DigestAlg | null {
  if (!/^[0-9a-fA-F]+$/.test(hex)) return null;
  return hex.length === 32 ? 'MD5' : hex.length === 64 ? 'SHA-256' : null;
}

export interface UserEntry {
  /** `user@domain`, domain lower-cased */
  id: string;
  password?: string;
  ha1?: Partial<Record<DigestAlg, string>>;
}

/** users file: `user@domain:password`, `user@domain:md5:<HA1>` or `user@domain:sha256:<HA1>`; # comments */
export function parseUsers(text: string): Map<string, UserEntry> {
  const out = new Map<string, UserEntry>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i <= 0 || !line.slice(0, i).includes('@')) continue;
    const id = normId(line.slice(0, i));
    const rest = line.slice(i + 1);
    const m = /^(md5|sha256):([0-9a-fA-F]+)$/.exec(rest);
    const e = out.get(id) ?? { id };
    if (m !== null) e.ha1 = { ...e.ha1, [m[1] === 'md5' ? 'MD5' : 'SHA-256']: m[2].toLowerCase() };
    else e.password = rest;
    out.set(id, e);
  }
  return out;
}

/** `user@Domain` → `user@domain` */
export function normId(s: string): string {
  const i = s.lastIndexOf('@');
  return i < 0 ? s : `${s.slice(0, i)}@${s.slice(i + 1).toLowerCase()}`;
}

/** The users file (or a test's map) as a subscriber source: the line's domain is the realm it serves. */
export class MemorySubscribers implements SubscriberSource {
  lookups = 0;
  /** set by a test to make the next lookups fail, as a database that is down */
  failWith: string | null = null;
  constructor(readonly users: Map<string, UserEntry>) {}

  lookup(user: string, domain: string): Lookup {
    this.lookups++;
    if (this.failWith !== null) return { ok: false, error: this.failWith };
    const e = this.users.get(normId(`${user}@${domain}`));
    if (e === undefined) return { ok: true, found: null };
    // a line's HA1 is H(user:realm:password): a digest username with a domain needs the password
    return { ok: true, found: { password: e.password, ha1: e.ha1 } };
  }
}

/** default bound of the cache: rows kept at most (the oldest goes first) */
export const CACHE_MAX_ENTRIES = 100_000;

/**
 * A source behind a cache: a row, and the absence of one, is kept `ttlMs` (0 = no cache) and at
 * most `maxEntries` rows. Failed lookups are never kept, so the next REGISTER asks again.
 */
export class CachedSubscribers implements SubscriberSource {
  hits = 0;
  misses = 0;
  errors = 0;
  private readonly rows = new Map<string, { at: number; v: Credentials | null }>();

  constructor(
    private readonly src: SubscriberSource,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries = CACHE_MAX_ENTRIES,
  ) {}

  get size(): number {
    return this.rows.size;
  }

  lookup(user: string, domain: string): Lookup {
    const key = `${user}\n${domain}`;
    const now = this.clock.now();
    const e = this.rows.get(key);
    if (e !== undefined) {
      if (now - e.at < this.ttlMs) {
        this.hits++;
        return { ok: true, found: e.v };
      }
      this.rows.delete(key);
    }
    this.misses++;
    const r = this.src.lookup(user, domain);
    if (!r.ok) {
      this.errors++;
      return r;
    }
    if (this.ttlMs > 0 && this.maxEntries > 0) {
      // insertion order is age order (a refreshed row is deleted first): the oldest go first
      for (const k of this.rows.keys()) {
        if (this.rows.size < this.maxEntries) break;
        this.rows.delete(k);
      }
      this.rows.set(key, { at: now, v: r.found });
    }
    return r;
  }

  /** forget every row (e.g. after provisioning) */
  clear(): void {
    this.rows.clear();
  }

  close(): void {
    this.src.close?.();
  }
}
