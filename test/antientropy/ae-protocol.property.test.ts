// Anti-entropy codec and protocol as properties (specs/anti-entropy.md A2, A3): pack/unpack round
// trip within the body limit, hex digests and `differing`, the incremental two-level index equal
// to one built from scratch, and two location stores with random differences (inserts, updates,
// deletes on either side) equal after one in-process exchange (d → s → v → r/w → r), after
// which a second exchange finds nothing to do.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { differing, LeafIndex, SUB, toHex } from '../../src/antientropy/digest.ts';
import { exchange, MAX_BODY, pack } from '../../src/antientropy/protocol.ts';
import { UsrlocSource } from '../../src/antientropy/usrloc-source.ts';
import { LocationStore } from '../../src/actors/location/store.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import type { UsrlocContact } from '../../src/actors/channels/usrloc-body.ts';

const utf8 = (s: string) => Buffer.byteLength(s);

describe('anti-entropy codec', () => {
  it('pack: bodies parse back to the same items, in order, each within MAX_BODY', () => {
    const item = fc.oneof(fc.string({ maxLength: 3000 }), fc.integer(), fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { maxLength: 20 }));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 400 }), fc.constantFrom('v', 'w', 'r', 's'), fc.constantFrom('ul', 'ht'), fc.boolean(), (xs, t, s, withShape) => {
        const items = xs.map((x) => JSON.stringify(x));
        const bodies = pack(t, s, items, withShape ? '"n":1024,"m":32,' : '');
        const back: unknown[] = [];
        for (const b of bodies) {
          const m = JSON.parse(b) as { t: string; s: string; n?: number; m?: number; x: unknown[] };
          expect(m.t).toBe(t);
          expect(m.s).toBe(s);
          if (withShape) expect([m.n, m.m]).toEqual([1024, 32]);
          expect(m.x.length).toBeGreaterThan(0);
          if (m.x.length > 1) expect(utf8(b)).toBeLessThanOrEqual(MAX_BODY);
          back.push(...m.x);
        }
        expect(back).toEqual(xs);
      }),
      { numRuns: 200 },
    );
  });

  it('hex digests: differing() finds exactly the changed positions, rejects malformed hex', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 0xffffffff }), { minLength: 1, maxLength: 64 }), fc.array(fc.nat(), { maxLength: 8 }), (vals, changes) => {
        const a = Uint32Array.from(vals);
        const b = a.slice();
        for (const c of changes) b[c % b.length] = (b[c % b.length] + 1 + c) >>> 0;
        const want = [...a.keys()].filter((i) => a[i] !== b[i]);
        expect(differing(a, toHex(b))).toEqual(want);
        expect(differing(a, toHex(a))).toEqual([]);
        expect(differing(a, toHex(a).slice(1))).toBeNull();
        expect(differing(a, `${toHex(a).slice(0, -1)}g`)).toBeNull();
      }),
    );
  });

  it('LeafIndex: updated group by group = built from the final contributions; top = sum of leaves', () => {
    const op = fc.tuple(fc.integer({ min: 0, max: 40 }), fc.oneof(fc.constant(0), fc.nat({ max: 0xffffffff })));
    fc.assert(
      fc.property(fc.constantFrom(16, 64, 1024), fc.array(op, { maxLength: 300 }), (n, ops) => {
        const inc = new LeafIndex(n, SUB);
        const last = new Map<string, number>();
        for (const [g, c] of ops) {
          inc.set(`aor${g}`, c);
          last.set(`aor${g}`, c);
        }
        const fresh = new LeafIndex(n, SUB);
        for (const [g, c] of last) fresh.set(g, c);
        expect(inc.leaves).toEqual(fresh.leaves);
        expect(inc.size).toBe([...last.values()].filter((c) => c !== 0).length);
        const top = inc.top();
        for (let b = 0; b < n; b++) expect(top[b]).toBe(inc.sub(b).reduce((s, x) => (s + x) >>> 0, 0));
      }),
    );
  });
});

// ---- two stores, random differences, one exchange ----

const NOW_MS = 1_795_000_000_000;
const NOW = NOW_MS / 1000;

function contact(aor: number, c: number, gen: number, cseq: number): UsrlocContact {
  return {
    aor: `u${aor}`, ruid: `uloc-${aor}-${c}-${gen}`, c: `sip:u${aor}@10.0.0.${c}:5060`, received: '', path: '',
    callid: `call-${aor}-${c}-${gen}`, user_agent: 'p', instance: '', expires: NOW + 600, cseq, flags: 0, cflags: 0, q: -1,
    last_modified: NOW - 100 + cseq, methods: 4294967295, reg_id: 0, server_id: 0,
  };
}

type Op = { side: 0 | 1 | 2; kind: 'put' | 'del'; aor: number; c: number; gen: number; cseq: number };
const opArb: fc.Arbitrary<Op> = fc.record({
  side: fc.constantFrom(0 as const, 1 as const, 2 as const), // 2: both (the shared history)
  kind: fc.constantFrom('put' as const, 'put' as const, 'del' as const),
  aor: fc.integer({ min: 0, max: 12 }),
  c: fc.integer({ min: 0, max: 3 }),
  gen: fc.integer({ min: 0, max: 2 }),
  cseq: fc.integer({ min: 1, max: 9 }),
});

function node(clock: VirtualClock) {
  let src!: UsrlocSource;
  const store = new LocationStore(clock, { onChange: (c) => src.touch(c.contact.aor) });
  src = new UsrlocSource({ store, announceDeletes: true });
  return { store, src };
}

const live = (s: LocationStore) =>
  [...s.all()].map((b) => `${b.aor} ${b.c} ${b.ruid} ${b.callId} ${b.cseq} ${b.lastModified} ${b.expires}`).sort();

describe('anti-entropy exchange (in-process)', () => {
  it('two stores with random differences hold the same bindings after one exchange', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.constantFrom(16, 1024), fc.boolean(), (ops, n, early) => {
        const clock = new VirtualClock(NOW_MS);
        const A = node(clock);
        const B = node(clock);
        if (early) (A.src.index(n), B.src.index(n)); // indexes built before the changes: kept up to date
        for (const o of ops) {
          const r = contact(o.aor, o.c, o.gen, o.cseq);
          for (const x of o.side === 2 ? [A, B] : [[A, B][o.side]]) x.store.applyReplicated(r, o.kind === 'put' ? 'update' : 'delete');
        }
        exchange([A.src], [B.src], n);
        expect(live(A.store)).toEqual(live(B.store));
        const again = exchange([A.src], [B.src], n);
        expect(again.subBytes + again.versionBytes + again.recordBytes).toBe(0);
        A.store.stopTimers();
        B.store.stopTimers();
      }),
      { numRuns: 300 },
    );
  });
});
