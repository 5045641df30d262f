// HEP captures → trace records: each HEPv3 packet carrying SIP (protocol type 1) becomes one
// `dgram` record with the inner message and the original addresses, ports and time from its
// chunks. When two capture agents both saw a datagram (node A's copy out, node B's copy in: the
// same ends and bytes, another capture id, within 1 s), the second copy is dropped.

import { b64, type TraceRecord } from './format.ts';
import { decodeHep, hepEndpoints, hepTimeMs, HEP_PROTO_SIP } from './hep.ts';

export const SIP_START = /^(?:SIP\/2\.0 \d{3}|[A-Z]+ \S+ SIP\/2\.0\r?\n)/;

const PAIR_WINDOW_MS = 1000;

export type HepVerdict = { kind: 'sip'; record: TraceRecord & { r: 'dgram' } } | { kind: 'duplicate' } | { kind: 'skip'; why: string };

export class HepCollector {
  /** key (ends + bytes) → copies seen recently, each with its capture id and whether paired */
  private readonly recent = new Map<string, Array<{ t: number; id: number; paired: boolean }>>();
  private oldest = Infinity;
  duplicates = 0;

  add(d: Uint8Array): HepVerdict {
    const h = decodeHep(d);
    if (!h.ok) return { kind: 'skip', why: h.error };
    const p = h.value;
    if (p.protoType !== HEP_PROTO_SIP) return { kind: 'skip', why: `HEP protocol type ${p.protoType} is not SIP` };
    const head = new TextDecoder('latin1').decode(p.payload.subarray(0, 200));
    if (!SIP_START.test(head)) return { kind: 'skip', why: 'HEP payload is not a SIP message' };
    const [from, to] = hepEndpoints(p);
    const t = hepTimeMs(p);
    const data = b64(p.payload);
    const key = `${from} ${to} ${data}`;
    this.prune(t);
    const seen = this.recent.get(key) ?? [];
    const twin = seen.find((s) => !s.paired && s.id !== p.captureId && Math.abs(s.t - t) <= PAIR_WINDOW_MS);
    if (twin) {
      twin.paired = true;
      this.duplicates++;
      return { kind: 'duplicate' };
    }
    seen.push({ t, id: p.captureId, paired: false });
    this.recent.set(key, seen);
    this.oldest = Math.min(this.oldest, t);
    return { kind: 'sip', record: { r: 'dgram', t, from, to, data } };
  }

  /** forget copies older than the pairing window (checked at most once per window) */
  private prune(now: number): void {
    if (now - this.oldest < 2 * PAIR_WINDOW_MS) return;
    this.oldest = Infinity;
    for (const [k, list] of this.recent) {
      const keep = list.filter((s) => now - s.t <= PAIR_WINDOW_MS);
      if (keep.length === 0) this.recent.delete(k);
      else {
        this.recent.set(k, keep);
        for (const s of keep) this.oldest = Math.min(this.oldest, s.t);
      }
    }
  }
}
