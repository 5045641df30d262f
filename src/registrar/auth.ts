// Optional digest authentication of REGISTER (RFC 3261 §22.4, RFC 7616, RFC 8760 for SHA-256):
// users file, nonces bound to the Clock and a node secret, 401 challenges for SHA-256 and MD5,
// stale=true for old nonces, 403 for bad credentials or for another user's AoR (§10.3 step 4).
// Hashing comes through a port (`hash(alg, text)` → lower-case hex): the CLI passes node:crypto.
import type { Clock } from '../ports/clock.ts';
import type { SipRequest } from '../sip/types.ts';
import { fail, type RegisterResult } from './reply.ts';

export type DigestAlg = 'MD5' | 'SHA-256';
export type HashFn = (alg: DigestAlg, text: string) => string;

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

export interface AuthOptions {
  users: Map<string, UserEntry>;
  hash: HashFn;
  clock: Clock;
  /** node secret the nonces are bound to (from the Random port or config) */
  secret: string;
  /** nonce lifetime in seconds (default 300) */
  nonceSeconds?: number;
}

export type AuthResult = { ok: true; user: string } | { ok: false; result: RegisterResult };

export class DigestAuth {
  constructor(private readonly o: AuthOptions) {}

  /** `aor` is `user@domain` of the To URI (domain lower-cased); the realm is that domain */
  check(req: SipRequest, aor: string): AuthResult {
    const realm = aor.slice(aor.lastIndexOf('@') + 1);
    const creds = req.getAll('authorization').map(parseDigest).find((p) => p !== null && p.realm?.toLowerCase() === realm);
    if (creds === undefined || creds === null) return this.challenge(realm, false);
    const alg = (creds.algorithm ?? 'MD5').toUpperCase();
    if ((alg !== 'MD5' && alg !== 'SHA-256') || !creds.username || !creds.nonce || !creds.uri || !creds.response) {
      return { ok: false, result: fail(400, 'Bad Authorization header') };
    }
    const age = this.nonceAge(creds.nonce);
    if (age === null) return this.challenge(realm, false);
    const user = normId(creds.username.includes('@') ? creds.username : `${creds.username}@${realm}`);
    const entry = this.o.users.get(user);
    const ha1 = entry === undefined ? undefined : this.ha1(entry, creds.username, realm, alg);
    if (ha1 === undefined || this.expected(ha1, alg, req.method, creds) !== creds.response.toLowerCase()) {
      return { ok: false, result: fail(403) };
    }
    if (age > (this.o.nonceSeconds ?? 300)) return this.challenge(realm, true);
    if (user !== normId(aor)) return { ok: false, result: fail(403) };
    return { ok: true, user };
  }

  /** nonce = <issue time hex>.<H(time:secret) truncated>: verifiable without state */
  nonce(): string {
    const t = Math.floor(this.o.clock.now() / 1000).toString(16);
    return `${t}.${this.mac(t)}`;
  }

  private mac(t: string): string {
    return this.o.hash('SHA-256', `${t}:${this.o.secret}:${t}`).slice(0, 32);
  }

  /** seconds since the nonce was issued, null when it is not ours */
  private nonceAge(n: string): number | null {
    const [t, m] = n.split('.');
    if (t === undefined || m === undefined || !/^[0-9a-f]{1,12}$/.test(t) || this.mac(t) !== m) return null;
    return Math.floor(this.o.clock.now() / 1000) - parseInt(t, 16);
  }

  private challenge(realm: string, stale: boolean): AuthResult {
    const nonce = this.nonce();
    const st = stale ? ', stale=true' : '';
    const h = (alg: DigestAlg): [string, string] =>
      ['WWW-Authenticate', `Digest realm="${realm}", nonce="${nonce}", algorithm=${alg}, qop="auth"${st}`];
    // RFC 8760 §2.4: the preferred algorithm first
    return { ok: false, result: { status: 401, reason: 'Unauthorized', headers: [h('SHA-256'), h('MD5')] } };
  }

  private ha1(e: UserEntry, username: string, realm: string, alg: DigestAlg): string | undefined {
    if (e.ha1?.[alg] !== undefined) return e.ha1[alg];
    if (e.password === undefined) return undefined;
    return this.o.hash(alg, `${username}:${realm}:${e.password}`);
  }

  private expected(ha1: string, alg: DigestAlg, method: string, c: DigestParams): string {
    const H = (s: string): string => this.o.hash(alg, s);
    const ha2 = H(`${method}:${c.uri}`);
    if (c.qop === undefined) return H(`${ha1}:${c.nonce}:${ha2}`);
    return H(`${ha1}:${c.nonce}:${c.nc ?? ''}:${c.cnonce ?? ''}:${c.qop}:${ha2}`);
  }
}

type DigestParams = Partial<Record<'username' | 'realm' | 'nonce' | 'uri' | 'response' | 'algorithm' | 'cnonce' | 'qop' | 'nc', string>>;

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

function normId(s: string): string {
  const i = s.lastIndexOf('@');
  return i < 0 ? s : `${s.slice(0, i)}@${s.slice(i + 1).toLowerCase()}`;
}
