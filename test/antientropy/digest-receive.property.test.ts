// A digest received by the kdmq-ae channel: whether its text is the receiver's own (answered
// without parsing) or not, the channel answers 200 and sends exactly the sub-bucket bodies
// subBodies computes for it, and marks the sender as a kdmq node.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KdmqNode } from '../../src/actors/node/create-node.ts';
import type { NodeId } from '../../src/actors/membership/node-list.ts';
import { AntiEntropy } from '../../src/antientropy/channel.ts';
import { digestBody, subBodies } from '../../src/antientropy/protocol.ts';
import { UsrlocSource } from '../../src/antientropy/usrloc-source.ts';
import type { UsrlocContact } from '../../src/actors/channels/usrloc-body.ts';
import { VirtualClock } from '../../src/ports/virtual-clock.ts';
import { LocationStore } from '../../src/actors/location/store.ts';
import type { SipRequest } from '../../src/sip/types.ts';

const NOW_MS = 1_795_000_000_000;
const NOW = NOW_MS / 1000;

function contact(aor: number, c: number, cseq: number): UsrlocContact {
  return {
    aor: `u${aor}`, ruid: `uloc-${aor}-${c}`, c: `sip:u${aor}@10.0.0.${c}:5060`, received: '', path: '',
    callid: `call-${aor}-${c}`, user_agent: 'p', instance: '', expires: NOW + 600, cseq, flags: 0, cflags: 0, q: -1,
    last_modified: NOW - 100 + cseq, methods: 4294967295, reg_id: 0, server_id: 0,
  };
}

function side(clock: VirtualClock) {
  let src!: UsrlocSource;
  const store = new LocationStore(clock, { onChange: (c) => src.touch(c.contact.aor) });
  src = new UsrlocSource({ store, announceDeletes: true });
  return { store, src };
}

const opArb = fc.record({
  side: fc.constantFrom(0, 1, 2), // 2: both
  aor: fc.integer({ min: 0, max: 40 }),
  c: fc.integer({ min: 0, max: 2 }),
  cseq: fc.integer({ min: 1, max: 5 }),
});

describe('kdmq-ae channel: a received digest', () => {
  it('gets the sub-bucket bodies subBodies computes (none when equal), parsed or not', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.constantFrom(16, 64), fc.constantFrom(16, 64), (ops, nA, nB) => {
        const clock = new VirtualClock(NOW_MS);
        const A = side(clock);
        const B = side(clock);
        const ref = side(clock); // B's twin, for subBodies
        for (const o of ops) {
          const r = contact(o.aor, o.c, o.cseq);
          const to = o.side === 2 ? [A, B, ref] : o.side === 0 ? [A] : [B, ref];
          for (const x of to) x.store.applyReplicated(r, 'update');
        }
        const sent: string[] = [];
        const marked: NodeId[] = [];
        const node = {
          list: { markKdmq: (id: NodeId) => marked.push(id) },
          kdmq: { send: (o: { body: string }) => sent.push(o.body) },
        } as unknown as KdmqNode;
        const ae = new AntiEntropy({ node, sources: [B.src], clock, intervalMs: 0, buckets: nB, window: 4 });
        const body = digestBody([A.src], nA);
        const req = { bodyText: () => body } as unknown as SipRequest;
        const from = { host: '10.0.0.1', port: 5090 } as unknown as NodeId;
        expect(ae.handle(req, from)).toEqual({ status: 200, reason: 'OK' });
        expect(marked).toEqual([from]);
        const want = subBodies(ref.src, nA, (JSON.parse(body) as { h: Record<string, string> }).h.ul);
        expect(sent).toEqual(want.slice(0, 4)); // sendWindowed: `window` in flight until answered
        expect(ae.stats.bad).toBe(0);
        for (const x of [A, B, ref]) x.store.stopTimers();
      }),
      { numRuns: 300 },
    );
  });
});
