// The store's contact index answers match() exactly as a scan of the AoR's list does, whatever
// replicated inserts, updates (that may move a ruid to another Contact URI or instance, so that
// several bindings share a key), deletes and expiries came before, as AoRs grow past the size that
// gets an index and shrink back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/ports/virtual-clock.ts';
import { LocationStore } from '../../../src/actors/location/store.ts';
import { ContactIndex, scanMatch } from '../../../src/actors/location/contact-index.ts';
import { Binding, TraitsPool } from '../../../src/actors/location/binding.ts';
import type { UsrlocContact } from '../../../src/actors/channels/usrloc-body.ts';

const T0 = 1_795_689_727_000;
const AORS = ['alice', 'alice', 'alice', 'bob'];
const URIS = Array.from({ length: 40 }, (_, i) => `sip:${i}@h`);
const INSTANCES = ['', '', '<urn:uuid:1>', '<urn:uuid:2>'];

const opArb = fc.record({
  action: fc.constantFrom<'update' | 'delete'>('update', 'update', 'update', 'update', 'delete'),
  aor: fc.constantFrom(...AORS),
  ruid: fc.integer({ min: 0, max: 59 }).map((i) => `r${i}`),
  c: fc.constantFrom(...URIS),
  instance: fc.constantFrom(...INSTANCES),
  regId: fc.constantFrom(0, 1),
  q: fc.constantFrom(-1, 500, 1000),
  cseq: fc.integer({ min: 1, max: 20 }),
  callid: fc.constantFrom('x', 'y'),
  expires: fc.constantFrom(0, 30, 3600, 3600),
  wait: fc.constantFrom(0, 0, 0, 1, 5, 40),
});

type Op = { aor: string; ruid: string; c: string; instance: string; regId: number; q: number; cseq: number; callid: string; expires: number };

function record(o: Op, nowSec: number, seq: number): UsrlocContact {
  return {
    aor: o.aor, ruid: o.ruid, c: o.c, received: '', path: '', callid: o.callid, user_agent: 'ua', instance: o.instance,
    expires: o.expires === 0 ? 0 : nowSec + o.expires, cseq: o.cseq, flags: 0, cflags: 0, q: o.q, last_modified: nowSec + seq,
    methods: 4294967295, reg_id: o.regId, server_id: 0,
  };
}

describe('ContactIndex', () => {
  it('store.match equals a scan of the AoR list after any sequence of replicated changes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 80, maxLength: 200, size: "max" }), (ops) => {
        const clock = new VirtualClock(T0);
        const store = new LocationStore(clock, { tombstoneSeconds: 20 });
        let seq = 0;
        let mismatches = 0;
        for (const o of ops) {
          store.applyReplicated(record(o, store.nowSec(), seq++), o.action);
          clock.advance(o.wait * 1000);
          for (const aor of ['alice', 'bob', 'carol']) {
            for (const c of URIS) {
              for (const instance of INSTANCES) {
                for (const regId of [0, 1]) {
                  if (store.match(aor, c, instance, regId) !== scanMatch(store.get(aor), c, instance, regId)) mismatches++;
                }
              }
            }
          }
        }
        expect(mismatches).toBe(0);
      }),
      { numRuns: Number(process.env.RUNS ?? 100) },
    );
  });
});

describe('ContactIndex thresholds', () => {
  it('builds an index past buildAt bindings and drops it at dropAt', () => {
    const clock = new VirtualClock(T0);
    const store = new LocationStore(clock, { tombstoneSeconds: 20 });
    const now = store.nowSec();
    const base = { aor: 'alice', instance: '', regId: 0, q: -1, cseq: 1, callid: 'x', expires: 3600 };
    for (let i = 0; i < 17; i++) store.applyReplicated(record({ ...base, ruid: `r${i}`, c: `sip:${i}@h` }, now, i), 'update');
    const idx = (store as unknown as { byContact: { indexedAors(): number } }).byContact;
    expect(idx.indexedAors()).toBe(1);
    for (let i = 0; i < 9; i++) store.applyReplicated(record({ ...base, ruid: `r${i}`, c: `sip:${i}@h`, cseq: 2 }, now, 100 + i), 'delete');
    expect(idx.indexedAors()).toBe(0);
    expect(store.match('alice', 'sip:12@h', '', 0)?.ruid).toBe('r12');
  });
});

describe('ContactIndex with small thresholds', () => {
  it('match equals scanMatch through builds, drops, rekeys and shared keys', () => {
    const op = fc.record({
      kind: fc.constantFrom('add', 'add', 'remove', 'rekey'),
      aor: fc.constantFrom('a', 'b'),
      pick: fc.nat(),
      c: fc.constantFrom('u1', 'u2', 'u3'),
      instance: fc.constantFrom('', '', 'i1', 'i2'),
      regId: fc.constantFrom(0, 1),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const idx = new ContactIndex(2, 1);
        const pool = new TraitsPool();
        const lists = new Map<string, Binding[]>([['a', []], ['b', []]]);
        let n = 0;
        for (const o of ops) {
          const list = lists.get(o.aor)!;
          if (o.kind === 'add') {
            const b = new Binding({
              aor: o.aor, ruid: `r${n++}`, c: o.c, received: '', path: '', callId: 'x', userAgent: 'ua', instance: o.instance,
              expires: 0, cseq: 1, flags: 0, cflags: 0, q: -1, lastModified: 0, methods: -1, regId: o.regId, serverId: 0, replicated: true,
            }, pool);
            list.splice(o.pick % (list.length + 1), 0, b);
            idx.added(b, list);
          } else if (list.length > 0) {
            const b = list[o.pick % list.length];
            if (o.kind === 'remove') {
              list.splice(list.indexOf(b), 1);
              idx.removed(b, list);
            } else {
              idx.unkeyed(b);
              b.c = o.c;
              b.instance = o.instance;
              b.traits = pool.of({ ...b.traits, regId: o.regId });
              idx.rekeyed(b);
            }
          }
          for (const [aor, l] of lists) {
            for (const c of ['u1', 'u2', 'u3', 'u4']) {
              for (const instance of ['', 'i1', 'i2', 'i3']) {
                for (const regId of [0, 1]) expect(idx.match(l, aor, c, instance, regId)).toBe(scanMatch(l, c, instance, regId));
              }
            }
          }
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 300) },
    );
  });
});
