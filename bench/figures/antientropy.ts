// Figures: cost of one anti-entropy round at 100 000 bindings (specs/anti-entropy.md A5), measured
// in-process on two location stores through the real adapter and codec: digest bytes and CPU ms
// of a round when the stores agree, and bytes / CPU of the repair when 1 % of the bindings differ
// (each side holds 500 the other lacks). No Kamailio counterpart (Kamailio has no anti-entropy).

import { UsrlocSource } from '../../src/antientropy/usrloc-source.ts';
import { decide, differing, toHex, type WireVersion } from '../../src/antientropy/digest.ts';
import { pack } from '../../src/antientropy/channel.ts';
import { LocationStore } from '../../src/registrar/store.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import type { UsrlocContact } from '../../src/dmq/usrloc-body.ts';
import type { Figure, Samples } from '../lib.ts';

const N = 100_000;
const BUCKETS = 1024;

function contact(i: number, nowSec: number, tag = ''): UsrlocContact {
  return {
    aor: `user${i}${tag}`, ruid: `uloc-6b0808a0-2d22-${i}${tag}`, c: `sip:user${i}@10.0.${(i >> 8) & 255}.${i & 255}:5060`, received: '', path: '',
    callid: `call-${i}${tag}@10.0.0.1`, user_agent: 'bench-ua/1.0', instance: '', expires: nowSec + 3600, cseq: 1, flags: 0, cflags: 0, q: -1,
    last_modified: nowSec, methods: 4294967295, reg_id: 0, server_id: 0,
  };
}

function cpuMs<T>(fn: () => T): [T, number] {
  const c0 = process.cpuUsage();
  const r = fn();
  const c = process.cpuUsage(c0);
  return [r, (c.user + c.system) / 1000];
}

function round(a: UsrlocSource, b: UsrlocSource): Samples {
  // A: snapshot + digest; B: snapshot + compare + versions of differing buckets; A: decide + records
  const [dA, msA] = cpuMs(() => a.snapshot(BUCKETS));
  const digest = JSON.stringify({ t: 'd', n: BUCKETS, h: { ul: toHex(dA.hashes) } });
  const [vb, msB] = cpuMs(() => {
    const sB = b.snapshot(BUCKETS);
    const diff = differing(sB.hashes, toHex(dA.hashes)) ?? [];
    return pack('v', 'ul', diff.map((x) => JSON.stringify([x, [...sB.buckets[x].values()].map((it) => it.v)])));
  });
  const [rec, msA2] = cpuMs(() => {
    const push: string[] = [];
    const want: string[] = [];
    for (const body of vb) {
      for (const [bucket, vs] of (JSON.parse(body) as { x: Array<[number, WireVersion[]]> }).x) {
        const theirs = new Map(vs.map((v) => [v[0], v]));
        const mine = dA.buckets[bucket];
        for (const k of new Set([...mine.keys(), ...theirs.keys()])) {
          const d = decide(mine.get(k)?.v, theirs.get(k), (x, y) => a.compare(x, y));
          if (d === 'push') push.push(k);
          else if (d === 'want') want.push(k);
        }
      }
    }
    return { recs: pack('r', 'ul', push.map((k) => JSON.stringify(a.record(k)))), want: pack('w', 'ul', want.map((k) => JSON.stringify(k))), pushed: push.length, wanted: want.length };
  });
  const bytes = (xs: string[]) => xs.reduce((s, x) => s + Buffer.byteLength(x), 0);
  return {
    digestBytes: Buffer.byteLength(digest),
    versionBytes: bytes(vb),
    recordBytes: bytes(rec.recs) + bytes(rec.want),
    cpuMs: msA + msB + msA2,
    digestCpuMs: msA,
    repaired: rec.pushed + rec.wanted,
  };
}

export const antiEntropyRoundFigure: Figure = {
  id: 'ae-round-100k',
  title: 'anti-entropy round at 100 000 bindings (two kdmq stores, in-process)',
  runs: () => 3,
  note: () => `${BUCKETS} buckets; "in sync": both stores equal; "1 % differs": 500 bindings only on each side. CPU = both sides, single thread; repairs themselves (applyReplicated) not included.`,
  rows: () => [
    { label: 'digest bytes per round per peer pair', unit: 'B', kdmq: 'sync.digestBytes', kamailioNote: 'no anti-entropy in Kamailio' },
    { label: 'CPU per round, stores in sync (both sides)', unit: 'ms', kdmq: 'sync.cpuMs', kamailioNote: 'no anti-entropy in Kamailio' },
    { label: 'versions bytes, 1 % differs', unit: 'B', kdmq: 'diff.versionBytes' },
    { label: 'repair bytes (records + wants), 1 % differs', unit: 'B', kdmq: 'diff.recordBytes' },
    { label: 'CPU per round, 1 % differs (both sides)', unit: 'ms', kdmq: 'diff.cpuMs' },
    { label: 'bindings repaired, 1 % differs', unit: '', kdmq: 'diff.repaired' },
  ],
  async run() {
    const clock = new VirtualClock(1_795_000_000_000);
    const now = Math.floor(clock.now() / 1000);
    const A = new LocationStore(clock);
    const B = new LocationStore(clock);
    for (let i = 0; i < N; i++) {
      const c = contact(i, now);
      A.applyReplicated(c, 'update');
      B.applyReplicated(c, 'update');
    }
    const a = new UsrlocSource({ store: A, announceDeletes: true });
    const b = new UsrlocSource({ store: B, announceDeletes: true });
    const sync = round(a, b);
    for (let i = 0; i < 500; i++) {
      A.applyReplicated(contact(N + i, now, 'a'), 'update');
      B.applyReplicated(contact(N + i, now, 'b'), 'update');
    }
    const diff = round(a, b);
    const out: Samples = {};
    for (const [k, v] of Object.entries(sync)) out[`sync.${k}`] = v;
    for (const [k, v] of Object.entries(diff)) out[`diff.${k}`] = v;
    A.stopTimers();
    B.stopTimers();
    return out;
  },
};
