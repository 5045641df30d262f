// Digest authentication of REGISTER (RFC 3261 §22.4, RFC 7616, RFC 8760 for SHA-256) as Kamailio's
// auth_check(realm, "subscriber", 1) followed by auth_challenge() when it fails: subscribers from a
// port (subscribers.ts: a database behind a cache, or a users file), nonces bound to the Clock and a
// node secret with qop=auth and nc replay refused (nonce.ts). Answers: 401 with a fresh challenge
// (no or unknown credentials, wrong password, unknown user: Kamailio's -1..-5), 401 stale=true for
// good credentials on an old or reused nonce, 403 for another user's AoR (§10.3 step 4), 400 for an
// Authorization header without its parameters, 500 when the subscriber store cannot answer.
// Hashing comes through a port (`hash(alg, text)` → lower-case hex): the CLI passes node:crypto.
import type { Clock } from '../ports/clock.ts';
import type { Log } from '../ports/log.ts';
import type { SipRequest } from '../sip/types.ts';
import { Nonces, type HashFn } from './nonce.ts';
import { fail, type RegisterResult } from './reply.ts';
import { MemorySubscribers, type Credentials, type DigestAlg, type SubscriberSource, type UserEntry } from './subscribers.ts';

export { parseUsers, type DigestAlg, type UserEntry } from './subscribers.ts';
export type { HashFn } from './nonce.ts';

export interface AuthOptions {
  /** where subscribers come from; `users` is the short form of a MemorySubscribers */
  source?: SubscriberSource;
  users?: Map<string, UserEntry>;
  hash: HashFn;
  clock: Clock;
  /** node secret the nonces are bound to */
  secret: string;
  /** nonce lifetime in seconds (default 300, Kamailio's nonce_expire) */
  nonceSeconds?: number;
  /** fixed realm; absent: the To domain of the REGISTER (Kamailio's realm "" for REGISTER) */
  realm?: string;
  /** offered in this order, one WWW-Authenticate each (default MD5, Kamailio's) */
  algorithms?: readonly DigestAlg[];
  /** a store failure is logged here (at most one line per 10 s, with the count of others) */
  log?: Log;
}

export type AuthResult = { ok: true; user: string } | { ok: false; result: RegisterResult };

type DigestParams = Partial<Record<'username' | 'realm' | 'nonce' | 'uri' | 'response' | 'algorithm' | 'cnonce' | 'qop' | 'nc', string>>;

const ERROR_LOG_EVERY_MS = 10_000;

/**
 * Why credentials were not taken (kdmq_auth_failures_total{reason}), after Kamailio's auth_check
 * codes: bad_password (-2), unknown_user (-3), stale_nonce (-4: expired, or issued before this
 * start or forgotten), nc_replay (-6: an nc already used), wrong_aor (-8: another user's AoR, 403),
 * bad_nonce (not this node's: forged or another secret's), unsupported (an algorithm or qop not
 * offered), bad_header (Authorization without its parameters, 400).
 */
export const AUTH_FAILURES = ['bad_password', 'unknown_user', 'stale_nonce', 'nc_replay', 'wrong_aor', 'bad_nonce', 'unsupported', 'bad_header'] as const;
export type AuthFailure = (typeof AUTH_FAILURES)[number];

export interface AuthStats {
  /** 401s with a challenge sent (the first one of each client and every one after a failure) */
  challenged: number;
  /** credentials taken: the REGISTER went on to the registrar */
  ok: number;
  failures: Record<AuthFailure, number>;
  /** lookups the subscriber store could not answer (each REGISTER answered 500) */
  errors: number;
}

export class DigestAuth {
  readonly nonces: Nonces;
  readonly source: SubscriberSource;
  readonly stats: AuthStats = { challenged: 0, ok: 0, failures: Object.fromEntries(AUTH_FAILURES.map((r) => [r, 0])) as Record<AuthFailure, number>, errors: 0 };
  private readonly algorithms: readonly DigestAlg[];
  private lastErrorLog = -Infinity;
  private quietErrors = 0;

  constructor(private readonly o: AuthOptions) {
    this.source = o.source ?? new MemorySubscribers(o.users ?? new Map());
    this.algorithms = o.algorithms?.length ? o.algorithms : ['MD5'];
    this.nonces = new Nonces({ hash: o.hash, clock: o.clock, secret: o.secret, lifetimeSec: o.nonceSeconds ?? 300 });
  }

  /** `aor` is `user@domain` of the To URI (domain lower-cased) */
  check(req: SipRequest, aor: string): AuthResult {
    const at = aor.lastIndexOf('@');
    const realm = this.o.realm ?? aor.slice(at + 1);
    const c = req.getAll('authorization').map(parseDigest).find((p) => p !== null && p.realm?.toLowerCase() === realm.toLowerCase());
    if (c === undefined || c === null) return this.challenge(realm, false);
    const qop = c.qop?.toLowerCase();
    if (!c.username || !c.nonce || !c.uri || !c.response || (qop === 'auth' && (!c.cnonce || !/^[0-9a-fA-F]{8}$/.test(c.nc ?? '')))) {
      this.stats.failures.bad_header++;
      return { ok: false, result: fail(400, 'Bad Authorization header') };
    }
    const alg = algOf(c.algorithm);
    // an algorithm or qop we did not offer, or a nonce that is not ours: a fresh challenge
    if (alg === null || !this.algorithms.includes(alg) || (qop !== undefined && qop !== 'auth')) return this.refuse('unsupported', realm);
    const n = this.nonces.verify(c.nonce);
    if (!n.ok) return this.refuse('bad_nonce', realm);
    const i = c.username.indexOf('@');
    const user = i < 0 ? c.username : c.username.slice(0, i);
    const domain = i < 0 ? '' : c.username.slice(i + 1);
    const r = this.source.lookup(user, domain || realm);
    if (!r.ok) return this.storeFailed(r.error, user, domain || realm);
    const ha1 = r.found === null ? undefined : this.ha1(r.found, c.username, domain !== '', realm, alg);
    if (ha1 === undefined || !sameHex(this.expected(ha1, alg, req.method, c), c.response.toLowerCase())) {
      this.o.log?.log('debug', 'digest authentication failed', { username: c.username, realm, why: r.found === null ? 'unknown user' : 'wrong credentials' });
      return this.refuse(r.found === null ? 'unknown_user' : 'bad_password', realm);
    }
    if (user !== aor.slice(0, at)) {
      this.stats.failures.wrong_aor++;
      return { ok: false, result: fail(403) };
    }
    const nc = qop === 'auth' ? parseInt(c.nc!, 16) : 1;
    if (n.ageSec > (this.o.nonceSeconds ?? 300)) return this.refuse('stale_nonce', realm, true);
    const used = this.nonces.take(c.nonce, n, nc);
    if (used !== 'ok') return this.refuse(used === 'replayed' ? 'nc_replay' : 'stale_nonce', realm, true);
    this.stats.ok++;
    return { ok: true, user: i < 0 ? `${user}@${realm}` : c.username };
  }

  /** a nonce for a challenge (the next index) */
  nonce(): string {
    return this.nonces.issue();
  }

  close(): void {
    this.source.close?.();
  }

  private refuse(why: AuthFailure, realm: string, stale = false): AuthResult {
    this.stats.failures[why]++;
    return this.challenge(realm, stale);
  }

  private challenge(realm: string, stale: boolean): AuthResult {
    this.stats.challenged++;
    const nonce = this.nonce();
    const st = stale ? ', stale=true' : '';
    const headers = this.algorithms.map((alg): [string, string] =>
      ['WWW-Authenticate', `Digest realm="${realm}", nonce="${nonce}", algorithm=${alg}, qop="auth"${st}`]);
    return { ok: false, result: { status: 401, reason: 'Unauthorized', headers } };
  }

  private storeFailed(error: string, user: string, domain: string): AuthResult {
    this.stats.errors++;
    const now = this.o.clock.now();
    if (now - this.lastErrorLog >= ERROR_LOG_EVERY_MS) {
      this.o.log?.log('error', 'auth: subscriber lookup failed, REGISTER answered 500', { error, user, domain, suppressed: this.quietErrors });
      this.lastErrorLog = now;
      this.quietErrors = 0;
    } else this.quietErrors++;
    return { ok: false, result: fail(500) };
  }

  /** HA1 from the clear-text password (over the whole digest username, as auth_db), or stored */
  private ha1(e: Credentials, username: string, withDomain: boolean, realm: string, alg: DigestAlg): string | undefined {
    if (e.password !== undefined) return this.o.hash(alg, `${username}:${realm}:${e.password}`);
    return (withDomain ? e.ha1b : e.ha1)?.[alg]?.toLowerCase();
  }

  private expected(ha1: string, alg: DigestAlg, method: string, c: DigestParams): string {
    const H = (s: string): string => this.o.hash(alg, s);
    const ha2 = H(`${method}:${c.uri}`);
    if (c.qop === undefined) return H(`${ha1}:${c.nonce}:${ha2}`);
    return H(`${ha1}:${c.nonce}:${c.nc ?? ''}:${c.cnonce ?? ''}:${c.qop}:${ha2}`);
  }
}

function algOf(a: string | undefined): DigestAlg | null {
  const u = (a ?? 'MD5').toUpperCase();
  return u === 'MD5' ? 'MD5' : u === 'SHA-256' ? 'SHA-256' : null;
}

/** equal hex strings, in time that does not depend on where they differ */
function sameHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}

/** `Digest k=v, k="v", …` → params (names lower-cased); null when not a Digest credential */
export function parseDigest(v: string): DigestParams | null {
  const m = /^\s*digest\s+/i.exec(v);
  if (m === null) return null;
  const out: Record<string, string> = {};
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  re.lastIndex = m[0].length;
  for (let r = re.exec(v); r !== null && r[0] !== ''; r = re.exec(v)) {
    out[r[1].toLowerCase()] = r[2] !== undefined ? r[2].replace(/\\(.)/g, '$1') : r[3];
  }
  return out as DigestParams;
}
