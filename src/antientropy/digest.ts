// Digests of a replicated store for kdmq-to-kdmq anti-entropy (specs/anti-entropy.md A2): items
// hashed into fixed buckets by their range key (AoR, table+name), one 32-bit sum per bucket over
// the live items' fingerprints (order-free), written as one hex string. Pure.

/** FNV-1a 32 over UTF-16 code units */
export function fnv1a(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A version as it travels: [key, live (1) or remembered delete (0), ...store-specific fields] */
export type WireVersion = [string, 0 | 1, ...Array<string | number>];

export interface AeItem {
  key: string;
  bucket: number;
  live: boolean;
  /** fingerprint of the live item (0 for deletes: they are not in the digest) */
  fp: number;
  v: WireVersion;
}

export interface Snapshot {
  n: number;
  at: number;
  buckets: Array<Map<string, AeItem>>;
  hashes: Uint32Array;
}

export function emptySnapshot(n: number, at: number): Snapshot {
  return { n, at, buckets: Array.from({ length: n }, () => new Map()), hashes: new Uint32Array(n) };
}

/** add an item; of two items with one key the one `newer` prefers is kept */
export function addItem(s: Snapshot, it: AeItem, newer: (a: WireVersion, b: WireVersion) => number): void {
  const b = s.buckets[it.bucket];
  const old = b.get(it.key);
  if (old && newer(old.v, it.v) >= 0) return;
  b.set(it.key, it);
}

/** bucket hashes: sum of live fingerprints plus a count term, mod 2^32 */
export function seal(s: Snapshot): Snapshot {
  for (let i = 0; i < s.n; i++) {
    let h = 0;
    let c = 0;
    for (const it of s.buckets[i].values()) {
      if (!it.live) continue;
      h = (h + it.fp) >>> 0;
      c++;
    }
    s.hashes[i] = (h + Math.imul(c, 0x9e3779b1)) >>> 0;
  }
  return s;
}

export function bucketOf(rangeKey: string, n: number): number {
  return fnv1a(rangeKey, 0x01000193) % n;
}

export function toHex(h: Uint32Array): string {
  let out = '';
  for (const x of h) out += x.toString(16).padStart(8, '0');
  return out;
}

/** buckets whose hash differs; null when the hex is malformed or of another length */
export function differing(mine: Uint32Array, hex: string): number[] | null {
  if (typeof hex !== 'string' || hex.length !== mine.length * 8 || !/^[0-9a-f]*$/.test(hex)) return null;
  const out: number[] = [];
  for (let i = 0; i < mine.length; i++) if (parseInt(hex.slice(i * 8, i * 8 + 8), 16) !== mine[i]) out.push(i);
  return out;
}

/**
 * What to do with one key of a differing bucket, seen from the side holding `mine`:
 * 'push' our item to them, 'want' theirs, or nothing. Remembered deletes only matter against a
 * live item (two deletes, or one delete and nothing, hold the same live set).
 */
export function decide(mine: WireVersion | undefined, theirs: WireVersion | undefined, cmp: (a: WireVersion, b: WireVersion) => number): 'push' | 'want' | null {
  if (mine && !theirs) return mine[1] === 1 ? 'push' : null;
  if (!mine && theirs) return theirs[1] === 1 ? 'want' : null;
  if (!mine || !theirs) return null;
  if (mine[1] === 0 && theirs[1] === 0) return null;
  const c = cmp(mine, theirs);
  return c > 0 ? 'push' : c < 0 ? 'want' : null;
}
