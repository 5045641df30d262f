// Digests of a replicated store for kdmq-to-kdmq anti-entropy (specs/anti-entropy.md A2): items
// hashed into fixed buckets, and each bucket into SUB leaves, by their range key (AoR,
// table+name); one 32-bit sum per leaf over the live items' fingerprints (order-free, so kept up
// to date incrementally), a bucket hash = the sum of its leaves; written as hex strings.

/** FNV-1a 32 over UTF-16 code units */
export function fnv1a(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A version as it travels: [key, live (1) or remembered delete (0), ...store-specific fields] */
export type WireVersion = [string, 0 | 1, ...Array<string | number>];

/** sub-buckets per bucket: the second level of the digest (specs/anti-entropy.md A2) */
export const SUB = 32;
const COUNT_TERM = 0x9e3779b1;

/**
 * Leaf (bucket × SUB + sub-bucket) of a range key. The bucket is `bucketOf` (the first level);
 * the sub-bucket takes the hash's next bits, so the two levels partition the same keys.
 */
export function leafOf(rangeKey: string, n: number, m: number): number {
  const h = fnv1a(rangeKey, 0x01000193);
  return (h % n) * m + (Math.floor(h / n) % m);
}

/** the hash one group (range key) contributes: sum of its live fingerprints plus a count term */
export function contribution(fps: readonly number[]): number {
  let h = 0;
  for (const fp of fps) h = (h + fp) >>> 0;
  return (h + Math.imul(fps.length, COUNT_TERM)) >>> 0;
}

/**
 * Two-level digest of a store, kept up to date group by group (a group = one range key: AoR or
 * table+name): n buckets of m leaves; a leaf hash is the sum of its groups' contributions, a bucket
 * hash the sum of its leaves (the same value as a one-level bucket hash). Order-free, so a group
 * is updated by subtracting its old contribution and adding the new one.
 */
export class LeafIndex {
  readonly leaves: Uint32Array;
  /** bucket hashes (sums of their leaves), kept with the leaves: a digest is asked for often */
  private readonly buckets: Uint32Array;
  private readonly groups = new Map<string, number>();
  /** toHex of the bucket hashes, kept until a group changes (a digest is sent and compared often) */
  private hex: string | null = null;

  constructor(readonly n: number, readonly m: number) {
    this.leaves = new Uint32Array(n * m);
    this.buckets = new Uint32Array(n);
  }

  get size(): number {
    return this.groups.size;
  }

  /** set the group's contribution (0 = the group holds nothing live: forgotten) */
  set(group: string, c: number): void {
    const old = this.groups.get(group);
    if (old === c || (old === undefined && c === 0)) return;
    const l = leafOf(group, this.n, this.m);
    const b = Math.floor(l / this.m);
    this.hex = null;
    if (old !== undefined) {
      this.leaves[l] = (this.leaves[l] - old) >>> 0;
      this.buckets[b] = (this.buckets[b] - old) >>> 0;
    }
    if (c === 0) this.groups.delete(group);
    else {
      this.leaves[l] = (this.leaves[l] + c) >>> 0;
      this.buckets[b] = (this.buckets[b] + c) >>> 0;
      this.groups.set(group, c);
    }
  }

  /** first level: one hash per bucket (the sum of its leaves mod 2^32, kept up to date by set) */
  top(): Uint32Array {
    return this.buckets.slice();
  }

  /** toHex(top()), without the copy and rebuilt only after a change */
  topHex(): string {
    return (this.hex ??= toHex(this.buckets));
  }

  /** second level: the m leaf hashes of one bucket */
  sub(b: number): Uint32Array {
    return this.leaves.slice(b * this.m, (b + 1) * this.m);
  }

  /** the groups with a live item, in the given leaves */
  groupsIn(leaves: ReadonlySet<number>): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const g of this.groups.keys()) {
      const l = leafOf(g, this.n, this.m);
      if (!leaves.has(l)) continue;
      const a = out.get(l);
      if (a) a.push(g);
      else out.set(l, [g]);
    }
    return out;
  }
}

/** keep, per key, the version `newer` prefers (a live item and a remembered delete may share a key) */
export function putNewest(into: Map<string, WireVersion>, v: WireVersion, newer: (a: WireVersion, b: WireVersion) => number): boolean {
  const old = into.get(v[0]);
  if (old && newer(old, v) >= 0) return false;
  into.set(v[0], v);
  return true;
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
  if (typeof hex !== 'string' || hex.length !== mine.length * 8) return null;
  const out: number[] = [];
  for (let i = 0; i < mine.length; i++) {
    // 8 lower-case hex digits, checked and read in one pass without a substring per bucket
    let v = 0;
    for (let j = i * 8; j < i * 8 + 8; j++) {
      const c = hex.charCodeAt(j);
      if (c >= 48 && c <= 57) v = v * 16 + (c - 48);
      else if (c >= 97 && c <= 102) v = v * 16 + (c - 87);
      else return null;
    }
    if (v !== mine[i]) out.push(i);
  }
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
