// Digest nonces bound to time and a node secret (RFC 7616 §3.3 and §5.4): `<issue second hex>.
// <index hex>.<MAC>`, verifiable without state, one index per challenge so that no two clients
// share a nonce; and the nonce-count table (RFC 7616 §3.4, nc) that accepts each count once per
// nonce and only rising, so a captured request cannot be replayed. The table is bounded; a nonce it
// had to forget, or one issued before this start, is answered as stale (the client retries with a
// fresh one). Kamailio's auth module does the same with its nid pools and nc arrays.
import type { Clock } from '../ports/clock.ts';
import type { DigestAlg } from './subscribers.ts';

export type HashFn = (alg: DigestAlg, text: string) => string;

export type NonceCheck = { ok: true; issued: number; index: number; ageSec: number } | { ok: false };

/** nonces tracked at most (their nc): past it the oldest are forgotten */
export const MAX_TRACKED_NONCES = 200_000;

export interface NonceOptions {
  hash: HashFn;
  clock: Clock;
  secret: string;
  /** seconds a nonce is good for */
  lifetimeSec: number;
  maxTracked?: number;
}

export class Nonces {
  private next = 0;
  private readonly startSec: number;
  /** nonce → the highest nc accepted, in first-use order */
  private readonly counts = new Map<string, { nc: number; issued: number; index: number }>();
  /** an untracked nonce with an index at or below this one may have been forgotten: refused */
  private floorIndex = -1;

  constructor(private readonly o: NonceOptions) {
    this.startSec = this.nowSec();
  }

  get tracked(): number {
    return this.counts.size;
  }

  issue(): string {
    const t = this.nowSec().toString(16);
    const i = (this.next++).toString(16);
    return `${t}.${i}.${this.mac(t, i)}`;
  }

  /** ours (MAC good) and how old; a nonce of another secret or a forged one is not ok */
  verify(nonce: string): NonceCheck {
    const p = nonce.split('.');
    if (p.length !== 3 || !/^[0-9a-f]{1,12}$/.test(p[0]) || !/^[0-9a-f]{1,12}$/.test(p[1]) || this.mac(p[0], p[1]) !== p[2]) {
      return { ok: false };
    }
    const issued = parseInt(p[0], 16);
    return { ok: true, issued, index: parseInt(p[1], 16), ageSec: this.nowSec() - issued };
  }

  /** accept `nc` for a verified nonce (1 for a request without qop): once, and above the last one */
  use(nonce: string, c: { issued: number; index: number }, nc: number): boolean {
    return this.take(nonce, c, nc) === 'ok';
  }

  /**
   * use() with the reason of a refusal: `replayed` for an nc at or below one already accepted for
   * this nonce, `unknown` for a nonce whose counts this table does not hold (issued before this
   * start, or forgotten to stay bounded), so whether `nc` was used cannot be told
   */
  take(nonce: string, c: { issued: number; index: number }, nc: number): 'ok' | 'replayed' | 'unknown' {
    this.prune();
    const e = this.counts.get(nonce);
    if (e !== undefined) {
      if (nc <= e.nc) return 'replayed';
      e.nc = nc;
      return 'ok';
    }
    if (c.issued < this.startSec || c.index <= this.floorIndex) return 'unknown';
    this.counts.set(nonce, { nc, issued: c.issued, index: c.index });
    return 'ok';
  }

  private prune(): void {
    const oldest = this.nowSec() - this.o.lifetimeSec;
    const max = this.o.maxTracked ?? MAX_TRACKED_NONCES;
    for (const [k, e] of this.counts) {
      if (e.issued >= oldest && this.counts.size < max) break;
      // an expired nonce is refused as stale before its count is looked at: forgetting it is safe
      if (e.issued >= oldest) this.floorIndex = Math.max(this.floorIndex, e.index);
      this.counts.delete(k);
    }
  }

  private mac(t: string, i: string): string {
    return this.o.hash('SHA-256', `${this.o.secret}:${t}:${i}:${this.o.secret}`).slice(0, 32);
  }

  private nowSec(): number {
    return Math.floor(this.o.clock.now() / 1000);
  }
}
