// DigestMemo (the digest text kept while no top-level hex changes) returns what digestBody builds,
// through store changes and bucket counts that come and go.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DigestMemo, digestBody } from '../../src/antientropy/protocol.ts';
import { UsrlocSource } from '../../src/antientropy/usrloc-source.ts';
import { setup } from '../registrar/helpers.ts';

const stepArb = fc.record({
  user: fc.constantFrom('alice', 'bob', 'carol'),
  contact: fc.constantFrom('<sip:a@h>', '<sip:b@h>'),
  cseq: fc.integer({ min: 1, max: 2 }),
  expires: fc.constantFrom(0, 60, 3600),
  wait: fc.integer({ min: 0, max: 90 }),
  n: fc.constantFrom(16, 64, 1024),
});

describe('the digest body sent follows every store change', () => {
  it('equals digestBody of the same sources at every step', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 25 }), (steps) => {
        const a = setup({}, { save_received: false });
        const src = new UsrlocSource({ store: a.store, announceDeletes: false });
        const plain = new UsrlocSource({ store: a.store, announceDeletes: false });
        const memo = new DigestMemo([src]);
        let cseq = 0;
        for (const s of steps) {
          cseq += s.cseq;
          a.send({ user: s.user, contacts: [s.contact], callId: 'x', cseq, expires: s.expires });
          for (const c of a.changes.splice(0)) {
            src.touch(c.contact.aor);
            plain.touch(c.contact.aor);
          }
          a.clock.advance(s.wait * 1000);
          expect(memo.get(s.n)).toBe(digestBody([plain], s.n));
          expect(memo.get(s.n)).toBe(digestBody([src], s.n));
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 200) },
    );
  });
});
