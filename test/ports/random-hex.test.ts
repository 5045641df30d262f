// SeededRandom.hex (src/ports/random.ts) reads each byte's two digits from a table: the same
// text as formatting the low byte of each 32-bit draw, which next() exposes as u32 / 2^32.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SeededRandom } from '../../src/ports/random.ts';

describe('SeededRandom.hex', () => {
  it('is the low byte of each draw as two lower-case hex digits', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 40 }), (seed, bytes) => {
        const a = new SeededRandom(seed);
        const b = new SeededRandom(seed);
        let expected = '';
        for (let i = 0; i < bytes; i++) expected += ((b.next() * 0x1_0000_0000) & 0xff).toString(16).padStart(2, '0');
        expect(a.hex(bytes)).toBe(expected);
        expect(a.next()).toBe(b.next()); // and the stream goes on in step
      }),
      { numRuns: 300 },
    );
  });
});
