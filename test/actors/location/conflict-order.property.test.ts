// The conflict order of specs/replication.md R3 (issue #14 item 3) as properties: a strict total
// order over random versions with colliding Call-IDs, CSeqs and times, and over arbitrary values a
// Kamailio node may write; two replicas fed the same versions in any two delivery orders keep the
// same winner (binding machine table and location store); a local write is always the newer one.
// The old order (planted bug 'cyclic-order') fails on the triple of R3's example.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cyclicOrder, orderFor, versionOrder, type BindingContent, type BindingState, type BindingVersion, type VersionOrder } from '../../../src/actors/location/binding-machine.ts';
import type { UsrlocContact } from '../../../src/actors/channels/usrloc-body.ts';
import { VirtualClock } from '../../../src/ports/virtual-clock.ts';
import { writeTime } from '../../../src/registrar/registrar.ts';
import { LocationStore } from '../../../src/actors/location/store.ts';
import { step } from '../../../src/actors/location/transition-table.ts';
import { noFaults, plantFaults, type Faults } from '../../../src/ports/faults.ts';
import { T0 } from '../../registrar/helpers.ts';

const RUNS = Number(process.env.RUNS ?? 2000);
const NOW = Math.floor(T0 / 1000);

/** small alphabets, so that Call-IDs, CSeqs, times and ruids collide */
const small = fc.record({
  callId: fc.constantFrom('x', 'y', 'z'),
  cseq: fc.integer({ min: 1, max: 3 }),
  lastModified: fc.integer({ min: NOW, max: NOW + 3 }),
  ruid: fc.constantFrom('r1', 'r2'),
  expires: fc.constant(NOW + 3600),
});

/** anything a Kamailio node may put in a record: its clock, its CSeq, any Call-ID and ruid */
const kamailio = fc.record({
  callId: fc.oneof(fc.string(), fc.constantFrom('x', 'y')),
  cseq: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 3 })),
  lastModified: fc.oneof(fc.integer({ min: -(2 ** 31), max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: NOW, max: NOW + 2 })),
  ruid: fc.oneof(fc.string(), fc.constantFrom('r1', 'r2')),
  expires: fc.nat(),
});

const sameKey = (a: BindingVersion, b: BindingVersion) =>
  a.lastModified === b.lastModified && a.cseq === b.cseq && a.callId === b.callId && a.ruid === b.ruid;
const sgn = (x: number) => Math.sign(x);

function isStrictTotalOrder(cmp: (a: BindingVersion, b: BindingVersion) => number, a: BindingVersion, b: BindingVersion, c: BindingVersion): void {
  expect(cmp(a, a)).toBe(0);
  expect(sgn(cmp(a, b)) + sgn(cmp(b, a))).toBe(0);
  // only the same version compares 0: for a ≠ b exactly one of a < b, b < a
  expect(cmp(a, b) === 0).toBe(sameKey(a, b));
  if (cmp(a, b) > 0 && cmp(b, c) > 0) expect(cmp(a, c)).toBeGreaterThan(0);
  if (cmp(a, b) >= 0 && cmp(b, c) >= 0) expect(cmp(a, c)).toBeGreaterThanOrEqual(0);
}

describe('conflict order (R3): a strict total order', () => {
  it('antisymmetric, transitive and total over triples with colliding Call-IDs', () => {
    fc.assert(fc.property(small, small, small, (a, b, c) => isStrictTotalOrder(versionOrder, a, b, c)), { numRuns: RUNS });
  });

  it('total over arbitrary Kamailio-written values', () => {
    fc.assert(fc.property(kamailio, kamailio, kamailio, (a, b, c) => isStrictTotalOrder(versionOrder, a, b, c)), { numRuns: RUNS });
  });

  it("R3's example: a Kamailio refresh with a higher CSeq but an older last_modified loses", () => {
    const a = { callId: 'x', cseq: 2, lastModified: 100, ruid: 'r', expires: 0 };
    const b = { callId: 'x', cseq: 1, lastModified: 105, ruid: 'r', expires: 0 };
    const c = { callId: 'y', cseq: 1, lastModified: 103, ruid: 'r', expires: 0 };
    expect([a, b, c].sort(versionOrder)).toEqual([a, c, b]);
    // the order before issue #14 goes round in a circle: a > b > c > a
    expect([cyclicOrder(a, b), cyclicOrder(b, c), cyclicOrder(c, a)].every((x) => x > 0)).toBe(true);
    expect(() => fc.assert(fc.property(small, small, small, (x, y, z) => isStrictTotalOrder(cyclicOrder, x, y, z)), { numRuns: RUNS }))
      .toThrow();
  });

  it("a store applies versionOrder, cyclicOrder only with the planted fault 'cyclic-order'", () => {
    expect(orderFor(noFaults)).toBe(versionOrder);
    expect(orderFor(plantFaults(['cyclic-order']))).toBe(cyclicOrder);
    expect(orderFor(plantFaults(['no-cseq-guard']))).toBe(versionOrder);
    expect(new LocationStore(new VirtualClock(T0)).order).toBe(versionOrder);
    expect(new LocationStore(new VirtualClock(T0), { faults: plantFaults(['cyclic-order']) }).order).toBe(cyclicOrder);
  });
});

describe('local writes (writeTime, a hybrid logical clock): newer than what they supersede', () => {
  it('a refresh with a higher CSeq or a write of another Call-ID is greater in the order, whatever the clock', () => {
    fc.assert(
      fc.property(kamailio, fc.integer({ min: NOW - 5, max: NOW + 5 }), fc.boolean(), fc.integer({ min: 1, max: 5 }), (prev, nowSec, same, up) => {
        const callId = same ? prev.callId : `${prev.callId}-new`;
        const cseq = same ? prev.cseq + up : 1;
        const lastModified = writeTime(nowSec, callId, prev);
        expect(lastModified).toBeGreaterThanOrEqual(Math.max(nowSec, prev.lastModified));
        expect(versionOrder({ callId, cseq, lastModified, ruid: prev.ruid, expires: 0 }, prev)).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
  });
});

/** one replica as the binding machine's table sees it: state + held version */
function machineReplica(first: BindingVersion, arrivals: BindingVersion[], order: VersionOrder): BindingVersion {
  let state: BindingState = 'active';
  let held = first;
  for (const v of arrivals) {
    // the guards read the version's fields only
    const next = step(state, held, { type: 'binding.replicatedUpdate', version: v as BindingContent, nowSec: NOW }, order);
    if (next !== null) {
      state = next;
      held = v;
    }
  }
  return held;
}

const record = (v: BindingVersion): UsrlocContact => ({
  aor: 'alice', ruid: v.ruid, c: 'sip:alice@10.0.0.1', received: '', path: '', callid: v.callId, user_agent: 'ua',
  instance: '', expires: v.expires, cseq: v.cseq, flags: 0, cflags: 0, q: -1, last_modified: v.lastModified,
  methods: 0xffffffff, reg_id: 0, server_id: 0,
});

/** one replica as a location store: the records applied in order; the live binding's version, or 'deleted' */
function storeReplica(arrivals: Array<{ v: BindingVersion; del: boolean }>, faults: Faults): string {
  const s = new LocationStore(new VirtualClock(T0), { faults });
  for (const a of arrivals) s.applyReplicated(record(a.v), a.del ? 'delete' : 'update');
  const live = [...s.all()];
  expect(live.length).toBeLessThanOrEqual(1);
  return live.length === 0 ? 'deleted' : `${live[0].callId} ${live[0].cseq} ${live[0].lastModified} ${live[0].ruid}`;
}

/** the same set twice, in two delivery orders */
const twoOrders = <T>(arb: fc.Arbitrary<T>) =>
  fc.array(arb, { minLength: 1, maxLength: 7 }).chain((xs) =>
    fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs, { minLength: xs.length, maxLength: xs.length })));

const arrival = fc.record({ v: small, del: fc.boolean() });

/** the machine's replicas agree (and, `checkMax`, keep the greatest version) */
const machineAgrees = (checkMax: boolean, order: VersionOrder = versionOrder) =>
  fc.property(small, twoOrders(small), (first, [p, q]) => {
    const a = machineReplica(first, p, order);
    expect(machineReplica(first, q, order)).toEqual(a);
    if (checkMax) expect(a).toEqual([first, ...p].reduce((m, v) => (versionOrder(v, m) > 0 ? v : m)));
  });

/** the stores agree (and, `checkMax`, hold the greatest version, nothing when that is a delete) */
const storesAgree = (checkMax: boolean, faults: Faults = noFaults) =>
  fc.property(twoOrders(arrival), ([p, q]) => {
    const a = storeReplica(p, faults);
    expect(storeReplica(q, faults)).toBe(a);
    if (!checkMax) return;
    const max = p.reduce((m, x) => {
      const c = versionOrder(x.v, m.v);
      return c > 0 || (c === 0 && x.del) ? x : m;
    });
    expect(a).toBe(max.del ? 'deleted' : `${max.v.callId} ${max.v.cseq} ${max.v.lastModified} ${max.v.ruid}`);
  });

describe('any delivery order to two replicas ends with the same winner', () => {
  it('binding machine table: every replica keeps the greatest version', () => {
    fc.assert(machineAgrees(true), { numRuns: RUNS });
  });

  it('location store, updates and deletes of one contact under two ruids: the greatest wins, a delete on a tie', () => {
    fc.assert(storesAgree(true), { numRuns: RUNS });
  });

  it("with the old order (planted bug 'cyclic-order') two replicas can keep different winners", () => {
    expect(() => fc.assert(machineAgrees(false, cyclicOrder), { numRuns: RUNS })).toThrow();
    expect(() => fc.assert(storesAgree(false, plantFaults(['cyclic-order'])), { numRuns: RUNS })).toThrow();
  });
});
