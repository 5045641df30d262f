// LeafIndex.topHex (the digest text kept until a group changes) equals toHex(top()) after any
// sequence of group changes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeafIndex, SUB, toHex } from '../../src/antientropy/digest.ts';

describe('the top digest text follows every group change (LeafIndex.topHex)', () => {
  it('equals toHex(top()) after every set', () => {
    const op = fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'sip:u0@x'), fc.constantFrom(0, 1, 2, 0xffffffff, 12345));
    fc.assert(
      fc.property(fc.constantFrom(16, 64), fc.array(op, { maxLength: 30 }), (n, ops) => {
        const x = new LeafIndex(n, SUB);
        expect(x.topHex()).toBe(toHex(x.top()));
        for (const [g, c] of ops) {
          x.set(g, c);
          expect(x.topHex()).toBe(toHex(x.top()));
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 300) },
    );
  });
});
