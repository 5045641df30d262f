// The steps of one anti-entropy exchange as pure functions of the sources (specs/anti-entropy.md
// A2): what each side sends for what it received. The `kdmq-ae` channel (channel.ts) sends them
// over KDMQ; exchange() runs a whole exchange in-process (tests, bench figure ae-round-100k).

import { utf8Length } from '../actors/channels/srjson.ts';
import { decide, differing, SUB, toHex, type WireVersion } from './digest.ts';
import type { AeSource, KamailioNotice } from './source.ts';

export const MAX_BODY = 48_000;

/** pack JSON items into bodies `{"t":..,"s":..,<extra>"x":[...]}` of at most MAX_BODY bytes;
 * extra: more members, each followed by a comma (`"n":1024,"m":32,`) */
export function pack(t: string, s: string, items: readonly string[], extra = ''): string[] {
  const head = `{"t":"${t}","s":"${s}",${extra}"x":[`;
  const out: string[] = [];
  let cur: string[] = [];
  let size = head.length + 2;
  for (const it of items) {
    const n = utf8Length(it) + 1;
    if (cur.length > 0 && size + n > MAX_BODY) {
      out.push(`${head}${cur.join(',')}]}`);
      cur = [];
      size = head.length + 2;
    }
    cur.push(it);
    size += n;
  }
  if (cur.length > 0) out.push(`${head}${cur.join(',')}]}`);
  return out;
}

const shape = (n: number) => `"n":${n},"m":${SUB},`;

/** step 1 (A → B): top-level hashes of every source */
export function digestBody(sources: readonly AeSource[], n: number): string {
  return digestText(sources, n, sources.map((src) => src.index(n, true).topHex()));
}

function digestText(sources: readonly AeSource[], n: number, hexes: readonly string[]): string {
  const h: Record<string, string> = {};
  sources.forEach((src, i) => (h[src.id] = hexes[i]));
  return JSON.stringify({ t: 'd', n, h });
}

/**
 * digestBody of one node's sources, the text kept while every source's top-level hex is unchanged
 * (LeafIndex.topHex keeps its string until a group changes): a node sends the same text to each
 * peer in a round, and a receiver compares the digests it gets with its own (channel.ts).
 */
export class DigestMemo {
  private n = -1;
  private hexes: readonly string[] = [];
  private text = '';

  constructor(private readonly sources: readonly AeSource[]) {}

  /** digestBody(sources, n), with the same index(n, true) calls */
  get(n: number): string {
    const hexes = this.sources.map((src) => src.index(n, true).topHex());
    if (n !== this.n || hexes.some((h, i) => h !== this.hexes[i])) {
      this.n = n;
      this.hexes = hexes;
      this.text = digestText(this.sources, n, hexes);
    }
    return this.text;
  }
}

/** step 2 (B → A): for their top-level hex, our leaf hashes of the buckets that differ */
export function subBodies(src: AeSource, n: number, hex: string): string[] {
  const x = src.index(n, true);
  // the same digest text (the usual case): differing() would find no bucket
  if (hex === x.topHex()) return [];
  const diff = differing(x.top(), hex);
  if (!diff || diff.length === 0) return [];
  return pack('s', src.id, diff.map((b) => `[${b},"${toHex(x.sub(b))}"]`), shape(n));
}

/** step 3 (A → B): for their leaf hashes, our versions of the leaves that differ (empty ones too) */
export function versionBodies(src: AeSource, n: number, groups: readonly unknown[]): string[] {
  const x = src.index(n, false);
  const leaves = new Set<number>();
  for (const g of groups) {
    if (!Array.isArray(g) || !Number.isInteger(g[0]) || g[0] < 0 || g[0] >= n) continue;
    for (const j of differing(x.sub(g[0] as number), g[1] as string) ?? []) leaves.add((g[0] as number) * SUB + j);
  }
  if (leaves.size === 0) return [];
  return pack('v', src.id, [...src.versions(n, leaves)].map(([l, v]) => JSON.stringify([l, v])), shape(n));
}

/** step 4 (B): for their versions, the keys we hold newer (push) and those they hold newer (want) */
export function decideVersions(src: AeSource, n: number, groups: readonly unknown[]): { push: string[]; want: string[] } {
  const cmp = (a: WireVersion, b: WireVersion) => src.compare(a, b);
  const push: string[] = [];
  const want: string[] = [];
  const theirs = new Map<number, Map<string, WireVersion>>();
  for (const g of groups) {
    if (!Array.isArray(g) || !Number.isInteger(g[0]) || g[0] < 0 || g[0] >= n * SUB || !Array.isArray(g[1])) continue;
    const t = new Map<string, WireVersion>();
    for (const v of g[1] as WireVersion[]) if (Array.isArray(v) && typeof v[0] === 'string') t.set(v[0], v);
    theirs.set(g[0] as number, t);
  }
  const mine = src.versions(n, new Set(theirs.keys()));
  for (const [l, t] of theirs) {
    const m = new Map((mine.get(l) ?? []).map((v) => [v[0], v] as const));
    for (const k of new Set([...m.keys(), ...t.keys()])) {
      const d = decide(m.get(k), t.get(k), cmp);
      if (d === 'push') push.push(k);
      else if (d === 'want') want.push(k);
    }
  }
  return { push, want };
}

/** step 4/5: our records of these keys (`r`), and asking for keys (`w`) */
export function recordBodies(src: AeSource, keys: readonly string[]): { bodies: string[]; count: number } {
  const recs = keys.map((k) => src.record(k)).filter((r) => r !== null).map((r) => JSON.stringify(r));
  return { bodies: pack('r', src.id, recs), count: recs.length };
}
export function wantBodies(src: AeSource, keys: readonly string[]): string[] {
  return pack('w', src.id, keys.map((k) => JSON.stringify(k)));
}

/** apply received records; the notices of those that changed the store */
export function applyRecords(src: AeSource, recs: readonly unknown[]): KamailioNotice[] {
  const out: KamailioNotice[] = [];
  for (const r of recs) {
    const n = src.apply(r);
    if (n) out.push(n);
  }
  return out;
}

export interface ExchangeCost {
  digestBytes: number;
  subBytes: number;
  versionBytes: number;
  recordBytes: number;
  wantBytes: number;
  pushed: number;
  wanted: number;
  applied: number;
  /** CPU (process.cpuUsage, µs → ms) spent on each side, when measured */
  cpuMsA: number;
  cpuMsB: number;
}

const xOf = (body: string) => (JSON.parse(body) as { x: unknown[] }).x;
const bytes = (xs: readonly string[]) => xs.reduce((s, x) => s + utf8Length(x), 0);

/**
 * One whole exchange between two nodes' sources in-process, A starting (A's key sorts first), as
 * the channel runs it: d → s → v → r/w → r. Sources are matched by id. `cpu` measures each side.
 */
export function exchange(a: readonly AeSource[], b: readonly AeSource[], n: number, cpu?: () => number): ExchangeCost {
  const c: ExchangeCost = { digestBytes: 0, subBytes: 0, versionBytes: 0, recordBytes: 0, wantBytes: 0, pushed: 0, wanted: 0, applied: 0, cpuMsA: 0, cpuMsB: 0 };
  const on = (side: 'A' | 'B', fn: () => void) => {
    const t0 = cpu?.() ?? 0;
    fn();
    if (cpu) c[side === 'A' ? 'cpuMsA' : 'cpuMsB'] += cpu() - t0;
  };
  let digest = '';
  on('A', () => (digest = digestBody(a, n)));
  c.digestBytes = utf8Length(digest);
  for (const sb of b) {
    const sa = a.find((x) => x.id === sb.id);
    if (!sa) continue;
    let subs: string[] = [];
    on('B', () => (subs = subBodies(sb, n, (JSON.parse(digest) as { h: Record<string, string> }).h[sb.id])));
    c.subBytes += bytes(subs);
    let vers: string[] = [];
    on('A', () => (vers = subs.flatMap((s) => versionBodies(sa, n, xOf(s)))));
    c.versionBytes += bytes(vers);
    let recsB: string[] = [];
    let wants: string[] = [];
    on('B', () => {
      const d = { push: [] as string[], want: [] as string[] };
      for (const v of vers) {
        const r = decideVersions(sb, n, xOf(v));
        d.push.push(...r.push);
        d.want.push(...r.want);
      }
      const r = recordBodies(sb, d.push);
      recsB = r.bodies;
      c.pushed += r.count;
      c.wanted += d.want.length;
      wants = wantBodies(sb, d.want);
    });
    c.recordBytes += bytes(recsB);
    c.wantBytes += bytes(wants);
    let recsA: string[] = [];
    on('A', () => {
      const r = recordBodies(sa, wants.flatMap((w) => xOf(w).filter((k): k is string => typeof k === 'string')));
      recsA = r.bodies;
      c.pushed += r.count;
      c.applied += recsB.reduce((s, body) => s + applyRecords(sa, xOf(body)).length, 0);
    });
    c.recordBytes += bytes(recsA);
    on('B', () => (c.applied += recsA.reduce((s, body) => s + applyRecords(sb, xOf(body)).length, 0)));
  }
  return c;
}
