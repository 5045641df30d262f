// applyReplicated: records from DMQ, delivered late, duplicated and in any order, converge to the
// origin's final state; a delete leaves a tombstone so no late or duplicated update resurrects it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/ports/virtual-clock.ts';
import { LocationStore, type BindingChange } from '../../../src/actors/location/store.ts';
import { setup, T0 } from '../../registrar/helpers.ts';

type Step = { user: string; contact: string; callId: string; cseq: number; expires: number; wait: number };

/** a UA raises CSeq within a Call-ID (RFC 3261 §10.2): cseq is the step over the last one */
function originHistory(steps: Step[]) {
  const o = setup({}, { save_received: false });
  const last = new Map<string, number>();
  for (const s of steps) {
    const k = `${s.user} ${s.callId}`;
    const cseq = (last.get(k) ?? 0) + s.cseq;
    last.set(k, cseq);
    o.send({ user: s.user, contacts: [`<${s.contact}>`], callId: s.callId, cseq, expires: s.expires });
    o.clock.advance(s.wait * 1000);
  }
  const sent = o.changes.filter((c) => c.origin === 'local' && c.kind !== 'expire');
  return { o, sent };
}

function snapshot(store: LocationStore): string[] {
  return [...store.all()].map((b) => `${b.aor} ${b.c} ${b.callId} ${b.cseq} ${b.expires} ${b.lastModified}`).sort();
}

const stepArb = fc.record({
  user: fc.constantFrom('alice', 'bob'),
  contact: fc.constantFrom('sip:a@h', 'sip:b@h'),
  callId: fc.constantFrom('x', 'y'),
  cseq: fc.integer({ min: 1, max: 3 }),
  expires: fc.constantFrom(0, 0, 3600),
  wait: fc.integer({ min: 1, max: 5 }),
});

describe('applyReplicated', () => {
  it('any order and duplication of the origin\'s changes converges to the origin (no resurrection)', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 25 }), fc.array(fc.nat(), { maxLength: 20 }), fc.integer(), (steps, dups, seed) => {
        const { o, sent } = originHistory(steps);
        const msgs: BindingChange[] = [...sent, ...dups.filter(() => sent.length > 0).map((d) => sent[d % sent.length])];
        // deterministic shuffle from the seed
        const order = msgs.map((m, i) => ({ m, k: Math.imul(i + 1, seed | 1) ^ (seed >>> 7) })).sort((a, b) => a.k - b.k);
        const clock = new VirtualClock(o.clock.now());
        const out: BindingChange[] = [];
        const peer = new LocationStore(clock, { onChange: (c) => out.push(c) });
        for (const { m } of order) peer.applyReplicated(m.contact, m.kind === 'delete' ? 'delete' : 'update');
        expect(snapshot(peer)).toEqual(snapshot(o.store));
        expect(out.every((c) => c.origin === 'replicated')).toBe(true);
      }),
      { numRuns: Number(process.env.RUNS ?? 500) },
    );
  });

  it('a late duplicate update after a delete is refused until the tombstone is gone', () => {
    const o = setup({}, { save_received: false });
    o.send({ expires: 3600 });
    o.clock.advance(2000);
    o.send({ cseq: 2, expires: 0 });
    const [ins, del] = o.changes;
    expect(del.kind).toBe('delete');
    const clock = new VirtualClock(T0 + 3000);
    const peer = new LocationStore(clock, { tombstoneSeconds: 300 });
    expect(peer.applyReplicated(ins.contact, 'update')).toBe('inserted');
    expect(peer.applyReplicated(del.contact, 'delete')).toBe('deleted');
    expect(peer.applyReplicated(ins.contact, 'update')).toBe('tombstoned');
    expect(peer.tombstoneCount()).toBe(1);
    clock.advance(300_000);
    expect(peer.tombstoneCount()).toBe(0);
    // a newer registration (higher CSeq) is not a resurrection
    const peer2 = new LocationStore(new VirtualClock(T0 + 3000));
    peer2.applyReplicated(del.contact, 'delete');
    expect(peer2.applyReplicated({ ...ins.contact, cseq: 7, last_modified: ins.contact.last_modified + 10 }, 'update')).toBe('revived');
  });

  it('an already expired record is not stored', () => {
    const o = setup();
    o.send({ expires: 60 });
    const peer = new LocationStore(new VirtualClock(T0 + 61_000));
    expect(peer.applyReplicated(o.changes[0].contact, 'update')).toBe('expired');
    expect(peer.contactCount()).toBe(0);
  });
});
