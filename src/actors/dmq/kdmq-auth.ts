// Signed KDMQ (config dmq.secret / dmq.keyring / dmq.kamailio_peers): signs every KDMQ this node
// sends and checks every KDMQ it receives. A signed request must name a key of the ring, carry a
// timestamp within ±30 s of our clock and a signature not seen before within that window; an
// unsigned one is accepted only from dmq.kamailio_peers (Kamailio cannot sign). HMAC through the
// crypto port (actors import no node:*); keys can be replaced while running (rotation).

import type { OutgoingRequest, SipRequest } from '../../sip/types.ts';
import type { Clock } from '../../ports/clock.ts';
import { KID_RE, SIG_HEADER, canonical, formatSig, parseSig, sameHex, type SignedParts } from './kdmq-signature.ts';
import { cidrContains, parseCidr, type Cidr } from './cidr.ts';

import type { CryptoPort } from '../../ports/crypto.ts';
export type { CryptoPort };

export interface SigningKey {
  id: string;
  secret: string;
}

export type VerifyResult = { ok: true; signed: boolean } | { ok: false; why: 'unsigned' | 'malformed' | 'unknown-key' | 'bad-signature' | 'stale' | 'replayed' };

export const SIG_WINDOW_SEC = 30;
const MAX_SEEN = 200_000;

/** "ID:SECRET" entries (first = current), or dmq.secret as key id "0"; null = signing off; string = error */
export function keysFromConfig(dmq: { secret?: string; keyring?: string[] }): SigningKey[] | null | string {
  if (dmq.keyring !== undefined && dmq.keyring.length > 0) {
    const keys: SigningKey[] = [];
    for (const e of dmq.keyring) {
      const i = e.indexOf(':');
      const id = e.slice(0, Math.max(0, i));
      if (i <= 0 || !KID_RE.test(id) || e.length - i - 1 < 8) return `"${id || e.slice(0, 8)}…" must be ID:SECRET (ID of [A-Za-z0-9._-], secret of 8 or more characters)`;
      if (keys.some((k) => k.id === id)) return `key id ${id} appears twice`;
      keys.push({ id, secret: e.slice(i + 1) });
    }
    return keys;
  }
  if (dmq.secret !== undefined) return dmq.secret.length >= 8 ? [{ id: '0', secret: dmq.secret }] : 'dmq.secret must have 8 or more characters';
  return null;
}

export class KdmqAuth {
  readonly stats = { signed: 0, verified: 0, unsignedAllowed: 0, rejected: {} as Record<string, number> };
  private keys: SigningKey[];
  private readonly peers: Cidr[];
  private readonly seen = new Map<string, number>();

  constructor(private readonly clock: Clock, private readonly crypto: CryptoPort, keys: SigningKey[], kamailioPeers: string[] = []) {
    if (keys.length === 0) throw new Error('KdmqAuth needs at least one key'); // validated before
    this.keys = keys;
    this.peers = kamailioPeers.map((c) => parseCidr(c)).filter((c): c is Cidr => c !== null);
  }

  /** replace the ring (first = current); the previous keys verify only if still listed */
  setKeys(keys: SigningKey[]): void {
    if (keys.length === 0) throw new Error('KdmqAuth.setKeys: empty ring');
    this.keys = keys;
  }

  keyIds(): { current: string; all: string[] } {
    return { current: this.keys[0].id, all: this.keys.map((k) => k.id) };
  }

  /** the header to append to `out` (after every other header is set) */
  sign(out: OutgoingRequest): [string, string] {
    const h = (n: string) => out.headers.find(([k]) => k.toLowerCase() === n)?.[1] ?? '';
    const body = out.body === undefined ? '' : typeof out.body === 'string' ? out.body : new TextDecoder().decode(out.body);
    const parts: SignedParts = { method: out.method, uri: out.uri, from: h('from'), to: h('to'), callId: h('call-id'), cseq: h('cseq'), contentType: h('content-type'), body };
    const key = this.keys[0];
    const ts = Math.floor(this.clock.now() / 1000);
    this.stats.signed++;
    return [SIG_HEADER, formatSig({ kid: key.id, ts, sig: this.crypto.hmac(key.secret, canonical(parts, key.id, ts)) })];
  }

  /** check an inbound KDMQ from `sourceIp` */
  verify(req: SipRequest, sourceIp: string): VerifyResult {
    const raw = req.get(SIG_HEADER);
    if (raw === undefined) {
      if (this.peers.some((c) => cidrContains(c, sourceIp))) {
        this.stats.unsignedAllowed++;
        return { ok: true, signed: false };
      }
      return this.no('unsigned');
    }
    const f = parseSig(raw);
    if (f === null) return this.no('malformed');
    const key = this.keys.find((k) => k.id === f.kid);
    if (key === undefined) return this.no('unknown-key');
    const now = this.clock.now();
    if (Math.abs(now / 1000 - f.ts) > SIG_WINDOW_SEC) return this.no('stale');
    const parts: SignedParts = {
      method: req.method, uri: req.requestUriText, from: req.get('from') ?? '', to: req.get('to') ?? '', callId: req.get('call-id') ?? '',
      cseq: req.get('cseq') ?? '', contentType: req.get('content-type') ?? '', body: req.bodyText(),
    };
    if (!sameHex(this.crypto.hmac(key.secret, canonical(parts, f.kid, f.ts)), f.sig)) return this.no('bad-signature');
    if (this.seen.has(f.sig)) return this.no('replayed');
    this.remember(f.sig, now);
    this.stats.verified++;
    return { ok: true, signed: true };
  }

  private remember(sig: string, now: number): void {
    if (this.seen.size >= MAX_SEEN || this.stats.verified % 1024 === 0) {
      for (const [s, until] of this.seen) {
        if (until > now && this.seen.size < MAX_SEEN) break;
        this.seen.delete(s); // insertion order = expiry order: drop the expired (or the oldest when full)
      }
    }
    this.seen.set(sig, now + 2 * SIG_WINDOW_SEC * 1000 + 1000);
  }

  private no(why: Exclude<VerifyResult, { ok: true }>['why']): VerifyResult {
    this.stats.rejected[why] = (this.stats.rejected[why] ?? 0) + 1;
    return { ok: false, why };
  }
}
