// SlabPool (src/sip/slab.ts): every alloc is a zero-filled view of the asked size that no other
// alloc shares, whether it comes from a slab, a fresh slab, or its own buffer (large sizes).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlabPool } from '../../src/sip/slab.ts';

describe('SlabPool', () => {
  it('hands out zeroed views that never overlap, like new Uint8Array(n)', () => {
    fc.assert(fc.property(fc.array(fc.nat({ max: 300 }), { maxLength: 60 }), (sizes) => {
      const pool = new SlabPool(512, 200);
      const got = sizes.map((n) => pool.alloc(n));
      got.forEach((v, i) => {
        expect(v.length).toBe(sizes[i]);
        expect(v.every((b) => b === 0)).toBe(true);
        v.fill(i + 1); // written after handing out: must not show through in any other view
      });
      got.forEach((v, i) => expect(v.every((b) => b === (i + 1) % 256)).toBe(true));
    }));
  });

  it('gives a large request a buffer of its own', () => {
    const v = new SlabPool(512, 200).alloc(201);
    expect(v.byteOffset).toBe(0);
    expect(v.buffer.byteLength).toBe(201);
  });
});
